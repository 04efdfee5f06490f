// `swiftlet tokenize -m MODEL [--no-special] [--no-parse-special] [--json] TEXT`: the model's token ids for TEXT.

import Engine
import TensorFile

enum Tokenize {
    static let usage = "swiftlet tokenize -m MODEL [--no-special] [--no-parse-special] [--json] TEXT"

    /// Prints `{"ids":[...],"tokens":[...]}` with --json, else one `id<TAB>token` line per token; tokens are
    /// vocabulary strings as stored (byte-level spelling: "Ġ" is a space). --no-special: no BOS/EOS added;
    /// --no-parse-special: control tokens written in TEXT are tokenized as plain text.
    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        let flags = try Flags(args, valued: ["-m", "--model"], booleans: ["--no-special", "--no-parse-special", "--json"])
        guard let path = flags.value("-m") ?? flags.value("--model"), flags.positionals.count == 1 else {
            throw CLIError("usage: \(usage)")
        }
        let tokenizer = try Tokenizer(GGUFFile(path: path))
        let ids = tokenizer.encode(flags.positionals[0], addSpecial: !flags.has("--no-special"),
                                   parseSpecial: !flags.has("--no-parse-special"))
        if flags.has("--json") {
            let idList = ids.map(String.init).joined(separator: ",")
            let tokenList = ids.map { jsonQuoted(tokenizer.token($0)) }.joined(separator: ",")
            writeOut("{\"ids\":[\(idList)],\"tokens\":[\(tokenList)]}\n")
        } else {
            writeOut(ids.map { "\($0)\t\(tokenizer.token($0))\n" }.joined())
        }
        return 0
    }
}
