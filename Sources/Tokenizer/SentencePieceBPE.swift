// SentencePiece BPE, llama.cpp's "llama" vocabulary (Llama 2, Mistral, Mixtral), as llama-vocab.cpp's
// llm_tokenizer_spm runs it (sentencepiece's bpe_model.cc does the same): spaces become "▁", one more goes in
// front with add_space_prefix, the text starts as one symbol per character, and the adjacent pair whose joined
// text is the highest-scoring token merges first (the leftmost among equals) until no pair joins into a token.
// A character no token spells becomes its UTF-8 bytes as <0xNN> tokens, or the unknown token. (llama.cpp's
// re-split of a symbol that is not a token along its merges only ever meets such single characters: a merge
// always makes a token.) Decoding is sentencepiece's DecodeIds.

import TensorFile

struct SentencePieceBPE: Sendable {
    let tokens: [String]
    let scores: [Float]
    let types: [TokenType]
    /// tokenizer.ggml.add_space_prefix (sentencepiece's add_dummy_prefix): "▁" in front of the text; absent = true.
    let addSpacePrefix: Bool
    /// tokenizer.ggml.remove_extra_whitespaces: sentencepiece's normalizer drops leading spaces, trailing "▁"s and
    /// the second and later spaces of a run. llama.cpp's converter never writes it for "llama" files (nor reads it
    /// for them); absent = false.
    let removeExtraWhitespaces: Bool
    /// tokenizer.ggml.unknown_token_id, else the first UNKNOWN token, else 0 (llama.cpp's default for "llama").
    let unknown: Int32
    /// Symbols `a`, `b` → the token their texts spell together, under `a << 32 | b`. A symbol is a token id, or
    /// `notToken | scalar` for a character no token spells (such a character can still be half of a token).
    private let pairs: [UInt64: Int32]
    /// The token spelled by each character that is one.
    private let charTokens: [UInt32: Int32]
    /// <0xNN> tokens (type BYTE) by byte; -1 where the vocabulary has none.
    private let byteTokens: [Int32]

    private static let notToken: UInt32 = 1 << 31
    private static let spaceSymbol: Unicode.Scalar = "\u{2581}"

