// `swiftlet inspect MODEL [--json]`: a GGUF file's metadata and tensor table, as the gguf package reads them.

import Quant
import TensorFile

enum Inspect {
    static let usage = "swiftlet inspect MODEL [--json]"

    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        let flags = try Flags(args, valued: [], booleans: ["--json"])
        guard flags.positionals.count == 1 else { throw CLIError("usage: \(usage)") }
        let file = try GGUFFile(path: flags.positionals[0])
        writeOut(flags.has("--json") ? jsonReport(file) : table(file))
        return 0
    }

    static func jsonReport(_ f: GGUFFile) -> String {
        var out = "{\"architecture\":" + ((try? f.architecture()).map(jsonQuoted) ?? "null")
        out += ",\"version\":\(f.version),\"alignment\":\(f.alignment),\"data_offset\":\(f.dataOffset)"
        out += ",\"metadata\":{"
        for (i, kv) in f.metadata.enumerated() {
            out += (i > 0 ? "," : "") + jsonQuoted(kv.key) + ":" + json(kv.value)
        }
        out += "},\"tensors\":["
        for (i, t) in f.tensors.enumerated() {
            out += (i > 0 ? "," : "") + "{\"name\":\(jsonQuoted(t.name)),\"type\":\"\(t.type.name)\","
            out += "\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"offset\":\(t.offset),\"bytes\":\(t.byteCount)}"
        }
        return out + "],\"file_bytes\":\(f.file.count)}\n"
    }

    static func table(_ f: GGUFFile) -> String {
        var out = "\(f.path): GGUF v\(f.version), \(f.metadata.count) keys, \(f.tensors.count) tensors, \(f.file.count) bytes\n\n"
        for (key, value) in f.metadata { out += "\(key) = \(summary(value))\n" }
        let nameWidth = max(4, f.tensors.map(\.name.count).max() ?? 0)
        out += "\n" + pad("name", nameWidth) + "  " + pad("type", 5) + "  " + pad("shape", 22) + "  " + pad("offset", 12) + "  bytes\n"
        for t in f.tensors {
            out += pad(t.name, nameWidth) + "  " + pad(t.type.name, 5) + "  " + pad("\(t.shape)", 22) + "  "
                + pad("\(t.offset)", 12) + "  \(t.byteCount)\n"
        }
        return out
    }

    /// One line per value: arrays show their length and first elements.
    static func summary(_ v: GGUFValue) -> String {
        guard case let .array(a) = v else {
            let s = json(v)
            return s.count > 120 ? String(s.prefix(117)) + "..." : s
        }
        let text = json(a)
        let head = text.count > 100 ? String(text.prefix(97)) + "..." : text
        return "[\(a.count) × \(a.elementType.name)] \(head)"
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
}
