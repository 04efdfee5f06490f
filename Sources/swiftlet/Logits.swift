// `swiftlet logits`: the logits (or final hidden states) at every position of given ids, as float32 rows.

import Engine
import TensorFile

enum Logits {
    static let usage = "swiftlet logits -m MODEL --ids 1,2,3 [--type-ids 0,0,1] [--decoder-ids 0,5] [--hidden] --out FILE [--json] "
        + "[--ctx C] [--cache-type f16|f32] [-t THREADS] [-v]"

    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        let f = try Flags(args, valued: Common.sessionFlags.union(["--ids", "--out", "--type-ids", "--decoder-ids"]),
                          booleans: ["--json", "--hidden", "-v"])
        guard f.positionals.isEmpty else { throw CLIError("unexpected argument '\(f.positionals[0])' (\(usage))") }
        guard let idList = f.value("--ids") else { throw CLIError("no --ids (\(usage))") }
        guard let out = f.value("--out") else { throw CLIError("no --out FILE (\(usage))") }
        try AtomicFileWriter.checkReplaceable(out)  // before any work (the writer checks again)
        let ids = try Common.ids(idList, flag: "--ids")
        let model = try Model(path: try Common.modelPath(f, usage: usage))
        if model.encoder != nil { return try encoder(model, ids, f, out: out) }
        if model.isEncoderDecoder { return try encoderDecoder(model, ids, f, out: out) }
        for flag in ["--type-ids", "--decoder-ids"] where f.value(flag) != nil {
            throw CLIError("\(flag) is for encoder and encoder-decoder models; this is a decoder")
        }
        var o = try Common.sessionOptions(f, allLogits: true)
        if o.context == 0 { o.context = ids.count }
        let session = try Session(model, o)
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

    /// An encoder's MLM logits at every position, or its final hidden states (--hidden, or a model without an
    /// MLM head).
    static func encoder(_ model: Model, _ ids: [Int32], _ f: Flags, out: String) throws -> Int32 {
        if f.value("--decoder-ids") != nil { throw CLIError("--decoder-ids is for encoder-decoder models; this is an encoder") }
        let types = try f.value("--type-ids").map { try Common.ids($0, flag: "--type-ids") } ?? []
        var o = EncoderOptions()
        o.threads = try f.int(f.value("-t") != nil ? "-t" : "--threads", default: 0, range: 0...1024)
        let session = try EncoderSession(model, o)
        try session.run([EncoderInput(ids: ids, typeIds: types)])
        let writer = try AtomicFileWriter(path: out)
        let cols: Int
        if f.has("--hidden") || !session.encoder.hasMaskedLM {
            cols = session.encoder.shape.dim
            try writer.write(UnsafeRawBufferPointer(session.hidden(0)))
        } else {
            cols = session.encoder.shape.vocab
            var failure: TensorFileError?
            try session.maskedLM(0, at: Array(ids.indices)) { _, logits in
                do throws(TensorFileError) { try writer.write(UnsafeRawBufferPointer(logits)) } catch { failure = error }
            }
            if let failure { throw failure }
        }
        try writer.commit()
        writeOut("{\"shape\":[\(ids.count),\(cols)]}\n")
        return 0
    }

    /// An encoder-decoder: --ids is the source; the decoder logits at every position of --decoder-ids, or with
    /// --hidden the encoder's output.
    static func encoderDecoder(_ model: Model, _ ids: [Int32], _ f: Flags, out: String) throws -> Int32 {
        var o = Seq2SeqOptions()
        o.threads = try f.int(f.value("-t") != nil ? "-t" : "--threads", default: 0, range: 0...1024)
        let target = try f.value("--decoder-ids").map { try Common.ids($0, flag: "--decoder-ids") }
        if target == nil, !f.has("--hidden") {
            throw CLIError("an encoder-decoder needs --decoder-ids (or --hidden for the encoder's output)")
        }
        o.source = ids.count
        o.target = max(1, target?.count ?? 1)
        o.allLogits = true
        o.halfCache = try Common.halfCache(f)
        let session = try Seq2SeqSession(model, o)
        try session.encode(ids)
        Common.reportMemory(session, f)
        let writer = try AtomicFileWriter(path: out)
        let shape: (Int, Int)
        if let target, !f.has("--hidden") {
            try writer.write(UnsafeRawBufferPointer(try session.decode(target)))
            shape = (target.count, model.vocabSize)
        } else {
            try writer.write(UnsafeRawBufferPointer(session.encoded))
            shape = (ids.count, model.width)
        }
        try writer.commit()
        writeOut("{\"shape\":[\(shape.0),\(shape.1)]}\n")
        return 0
    }
}
