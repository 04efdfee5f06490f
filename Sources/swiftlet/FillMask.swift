// `swiftlet fill-mask`: the most likely tokens for each mask token of a text (transformers' fill-mask pipeline).

import Engine
import TensorFile

enum FillMask {
    static let usage = "swiftlet fill-mask -m MODEL [--top K] [-t THREADS] [--json] TEXT"

    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        let f = try Flags(args, valued: EncoderCommon.flags.union(["--top"]), booleans: ["--json"])
        guard f.positionals.count == 1 else { throw CLIError("give one TEXT (\(usage))") }
        let top = try f.int("--top", default: 5, range: 1...1_000_000)
        let (session, _) = try EncoderCommon.open(f, usage: usage)
        let tokenizer = session.model.tokenizer
        guard let mask = tokenizer.mask else { throw CLIError("the model's tokenizer has no mask token") }
        let text = f.positionals[0], limit = session.encoder.maxTokens
        let e = tokenizer.encode(text, pair: nil, maxTokens: limit)
        let at = e.ids.indices.filter { e.ids[$0] == mask }
        guard !at.isEmpty else {
            if e.truncated > 0, tokenizer.encode(text, pair: nil, maxTokens: Int.max).ids.contains(mask) {
                throw CLIError("the mask token is past the model's limit of \(limit) tokens (the text has "
                    + "\(e.ids.count + e.truncated)): shorten the text before it")
            }
            throw CLIError("no mask token in the text: write \(tokenizer.token(mask)) where a word should be predicted")
        }
        EncoderCommon.noteTruncation(e, session)
        try session.run([EncoderCommon.input(e)])
        var lists: [[(id: Int, score: Float)]] = []
        try session.maskedLM(0, at: at) { _, logits in
            let p = EncoderCommon.softmax(Array(logits))
            let best = p.indices.sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }.prefix(top)
            lists.append(best.map { ($0, p[$0]) })
        }
        if f.has("--json") {
            let masks = lists.map { list in
                "[" + list.map { "{\"id\":\($0.id),\"token\":\(jsonQuoted(tokenizer.decode([Int32($0.id)]))),\"score\":\(jsonNumber($0.score))}" }
                    .joined(separator: ",") + "]"
            }
            writeOut("{\"masks\":[" + masks.joined(separator: ",") + "]}\n")
        } else {
            for (i, list) in lists.enumerated() {
                if lists.count > 1 { writeOut("mask \(i + 1):\n") }
                for x in list { writeOut("\(x.score)\t\(x.id)\t\(tokenizer.decode([Int32(x.id)]))\n") }
            }
        }
        return 0
    }
}
