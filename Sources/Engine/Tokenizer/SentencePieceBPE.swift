// SentencePiece BPE, llama.cpp's "llama" vocabulary (Llama 2, Mistral, Mixtral), as llama-vocab.cpp's
// llm_tokenizer_spm runs it: spaces become "▁" (one in front of text that starts the input or follows a special
// token, with add_space_prefix), the text starts as UTF-8 characters, and the adjacent pair whose joined text is
// the highest-scoring piece merges first (the leftmost among equals) until none is a piece; characters no piece
// covers become <0xNN> byte tokens. (A merge always makes a piece, so llama.cpp's re-split of non-pieces along
// their merges only ever meets single characters.)

import TensorFile

struct SentencePieceBPE: Sendable {
    let tokens: [String]
    let scores: [Float]
    let types: [TokenType]
    let addSpacePrefix: Bool
    let unknown: Int32?
    private let ids: [[UInt8]: Int32]
    /// <0xNN> tokens by byte (-1 where the vocabulary has none).
    private let byteTokens: [Int32]

    init(_ file: GGUFFile, tokens: [String], types: [TokenType]) throws(ModelError) {
        typealias K = MetadataKey
        guard let scores = try Tokenizer.optional(file, K.tokenScores, file.floatArray) else {
            throw .config(key: K.tokenScores, reason: "missing (SentencePiece BPE merges by score)")
        }
        self.scores = scores
        addSpacePrefix = try Tokenizer.optional(file, K.addSpacePrefix, file.bool) ?? true
        unknown = try Tokenizer.unknownID(file, types: types)
        guard scores.count == tokens.count else {
            throw .config(key: K.tokenScores, reason: "\(scores.count) scores for \(tokens.count) tokens")
        }
        self.tokens = tokens
        self.types = types
        var ids: [[UInt8]: Int32] = [:]
        var bytes = [Int32](repeating: -1, count: 256)
        for (i, t) in tokens.enumerated() {
            let key = Array(t.utf8)
            if ids[key] == nil { ids[key] = Int32(i) }
            if types[i] == .byte, let b = Tokenizer.byteToken(t) { bytes[Int(b)] = Int32(i) }
        }
        self.ids = ids
        byteTokens = bytes
    }

    /// The tokens of `text`, with offsets in its scalars; `startsInput`: the text begins the input or follows a
    /// special token, so (with add_space_prefix) it gets its "▁".
    func encode(_ text: String, startsInput: Bool, into out: inout [TokenSpan]) {
        // The escaped text's bytes and, for each, the scalar of `text` it stands for.
        var bytes: [UInt8] = [], sourceOf: [Int32] = []
        if addSpacePrefix, startsInput {
            bytes += "\u{2581}".utf8
            sourceOf += [0, 0, 0]
        }
        for (i, s) in text.unicodeScalars.enumerated() {
            let piece = s == " " ? Array("\u{2581}".utf8) : Array(String(s).utf8)
            bytes += piece
            sourceOf += [Int32](repeating: Int32(i), count: piece.count)
        }
        guard !bytes.isEmpty else { return }
        // Symbols: UTF-8 characters, linked left to right.
        var start: [Int] = [], length: [Int] = [], prev: [Int] = [], next: [Int] = []
        var at = 0
        while at < bytes.count {
            let n = min(utf8Length(bytes[at]), bytes.count - at)
            prev.append(start.count - 1)
            start.append(at)
            length.append(n)
            at += n
            next.append(at == bytes.count ? -1 : start.count)
        }
        var queue = BigramQueue()
        func tryAdd(_ l: Int, _ r: Int) {
            guard l >= 0, r >= 0 else { return }
            guard let id = ids[Array(bytes[start[l]..<start[l] + length[l] + length[r]])] else { return }
            queue.push(Bigram(left: l, right: r, score: scores[Int(id)], size: length[l] + length[r]))
        }
        for i in 1..<start.count { tryAdd(i - 1, i) }
        while let b = queue.pop() {
            guard length[b.left] > 0, length[b.right] > 0, length[b.left] + length[b.right] == b.size else { continue }
            length[b.left] += length[b.right]
            length[b.right] = 0
            next[b.left] = next[b.right]
            if next[b.right] >= 0 { prev[next[b.right]] = b.left }
            tryAdd(prev[b.left], b.left)
            tryAdd(b.left, next[b.left])
        }
        var i = 0
        while i != -1 {
            let s = start[i], n = length[i]
            let span = (start: sourceOf[s], end: sourceOf[s + n - 1] + 1)
            if let id = ids[Array(bytes[s..<s + n])] {
                out.append(TokenSpan(id: id, start: span.start, end: span.end))
            } else {
                for b in bytes[s..<s + n] {
                    out.append(TokenSpan(id: byteTokens[Int(b)] >= 0 ? byteTokens[Int(b)] : (unknown ?? 0),
                                         start: span.start, end: span.end))
                }
            }
            i = next[i]
        }
    }

    private func utf8Length(_ lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
    }

    /// sentencepiece's decode: "▁" as a space, byte tokens as their bytes, the first space dropped with
    /// add_space_prefix; control tokens skipped when skipSpecial.
    func decode(_ ids: [Int32], skipSpecial: Bool) -> String {
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && Int(id) < tokens.count {
            let type = types[Int(id)]
            if skipSpecial, type == .control { continue }
            if type == .byte, let b = Tokenizer.byteToken(tokens[Int(id)]) {
                bytes.append(b)
                continue
            }
            for u in tokens[Int(id)].unicodeScalars {
                if u == "\u{2581}" { bytes.append(0x20) } else { bytes += String(u).utf8 }
            }
        }
        if addSpacePrefix, bytes.first == 0x20 { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

private struct Bigram {
    let left, right: Int
    let score: Float
    let size: Int
    /// Pops first: the higher score, then the leftmost.
    func before(_ o: Bigram) -> Bool { score != o.score ? score > o.score : left < o.left }
}

/// A binary max-heap of bigrams by `before`.
private struct BigramQueue {
    private var items: [Bigram] = []

    mutating func push(_ b: Bigram) {
        items.append(b)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].before(items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Bigram? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < items.count, items[l].before(items[best]) { best = l }
                if r < items.count, items[r].before(items[best]) { best = r }
                if best == i { break }
                items.swapAt(i, best)
                i = best
            }
        }
        return top
    }
}
