// `swiftlet logits`: the logits (or final hidden states) at every position of given ids, as float32 rows.

import Engine
import TensorFile

enum Logits {
    static let usage = "swiftlet logits -m MODEL --ids 1,2,3 [--hidden] --out FILE [--json] [--ctx C] [-t THREADS]"

    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        let f = try Flags(args, valued: Common.sessionFlags.union(["--ids", "--out", "--type-ids", "--decoder-ids"]),
                          booleans: ["--json", "--hidden", "-v"])
        guard f.positionals.isEmpty else { throw CLIError("unexpected argument '\(f.positionals[0])' (\(usage))") }
        guard let idList = f.value("--ids") else { throw CLIError("no --ids (\(usage))") }
        guard let out = f.value("--out") else { throw CLIError("no --out FILE (\(usage))") }
        for flag in ["--type-ids", "--decoder-ids"] where f.value(flag) != nil {
            throw CLIError("\(flag) is for encoder and encoder-decoder models, which come with issues 5 and 6")
        }
        let ids = try Common.ids(idList, flag: "--ids")
        var o = try Common.sessionOptions(f, allLogits: true)
        if o.context == 0 { o.context = ids.count }
        let (session, _) = try Common.open(f, o, usage: usage)
        try ids.withUnsafeBufferPointer { try session.checkVocabulary($0) }
        Common.reportMemory(session, f)
        let hidden = f.has("--hidden")
        let cols = hidden ? session.shape.dim : session.shape.vocab
        let writer = try AtomicFileWriter(path: out)
        var failure: TensorFileError?
        try ids.withUnsafeBufferPointer { p in
            _ = try session.evaluate(p) { _, logits, states in
                do throws(TensorFileError) { try writer.write(UnsafeRawBufferPointer(hidden ? states : logits)) } catch { failure = error }
            }
        }
        if let failure { throw failure }
        try writer.commit()
        writeOut("{\"shape\":[\(ids.count),\(cols)]}\n")
        return 0
    }
}
