// A hand-written flag parser: `--name value`, `--name=value`, boolean `--name`, and positionals.

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ s: String) { description = s }
}

struct Flags {
    var positionals: [String] = []
    private var values: [String: String] = [:]
    private var switches: Set<String> = []

    /// Two spellings of one flag (docs/CLI.md): giving both is giving it twice.
    static let aliases = ["--model": "-m", "--threads": "-t", "--ctx": "-c", "--batch": "-b", "--prompt": "-p",
                          "--n-predict": "-n", "--file": "-f"]

    /// Parses `args`; `valued` names the flags that take a value and `booleans` those that do not. A valued flag
    /// given twice is an error (the last one silently won).
    init(_ args: ArraySlice<String>, valued: Set<String>, booleans: Set<String>) throws(CLIError) {
        var given: [String: String] = [:]  // a flag's first spelling, by its canonical one
        var i = args.startIndex
        while i < args.endIndex {
            let a = args[i]
            i += 1
            guard a.hasPrefix("-"), a.count > 1, !a.allSatisfy({ $0 == "-" }) || a == "--" else {
                positionals.append(a)
                continue
            }
            if a == "--" {
                positionals += args[i...]
                break
            }
            var name = a, inline: String?
            if let eq = a.firstIndex(of: "=") {
                name = String(a[..<eq])
                inline = String(a[a.index(after: eq)...])
            }
            if booleans.contains(name), inline == nil {
                switches.insert(name)
            } else if valued.contains(name) {
                if let first = given.updateValue(name, forKey: Self.aliases[name] ?? name) {
                    throw CLIError(first == name ? "\(name) is given twice" : "\(first) and \(name) are one flag, given twice")
                }
                if let inline {
                    values[name] = inline
                } else {
                    guard i < args.endIndex else { throw CLIError("\(name) needs a value") }
                    values[name] = args[i]
                    i += 1
                }
            } else {
                throw CLIError("unknown option '\(a)'")
            }
        }
    }

    func has(_ name: String) -> Bool { switches.contains(name) }
    func value(_ name: String) -> String? { values[name] }

    func int(_ name: String, default d: Int, range: ClosedRange<Int>) throws(CLIError) -> Int {
        guard let s = values[name] else { return d }
        guard let n = Int(s), range.contains(n) else {
            throw CLIError("\(name) '\(s)' is not an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    func float(_ name: String, default d: Float, range: ClosedRange<Float>) throws(CLIError) -> Float {
        guard let s = values[name] else { return d }
        guard let x = Float(s), range.contains(x) else {
            throw CLIError("\(name) '\(s)' is not a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return x
    }
}