    init(_ file: GGUFFile, tokens: [String], types: [TokenType]) throws(TokenizerError) {
        typealias K = MetadataKey
        guard let scores = try Tokenizer.optional(file, K.tokenScores, file.floatArray) else {
            throw .config(key: K.tokenScores, reason: "missing (SentencePiece BPE merges by score)")
        }
        guard scores.count == tokens.count else {
            throw .config(key: K.tokenScores, reason: "\(scores.count) scores for \(tokens.count) tokens")
        }
        guard types.count == tokens.count else {
            throw .config(key: K.tokenTypes, reason: "\(types.count) types for \(tokens.count) tokens")
        }
        guard tokens.count < Int(Self.notToken) else { throw .config(key: K.tokens, reason: "\(tokens.count) tokens") }
        self.tokens = tokens
        self.scores = scores
        self.types = types
        addSpacePrefix = try Tokenizer.optional(file, K.addSpacePrefix, file.bool) ?? true
        removeExtraWhitespaces = try Tokenizer.optional(file, K.removeExtraWhitespaces, file.bool) ?? false
        unknown = try Tokenizer.unknownID(file, types: types) ?? 0

        // A spelling shared by several tokens means the last of them, as in llama.cpp's token_to_id map.
        var ids: [[UInt8]: Int32] = [:], chars: [UInt32: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        var bytes = [Int32](repeating: -1, count: 256)
        for (i, t) in tokens.enumerated() {
            ids[Array(t.utf8)] = Int32(i)
            let scalars = t.unicodeScalars
            if scalars.count == 1, let only = scalars.first { chars[only.value] = Int32(i) }
            if types[i] == .byte, let b = Tokenizer.byteToken(t) { bytes[Int(b)] = Int32(i) }
        }
        // Every way to cut a token's text in two symbols is a merge that makes it.
        var pairs: [UInt64: Int32] = [:]
        for (i, t) in tokens.enumerated() {
            let scalars = Array(t.unicodeScalars)
            guard scalars.count > 1, ids[Array(t.utf8)] == Int32(i) else { continue }
            func symbol(_ part: ArraySlice<Unicode.Scalar>) -> UInt32? {
                var text = String.UnicodeScalarView()
                text.append(contentsOf: part)
                if let id = ids[Array(String(text).utf8)] { return UInt32(id) }
                guard part.count == 1, let only = part.first else { return nil }
                return Self.notToken | only.value
            }
            for cut in 1..<scalars.count {
                guard let a = symbol(scalars[..<cut]), let b = symbol(scalars[cut...]) else { continue }
                pairs[UInt64(a) << 32 | UInt64(b)] = Int32(i)
            }
        }
        self.pairs = pairs
        charTokens = chars
        byteTokens = bytes
    }

    /// The tokens of `text` (no BOS/EOS; special tokens are cut out before this), with offsets into `text` in
    /// Unicode scalars: a token covers the characters it spells, the prepended "▁" counts as the first character,
    /// and the byte tokens of one character all get that character's span; appended to `out`. `startsInput`: the
    /// text begins the input or follows a special token, where llama.cpp prepends the "▁" (which, as its special
    /// tokens cut the text, is every piece of text).
    func encode(_ text: String, startsInput: Bool = true, into out: inout [TokenSpan]) {
        var symbol: [UInt32] = [], source: [Int32] = []  // per character of the escaped text
        escape(text, prefix: addSpacePrefix && startsInput, into: &symbol, &source)
        let n = symbol.count
        guard n > 0 else { return }
        var length = [Int32](repeating: 1, count: n)  // characters in symbol i; 0 once merged into its left
        var prev = (0..<n).map { Int32($0) - 1 }, next = (0..<n).map { $0 + 1 < n ? Int32($0 + 1) : -1 }
        var queue = BigramQueue()
        func tryAdd(_ l: Int32, _ r: Int32) {
            guard l >= 0, r >= 0, let id = pairs[UInt64(symbol[Int(l)]) << 32 | UInt64(symbol[Int(r)])] else { return }
            queue.push(Bigram(left: l, right: r, score: scores[Int(id)], token: id, length: length[Int(l)] + length[Int(r)]))
        }
        for i in 1..<n { tryAdd(Int32(i - 1), Int32(i)) }
        while let b = queue.pop() {
            let l = Int(b.left), r = Int(b.right)
            // Stale when either side has merged since: its length changed (symbols only grow) or it is gone.
            guard length[l] > 0, length[r] > 0, length[l] + length[r] == b.length else { continue }
            symbol[l] = UInt32(b.token)
            length[l] = b.length
            length[r] = 0
            next[l] = next[r]
            if next[r] >= 0 { prev[Int(next[r])] = b.left }
            tryAdd(prev[l], b.left)
            tryAdd(b.left, next[l])
        }
        var i = 0
        while i >= 0 {
            let start = source[i], end = source[i + Int(length[i]) - 1] + 1
            if symbol[i] & Self.notToken == 0 {
                out.append(TokenSpan(id: Int32(symbol[i]), start: start, end: end))
            } else {
                // A character no token spells: its UTF-8 bytes as byte tokens (the value came from a scalar).
                let utf8 = Unicode.Scalar(symbol[i] & ~Self.notToken).map { Array(String($0).utf8) } ?? []
                if !utf8.isEmpty, utf8.allSatisfy({ byteTokens[Int($0)] >= 0 }) {
                    for b in utf8 { out.append(TokenSpan(id: byteTokens[Int(b)], start: start, end: end)) }
                } else {
                    out.append(TokenSpan(id: unknown, start: start, end: end))
                }
            }
            i = Int(next[i])
        }
    }

    /// The characters of `text` as symbols, spaces as "▁", with the scalar of `text` each came from; sentencepiece's
    /// normalizer with the identity rule (llama.cpp's llama_escape_whitespace when removeExtraWhitespaces is off).
    private func escape(_ text: String, prefix: Bool, into symbol: inout [UInt32], _ source: inout [Int32]) {
        let space = Self.spaceSymbol.value
        let sym = charTokens[space].map { UInt32($0) } ?? Self.notToken | space
        var previousWasSpace = removeExtraWhitespaces  // drops leading spaces too
        for (i, s) in text.unicodeScalars.enumerated() {
            if s == " " {
                if previousWasSpace { continue }
                previousWasSpace = removeExtraWhitespaces
            } else {
                previousWasSpace = false
            }
            if prefix, symbol.isEmpty {  // before the first character kept, and on it
                symbol.append(sym)
                source.append(Int32(i))
            }
            symbol.append(s == " " ? sym : charTokens[s.value].map { UInt32($0) } ?? Self.notToken | s.value)
            source.append(Int32(i))
        }
        if removeExtraWhitespaces {
            while symbol.last == sym {
                symbol.removeLast()
                source.removeLast()
            }
        }
    }

    /// sentencepiece's DecodeIds: "▁" reads as a space, and the first visible piece's leading "▁" is dropped
    /// (add_space_prefix or removeExtraWhitespaces); runs of byte tokens join into UTF-8, each byte that starts no
    /// valid character becoming U+FFFD. Control and unknown tokens show as nothing when `skipSpecial`, else as
    /// their text (sentencepiece hides control tokens and shows unknown ones as " ⁇ "). Ids outside the
    /// vocabulary are skipped.
    func decode(_ ids: [Int32], skipSpecial: Bool) -> String {
        var bytes: [UInt8] = []
        var atStart = true, tookSpace = false  // sentencepiece's is_bos_ws, bos_ws_seen
        for id in ids where id >= 0 && Int(id) < tokens.count {
            let t = tokens[Int(id)], type = types[Int(id)]
            if type == .byte, let b = Tokenizer.byteToken(t) {
                bytes.append(b)
                continue
            }
            if tookSpace || !bytes.isEmpty { atStart = false }
            tookSpace = false
            if type == .control || type == .unknown {
                if !skipSpecial { bytes += t.utf8 }
                continue
            }
            var scalars = t.unicodeScalars[...]
            if atStart, addSpacePrefix || removeExtraWhitespaces, scalars.first == Self.spaceSymbol {
                scalars = scalars.dropFirst()
                tookSpace = !removeExtraWhitespaces  // which drops every leading "▁" piece's
            }
            for s in scalars {
                if s == Self.spaceSymbol { bytes.append(0x20) } else { bytes += String(s).utf8 }
            }
        }
        return Self.utf8(bytes)
    }

    /// Bytes as text, as sentencepiece reads them (util.cc DecodeUTF8): each byte that starts no well-formed
    /// character (overlong forms and surrogates included) becomes U+FFFD and the next byte is read afresh. (Not
    /// UTF8Sanitizer: that replaces maximal subparts, so a cut 3-byte character gives one U+FFFD, not two.)
    static func utf8(_ b: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            func trail(_ k: Int) -> UInt32? { i + k < b.count && b[i + k] & 0xC0 == 0x80 ? UInt32(b[i + k] & 0x3F) : nil }
            let lead = UInt32(b[i])
            var n = 0
            if lead < 0x80 {
                n = 1
            } else if lead & 0xE0 == 0xC0, let c1 = trail(1) {
                n = ((lead & 0x1F) << 6 | c1) >= 0x80 ? 2 : 0
            } else if lead & 0xF0 == 0xE0, let c1 = trail(1), let c2 = trail(2) {
                let cp = (lead & 0x0F) << 12 | c1 << 6 | c2
                n = cp >= 0x800 && !(0xD800...0xDFFF).contains(cp) ? 3 : 0
            } else if lead & 0xF8 == 0xF0, let c1 = trail(1), let c2 = trail(2), let c3 = trail(3) {
                let cp = (lead & 0x07) << 18 | c1 << 12 | c2 << 6 | c3
                n = (0x10000...0x10FFFF).contains(cp) ? 4 : 0
            }
            if n == 0 {
                out += [0xEF, 0xBF, 0xBD]
                i += 1
            } else {
                out += b[i..<i + n]
                i += n
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

private struct Bigram {
    let left, right: Int32
    let score: Float
    let token: Int32
    /// Characters the merged symbol spans, to tell a stale bigram.
    let length: Int32
    /// Pops first: the higher score, then the leftmost (llm_bigram_spm::comparator).
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
