// `swiftlet embed`: sentence vectors, pooled as the model's metadata says, texts packed into passes.

import Engine
import TensorFile

enum Embed {
    static let usage = "swiftlet embed -m MODEL [--normalize] [-f FILE] [-t THREADS] [--batch B] [--json] [-v] TEXT..."

    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        let f = try Flags(args, valued: EncoderCommon.flags.union(["-f", "--file", "--batch", "-b"]),
                          booleans: ["--json", "--normalize", "-v"])
        var texts = f.positionals
        if let path = f.value("-f") ?? f.value("--file") {
            var lines = try readTextFile(path).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }  // the final newline ends the last line, not a new text
            texts += lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        }
        guard !texts.isEmpty else { throw CLIError("no texts: give TEXT... or -f FILE (\(usage))") }
        let batch = try f.int(f.value("-b") != nil ? "-b" : "--batch", default: 32, range: 1...(1 << 16))
        let (session, loadMs) = try EncoderCommon.open(f, usage: usage)
        let e = session.encoder
        var pooling = e.pooling
        if pooling == .none {
            writeErr("note: the model names no pooling (\(MetadataKey.poolingType("bert"))); using mean pooling")
            pooling = .mean
        }
        let normalize = f.has("--normalize") || e.normalize
        if f.has("-v") { writeErr(session.memorySummary) }

        let t0 = monotonicMs()  // tokenization counts, as in sentence-transformers' encode
        var cut: [Int] = []
        let inputs = texts.enumerated().map { i, t in
            let encoding = session.model.tokenizer.encode(t, maxTokens: e.maxTokens)
            if encoding.truncated > 0 { cut.append(i + 1) }
            return EncoderCommon.input(encoding)
        }
        if !cut.isEmpty {
            let which = cut.prefix(5).map(String.init).joined(separator: ", ") + (cut.count > 5 ? ", ..." : "")
            writeErr("note: \(cut.count) of \(texts.count) texts (\(which)) had more than the model's \(e.maxTokens) tokens "
                + "and were cut to that many")
        }
        let vectors = try embed(session, inputs, batch: batch, pooling: pooling, normalize: normalize)
        let ms = monotonicMs() - t0
        let tokens = inputs.reduce(0) { $0 + $1.ids.count }
        if f.has("--json") {
            var out = "{\"embeddings\":["
            for (i, v) in vectors.enumerated() {
                if i > 0 { out += "," }
                out += "[" + v.map(jsonNumber).joined(separator: ",") + "]"
            }
            out += "],\"timings\":{\"load_ms\":\(jsonNumber(loadMs)),\"tokens\":\(tokens),\"ms\":\(jsonNumber(ms))}}\n"
            writeOut(out)
        } else {
            writeOut(vectors.map { $0.map { "\($0)" }.joined(separator: " ") + "\n" }.joined())
        }
        return 0
    }

    /// Vectors of `inputs` in order: as many whole sequences per pass as fit (at most `batch`).
    static func embed(_ s: EncoderSession, _ inputs: [EncoderInput], batch: Int, pooling: Pooling, normalize: Bool) throws
        -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(inputs.count)
        var start = 0
        while start < inputs.count {
            var end = start, tokens = 0
            while end < inputs.count, end - start < batch, tokens + inputs[end].ids.count <= s.tokensPerPass {
                tokens += inputs[end].ids.count
                end += 1
            }
            try s.run(Array(inputs[start..<end]))
            for i in 0..<end - start { vectors.append(s.embedding(i, pooling: pooling, normalize: normalize)) }
            start = end
        }
        return vectors
    }
}
