// quantize INPUT OUTPUT [--type TYPE] [--threads N] [--quiet], TYPE one of the computable types (Quant's table)
// INPUT is a Hugging Face model directory or a GGUF file; OUTPUT appears whole or not at all.

import Converter
import Quant
import TensorFile
#if canImport(Glibc)
import Glibc
#endif

let typeNames = GGMLType.allCases.filter(\.isComputable).map { $0.name.lowercased() }
let usage = "usage: quantize INPUT OUTPUT [--type \(typeNames.joined(separator: "|"))] [--threads N] [--quiet]"

func fail(_ message: String) -> Never {
    // On a terminal, replace any progress line rather than append to it.
    printErr((isatty(2) == 1 ? "\r\u{1b}[K" : "") + "error: " + printable(message))
    exit(1)
}

if let i = invalidUTF8Argument() { fail("argument \(i) is not valid UTF-8 (paths are read as UTF-8)") }
var positionals: [String] = []
var options = ConvertOptions()
options.threads = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
var rest = CommandLine.arguments.dropFirst()
while let a = rest.popFirst() {
    switch a {
    case "-h", "--help":
        print(usage)
        exit(0)
    case "--quiet", "-q":
        options.quiet = true
    case "--type", "--threads", "-t":
        guard let v = rest.popFirst() else { fail("\(a) needs a value") }
        if a == "--type" {
            guard let t = GGMLType(name: v), t.isComputable else { fail("--type '\(v)': expected one of \(typeNames.joined(separator: ", "))") }
            options.type = t
        } else {
            guard let n = Int(v), (1...1024).contains(n) else { fail("\(a) '\(v)': expected a thread count from 1 to 1024") }
            options.threads = n
        }
    default:
        if a.hasPrefix("-"), a.count > 1 { fail("unknown option '\(a)' (see quantize --help)") }
        positionals.append(a)
    }
}
guard positionals.count == 2 else { fail("expected INPUT and OUTPUT, got \(positionals.count) arguments; \(usage)") }

TemporaryFiles.removeOnInterrupt()
do {
    _ = try Converter.run(input: positionals[0], output: positionals[1], options: options)
} catch {
    fail(error.description)
}
