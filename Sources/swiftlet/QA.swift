// `swiftlet qa`: extractive question answering as transformers' question-answering pipeline (4.x) scores it:
// softmax of the start and end logits over the context tokens (and the first token, then zeroed), the 12 best
// spans with start ≤ end and at most --max-answer-len tokens by start·end probability, each widened to whole
// words, the scores of spans giving the same text added; offsets are characters (Unicode scalars) of the
// context. A context longer than one window is read in windows overlapping by --doc-stride tokens.

import Engine
import TensorFile

enum QA {
    static let usage = "swiftlet qa -m MODEL --question Q --context C [--max-answer-len 15] [--doc-stride N] [-t THREADS] [--json]"

    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        let f = try Flags(args, valued: EncoderCommon.flags.union(["--question", "--context", "--max-answer-len", "--doc-stride"]),
                          booleans: ["--json"])
        guard f.positionals.isEmpty else { throw CLIError("unexpected argument '\(f.positionals[0])' (\(usage))") }
        guard let question = f.value("--question"), let context = f.value("--context") else {
            throw CLIError("give --question and --context (\(usage))")
        }
        let maxLength = try f.int("--max-answer-len", default: 15, range: 1...100_000)
        let (session, _) = try EncoderCommon.open(f, usage: usage)
        guard session.encoder.hasHead(.span) else { throw CLIError("this model has no question answering head") }
        let tokenizer = session.model.tokenizer
        guard !context.unicodeScalars.allSatisfy(\.properties.isWhitespace) else { throw CLIError("the context is empty") }
        // The pipeline's windows: at most 384 tokens, overlapping by half of that up to 128.
        let limit = min(session.encoder.maxTokens, 384)
        let asked = f.value("--doc-stride") == nil ? nil : try f.int("--doc-stride", default: 0, range: 0...100_000)

        // One encoding of the whole context, then windows of it beside the question.
        let full = tokenizer.encode(question, pair: context, maxTokens: Int.max)
        let questionTokens = full.sequence.filter { $0 == 0 }.count
        let contextTokens = full.spans.indices.filter { full.sequence[$0] == 1 }
        let specials = full.ids.count - questionTokens - contextTokens.count
        let room = limit - questionTokens - specials
        guard room > 0 else {
            throw CLIError("the question's \(questionTokens) tokens leave no room for the context in \(limit) tokens")
        }
        // Windows advance by room − stride tokens: a stride of a window or more would advance one token per window
        // (tokenizers refuses it too); the default is cut to fit.
        if let asked, asked >= room {
            throw CLIError("--doc-stride \(asked) is not less than the \(room) context tokens a window holds beside this question")
        }
        let stride = asked ?? min(128, limit / 2, room - 1)
        // As the pipeline: each window's 12 best token spans, widened to whole words; spans that give the same
        // text add their scores, across windows too.
        let words = wordRanges(full, tokenizer)
        var answers: [(text: String, score: Float, start: Int32, end: Int32)] = []
        var first = 0
        while true {
            let window = Array(contextTokens[first..<min(contextTokens.count, first + room)])
            let e = windowEncoding(full, window: window)
            try session.run([EncoderInput(ids: e.ids, typeIds: e.typeIds)])
            for span in bestSpans(try session.tokenLogits(0, .span), e, maxLength: maxLength, count: 12) {
                var start = span.start, end = span.end
                if let w = words.first(where: { $0.contains(start) }) { start = w.lowerBound }
                if let w = words.first(where: { $0.contains(end - 1) }) { end = w.upperBound }
                let text = EncoderCommon.substring(context, start, end)
                if let i = answers.firstIndex(where: { $0.text == text }) {
                    answers[i].score += span.score
                } else {
                    answers.append((text, span.score, start, end))
                }
            }
            if first + room >= contextTokens.count { break }
            first += max(1, room - stride)
        }
        // The highest score; the first found among equals (Python's stable sort).
        guard let best = answers.indices.min(by: { answers[$0].score > answers[$1].score }).map({ answers[$0] }) else {
            throw CLIError("no answer span found in the context")
        }
        let answer = best.text
        if f.has("--json") {
            writeOut("{\"answer\":\(jsonQuoted(answer)),\"start\":\(best.start),\"end\":\(best.end),\"score\":\(jsonNumber(best.score))}\n")
        } else {
            writeOut("\(answer)\t\(best.start)..<\(best.end)\t\(best.score)\n")
        }
        return 0
    }

    /// The context's words as character ranges: runs of tokens that continue a word with no gap between them.
    static func wordRanges(_ e: Tokenizer.Encoding, _ tokenizer: Tokenizer) -> [Range<Int32>] {
        var words: [Range<Int32>] = []
        for i in e.ids.indices where e.sequence[i] == 1 {
            let span = e.spans[i]
            if let last = words.last, last.upperBound == span.start, !tokenizer.startsWord(e.ids[i]) {
                words[words.count - 1] = last.lowerBound..<span.end
            } else {
                words.append(span.start..<max(span.start, span.end))
            }
        }
        return words
    }

    /// The full encoding with only the given context tokens kept.
    static func windowEncoding(_ full: Tokenizer.Encoding, window: [Int]) -> Tokenizer.Encoding {
        let keep = Set(window)
        var e = Tokenizer.Encoding()
        for i in full.ids.indices where full.sequence[i] != 1 || keep.contains(i) {
            e.ids.append(full.ids[i])
            e.typeIds.append(full.typeIds[i])
            e.spans.append(full.spans[i])
            e.sequence.append(full.sequence[i])
        }
        return e
    }

    /// The pipeline's select_starts_ends and decode_spans over one window: the `count` best (start, end) token
    /// spans by start·end probability, as character offsets of the context.
    static func bestSpans(_ logits: [Float], _ e: Tokenizer.Encoding, maxLength: Int, count: Int)
        -> [(score: Float, start: Int32, end: Int32)] {
        let n = e.ids.count
        // Context tokens and the first token take part in the softmax; the rest are pushed to −10000.
        func probabilities(_ column: Int) -> [Float] {
            EncoderCommon.softmax((0..<n).map { t in e.sequence[t] == 1 || t == 0 ? logits[2 * t + column] : -10000 })
        }
        var start = probabilities(0), end = probabilities(1)
        start[0] = 0
        end[0] = 0
        var spans: [(score: Float, i: Int, j: Int)] = []
        for i in 0..<n where e.sequence[i] == 1 {
            for j in i..<min(n, i + maxLength) where e.sequence[j] == 1 { spans.append((start[i] * end[j], i, j)) }
        }
        // Best first; equal scores in row-major order, as argsort of the flattened candidates.
        spans.sort { $0.score != $1.score ? $0.score > $1.score : ($0.i, $0.j) < ($1.i, $1.j) }
        return spans.prefix(count).map { ($0.score, e.spans[$0.i].start, e.spans[$0.j].end) }
    }
}
