// What the encoder commands share: opening a model in an encoder session, encoding texts with the model's
// special tokens and length limit, softmax, and substrings by scalar offsets.

import Engine
#if canImport(Glibc)
import Glibc
#endif

enum EncoderCommon {
    static let flags: Set<String> = ["-m", "--model", "-t", "--threads"]

    /// Loads the model and an encoder session with `tokens` per pass (0: the default).
    static func open(_ f: Flags, usage: String, tokens: Int = 0) throws -> (EncoderSession, loadMs: Double) {
        let t0 = monotonicMs()
        let model = try Model(path: try Common.modelPath(f, usage: usage))
        var o = EncoderOptions()
        o.threads = try f.int(f.value("-t") != nil ? "-t" : "--threads", default: 0, range: 0...1024)
        o.tokens = tokens
        let session = try EncoderSession(model, o)
        return (session, monotonicMs() - t0)
    }

    /// `a` (and `b`) as the model's tokenizer encodes them, cut to the model's input limit; a line on stderr
    /// says so when tokens were dropped.
    static func encode(_ s: EncoderSession, _ a: String, _ b: String? = nil, what: String = "the text") -> Tokenizer.Encoding {
        let e = s.model.tokenizer.encode(a, pair: b, maxTokens: s.encoder.maxTokens)
        noteTruncation(e, s, what: what)
        return e
    }

    /// The line on stderr that says `e` was cut to the model's limit, if it was.
    static func noteTruncation(_ e: Tokenizer.Encoding, _ s: EncoderSession, what: String = "the text") {
        if e.truncated > 0 {
            writeErr("note: \(what) has \(e.ids.count + e.truncated) tokens; cut to the model's limit of \(s.encoder.maxTokens) "
                + "(\(e.truncated) dropped)")
        }
    }

    static func input(_ e: Tokenizer.Encoding) -> EncoderInput { EncoderInput(ids: e.ids, typeIds: e.typeIds) }

    static func softmax(_ x: [Float]) -> [Float] {
        let m = x.max() ?? 0
        let e = x.map { expf($0 - m) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    /// text's Unicode scalars start..<end.
    static func substring(_ text: String, _ start: Int32, _ end: Int32) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: text.unicodeScalars.dropFirst(Int(start)).prefix(Int(end - start)))
        return String(v)
    }

    /// Labels by id, transformers' LABEL_i where the file has none.
    static func label(_ s: EncoderSession, _ i: Int) -> String {
        i < s.encoder.labels.count ? s.encoder.labels[i] : "LABEL_\(i)"
    }
}
