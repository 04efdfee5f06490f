// `swiftlet ner`: token classification grouped into entities as transformers' token-classification pipeline does
// with aggregation_strategy="simple": each token takes its best label; neighbours with the same tag (not starting
// a new B-) join one entity, scored by the mean of their scores; "O" is left out. Offsets are characters
// (Unicode scalars) of TEXT.

import Engine
import TensorFile

enum NER {
    static let usage = "swiftlet ner -m MODEL [-t THREADS] [--json] TEXT"

    struct Token {
        let label: String
        let score: Float
        let id: Int32
        let start, end: Int32
    }

    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        let f = try Flags(args, valued: EncoderCommon.flags, booleans: ["--json"])
        guard f.positionals.count == 1 else { throw CLIError("give one TEXT (\(usage))") }
        let text = f.positionals[0]
        let (session, _) = try EncoderCommon.open(f, usage: usage)
        guard session.encoder.hasHead(.tokenClassifier) else { throw CLIError("this model has no token classification head") }
        let e = EncoderCommon.encode(session, text)
        try session.run([EncoderCommon.input(e)])
        let logits = try session.tokenLogits(0, .tokenClassifier)
        let labels = logits.count / e.ids.count
        var tokens: [Token] = []
        for t in e.ids.indices where e.sequence[t] >= 0 {
            let p = EncoderCommon.softmax(Array(logits[t * labels..<(t + 1) * labels]))
            let best = p.indices.max { p[$0] < p[$1] || (p[$0] == p[$1] && $0 > $1) }!
            tokens.append(Token(label: EncoderCommon.label(session, best), score: p[best], id: e.ids[t],
                                start: e.spans[t].start, end: e.spans[t].end))
        }
        let entities = group(tokens).filter { $0.label != "O" }
        let tokenizer = session.model.tokenizer
        if f.has("--json") {
            let items = entities.map {
                "{\"word\":\(jsonQuoted(tokenizer.decode($0.ids))),\"label\":\(jsonQuoted($0.label)),"
                    + "\"start\":\($0.start),\"end\":\($0.end),\"score\":\(jsonNumber($0.score))}"
            }
            writeOut("{\"entities\":[" + items.joined(separator: ",") + "]}\n")
        } else {
            for x in entities { writeOut("\(x.label)\t\(x.start)..<\(x.end)\t\(x.score)\t\(tokenizer.decode(x.ids))\n") }
        }
        return 0
    }

    struct Entity {
        var label: String
        var score: Float
        var ids: [Int32]
        var start, end: Int32
    }

    /// "B-PER" → ("B", "PER"); a label without a B-/I- prefix continues (I).
    static func tag(_ label: String) -> (begins: Bool, tag: Substring) {
        if label.hasPrefix("B-") { return (true, label.dropFirst(2)) }
        if label.hasPrefix("I-") { return (false, label.dropFirst(2)) }
        return (false, Substring(label))
    }

    static func group(_ tokens: [Token]) -> [Entity] {
        var groups: [[Token]] = []
        for t in tokens {
            if let last = groups.last?.last, tag(t.label).tag == tag(last.label).tag, !tag(t.label).begins {
                groups[groups.count - 1].append(t)
            } else {
                groups.append([t])
            }
        }
        return groups.map { g in
            let label = g[0].label
            let name = label.firstIndex(of: "-").map { String(label[label.index(after: $0)...]) } ?? label
            return Entity(label: name, score: g.reduce(0) { $0 + $1.score } / Float(g.count), ids: g.map(\.id),
                          start: g[0].start, end: g[g.count - 1].end)
        }
    }
}
