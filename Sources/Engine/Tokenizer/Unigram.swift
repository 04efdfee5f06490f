// SentencePiece Unigram (ALBERT, T5, XLNet, Marian's source side) as the tokenizers library runs it: the
// normalizer steps converted into GGUF keys (formats/TENSORS-encoders.md, "Tokenizer keys"), in their one order
// (replacements, Unicode form, strip accents, lowercase, precompiled charsmap, collapse spaces); whitespace
// splitting with Metaspace's "▁" in front of every word; then per word the Viterbi best segmentation over the
// pieces' scores, unknown characters fused into one unknown token (or spelled as <0xNN> bytes where the
// vocabulary has byte tokens).

import TensorFile

struct Unigram: Sendable {
    struct Options: Sendable {
        var addSpacePrefix = true
        var removeExtraWhitespaces = true
        var lowercase = false
        var stripAccents = false
        var unicodeForm: UnicodeForm?
        var replacements: [(from: [Unicode.Scalar], to: [Unicode.Scalar])] = []
        var precompiledCharsmap: [UInt8]?
    }

    let tokens: [String]
    let scores: [Float]
    let types: [TokenType]
    let unknown: Int32?
    let options: Options
    /// Pieces by their UTF-8 bytes: a trie as a dictionary of prefixes (the longest piece bounds the search).
    private let pieces: [[UInt8]: Int32]
    private let longestPiece: Int
    private let unknownScore: Float
    /// <0xNN> byte tokens, by byte, when the vocabulary has them (sentencepiece's byte_fallback).
    private let byteTokens: [Int32]?
    private let charsmap: PrecompiledCharsmap?

    init(tokens: [String], scores: [Float], types: [TokenType], unknown: Int32?, options: Options) throws(ModelError) {
        guard scores.count == tokens.count else {
            throw .tokenizer("\(scores.count) scores for \(tokens.count) Unigram pieces")
        }
        self.tokens = tokens
        self.scores = scores
        self.types = types
        self.unknown = unknown
        self.options = options
        var pieces: [[UInt8]: Int32] = [:]
        var longest = 0
        for (i, t) in tokens.enumerated() where types[i] == .normal || types[i] == .userDefined || types[i] == .unknown {
            let bytes = Array(t.utf8)
            if pieces[bytes] == nil { pieces[bytes] = Int32(i) }
            longest = max(longest, bytes.count)
        }
        self.pieces = pieces
        longestPiece = longest
        // tokenizers: the lowest score of the vocabulary less 10.
        unknownScore = (scores.min() ?? 0) - 10
        var bytes = [Int32](repeating: -1, count: 256)
        for (i, t) in tokens.enumerated() where types[i] == .byte {
            if let b = Tokenizer.byteToken(t) { bytes[Int(b)] = Int32(i) }
        }
        byteTokens = bytes.contains(-1) ? nil : bytes
        charsmap = try options.precompiledCharsmap.map { (c) throws(ModelError) in try PrecompiledCharsmap(c) }
    }

    /// Reads the options from the default tokenizer.ggml.* keys.
    init(_ file: GGUFFile, tokens: [String], types: [TokenType]) throws(ModelError) {
        typealias K = MetadataKey
        func optional<T>(_ key: String, _ read: (String) throws(TensorFileError) -> T) throws(ModelError) -> T? {
            try Tokenizer.optional(file, key, read)
        }
        guard let scores = try optional(K.tokenScores, file.floatArray) else { throw .config(key: K.tokenScores, reason: "missing") }
        var o = Options()
        o.addSpacePrefix = try optional(K.addSpacePrefix, file.bool) ?? true
        o.removeExtraWhitespaces = try optional(K.removeExtraWhitespaces, file.bool) ?? true
        o.lowercase = try optional(K.normalizerLowercase, file.bool) ?? false
        o.stripAccents = try optional(K.normalizerStripAccents, file.bool) ?? false
        if let form = try optional(K.normalizerUnicodeForm, file.string) {
            guard let f = UnicodeForm(rawValue: form) else {
                throw .config(key: K.normalizerUnicodeForm, reason: "'\(form)' is not NFC, NFD, NFKC or NFKD")
            }
            o.unicodeForm = f
        }
        let pairs = try optional(K.normalizerReplacements, file.stringArray) ?? []
        guard pairs.count % 2 == 0 else { throw .config(key: K.normalizerReplacements, reason: "\(pairs.count) strings, not pairs") }
        o.replacements = stride(from: 0, to: pairs.count, by: 2).map {
            (Array(pairs[$0].unicodeScalars), Array(pairs[$0 + 1].unicodeScalars))
        }
        if file.contains(K.precompiledCharsmap) {
            guard case let .array(.uint8(bytes))? = file.value(K.precompiledCharsmap) else {
                throw .config(key: K.precompiledCharsmap, reason: "not an array of u8")
            }
            o.precompiledCharsmap = bytes
        }
        let unknown = try Tokenizer.unknownID(file, types: types)
        try self.init(tokens: tokens, scores: scores, types: types, unknown: unknown, options: o)
    }

    /// The piece as stored ("▁the").
    func token(_ id: Int32) -> String { id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : "" }

    // MARK: Normalization

    /// The text through the normalizer steps, each scalar remembering where it came from.
    func normalized(_ text: String) -> NormalizedText {
        var t = NormalizedText(text)
        for (from, to) in options.replacements where !from.isEmpty { t.replace(from, with: to) }
        if let form = options.unicodeForm { t.normalize(form) }
        if options.stripAccents { t.stripAccents() }
        if options.lowercase { t.lowercase() }
        if let charsmap { t = charsmap.apply(t) }
        return t
    }

    // MARK: Encoding

    func encode(_ text: String, into out: inout [TokenSpan]) {
        let t = normalized(text)
        // Metaspace: spaces are "▁", and a piece of text starts with one ("always": added where missing, taking
        // the source of the character it stands before). With remove_extra_whitespaces the text is first cut at
        // whitespace (WhitespaceSplit), so words never carry spaces; without it, it is cut before each "▁".
        var word: [Unicode.Scalar] = [], sources: [Int32] = []
        func flush() {
            guard !word.isEmpty else { return }
            if options.addSpacePrefix, word[0] != "\u{2581}" {
                word.insert("\u{2581}", at: 0)
                sources.insert(sources[0], at: 0)
            }
            segment(word, sources, into: &out)
            word.removeAll(keepingCapacity: true)
            sources.removeAll(keepingCapacity: true)
        }
        for i in t.scalars.indices {
            let s = t.scalars[i]
            if options.removeExtraWhitespaces {
                if isWhitespace(s) {
                    flush()
                    continue
                }
            } else if s == " " || s == "\u{2581}" {
                flush()
                word.append("\u{2581}")
                sources.append(t.sources[i])
                continue
            }
            word.append(s)
            sources.append(t.sources[i])
        }
        flush()
    }

    private func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    /// The best segmentation of one word (tokenizers' Unigram::encode_optimized), as spans of the original text.
    private func segment(_ word: [Unicode.Scalar], _ sources: [Int32], into out: inout [TokenSpan]) {
        var bytes: [UInt8] = [], scalarAt: [Int] = []  // scalarAt[b]: the scalar byte b belongs to
        for (i, s) in word.enumerated() {
            for b in String(s).utf8 {
                bytes.append(b)
                scalarAt.append(i)
            }
        }
        let n = bytes.count
        var score = [Float](repeating: 0, count: n + 1), from = [Int](repeating: -1, count: n + 1)
        var id = [Int32](repeating: -1, count: n + 1)
        from[0] = 0
        var start = 0
        while start < n {
            let charLength = String(word[scalarAt[start]]).utf8.count
            var single = false
            var end = start + 1
            while end <= min(n, start + longestPiece) {
                if let piece = pieces[Array(bytes[start..<end])] {
                    let candidate = scores[Int(piece)] + score[start]
                    if from[end] < 0 || candidate > score[end] {
                        score[end] = candidate
                        from[end] = start
                        id[end] = piece
                    }
                    if end - start == charLength { single = true }
                }
                end += 1
            }
            if !single {
                let end = start + charLength, candidate = unknownScore + score[start]
                if from[end] < 0 || candidate > score[end] {
                    score[end] = candidate
                    from[end] = start
                    id[end] = unknown ?? -1
                }
            }
            start += charLength
        }
        // Back from the end; consecutive unknown pieces are fused into one.
        var pieces: [(id: Int32, range: Range<Int>)] = []
        var end = n
        while end > 0 {
            let s = from[end]
            if id[end] == (unknown ?? -1), let last = pieces.last, last.id == id[end], last.range.lowerBound == end {
                pieces[pieces.count - 1].range = s..<last.range.upperBound
            } else {
                pieces.append((id[end], s..<end))
            }
            end = s
        }
        for p in pieces.reversed() {
            let first = scalarAt[p.range.lowerBound], last = scalarAt[p.range.upperBound - 1]
            let span = (start: sources[first], end: sources[last] + 1)
            if p.id == (unknown ?? -1), let byteTokens {
                for b in bytes[p.range] { out.append(TokenSpan(id: byteTokens[Int(b)], start: span.start, end: span.end)) }
            } else {
                out.append(TokenSpan(id: max(p.id, 0), start: span.start, end: span.end))
            }
        }
    }

    // MARK: Decoding

    /// The Metaspace decoder: pieces joined, "▁" as a space, the first one dropped; byte tokens as their bytes.
    func decode(_ ids: [Int32], skipSpecial: Bool) -> String {
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && Int(id) < tokens.count {
            let type = types[Int(id)]
            if skipSpecial, type == .control || type == .unknown { continue }
            if type == .byte, let b = Tokenizer.byteToken(tokens[Int(id)]) {
                bytes.append(b)
                continue
            }
            for u in tokens[Int(id)].unicodeScalars {
                if u == "\u{2581}" { bytes.append(0x20) } else { bytes += String(u).utf8 }
            }
        }
        if options.addSpacePrefix, bytes.first == 0x20 { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// sentencepiece's precompiled normalization rules: a Darts double-array trie over UTF-8 byte strings whose
/// values index a pool of NUL-terminated replacements ([u32 trie bytes][trie units][pool]).
struct PrecompiledCharsmap: Sendable {
    private let units: [UInt32]
    private let pool: [UInt8]

    init(_ blob: [UInt8]) throws(ModelError) {
        guard blob.count >= 4 else { throw .config(key: MetadataKey.precompiledCharsmap, reason: "\(blob.count) bytes") }
        func u32(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 { v |= UInt32(blob[at + k]) << (8 * UInt32(k)) }
            return v
        }
        let size = Int(u32(0))
        guard size % 4 == 0, 4 + size <= blob.count, size > 0 else {
            throw .config(key: MetadataKey.precompiledCharsmap, reason: "trie of \(size) bytes in a blob of \(blob.count)")
        }
        units = stride(from: 4, to: 4 + size, by: 4).map(u32)
        pool = Array(blob[(4 + size)...])
    }

    /// The replacement of the shortest rule that is a prefix of `key` (what the tokenizers library takes).
    func transform(_ key: [UInt8]) -> [UInt8]? {
        func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }
        var node = 0
        guard !units.isEmpty else { return nil }
        node ^= offset(units[0])
        for c in key {
            guard c != 0 else { return nil }
            node ^= Int(c)
            guard node < units.count else { return nil }
            let unit = units[node]
            guard unit & ((1 << 31) | 0xFF) == UInt32(c) else { return nil }
            node ^= offset(unit)
            if (unit >> 8) & 1 == 1, node < units.count {
                let start = Int(units[node] & ((1 << 31) - 1))
                guard start < pool.count else { return nil }
                var end = start
                while end < pool.count, pool[end] != 0 { end += 1 }
                return Array(pool[start..<end])
            }
        }
        return nil
    }

    /// The tokenizers library's Precompiled normalizer: each grapheme shorter than 6 bytes replaced whole when a
    /// rule starts it, else each of its characters replaced or kept. Replacements take the source of what they
    /// replace.
    func apply(_ t: NormalizedText) -> NormalizedText {
        var out = NormalizedText("")
        var i = 0
        var text = String.UnicodeScalarView()
        text.append(contentsOf: t.scalars)
        for grapheme in String(text) {
            let scalars = Array(grapheme.unicodeScalars)
            let sources = Array(t.sources[i..<i + scalars.count])
            i += scalars.count
            let bytes = Array(String(grapheme).utf8)
            if bytes.count < 6, let r = transform(bytes) {
                append(r, source: sources[0], to: &out)
                continue
            }
            for (k, s) in scalars.enumerated() {
                if let r = transform(Array(String(s).utf8)) {
                    append(r, source: sources[k], to: &out)
                } else {
                    out.scalars.append(s)
                    out.sources.append(sources[k])
                }
            }
        }
        return out
    }

    private func append(_ bytes: [UInt8], source: Int32, to out: inout NormalizedText) {
        for s in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            out.scalars.append(s)
            out.sources.append(source)
        }
    }
}

extension NormalizedText {
    /// Every occurrence of `pattern`, left to right, becomes `replacement` (tokenizers' Replace with a literal),
    /// the new scalars taking the source of the last they replace (as tokenizers aligns them).
    mutating func replace(_ pattern: [Unicode.Scalar], with replacement: [Unicode.Scalar]) {
        var s: [Unicode.Scalar] = [], src: [Int32] = []
        var i = 0
        while i < scalars.count {
            if i + pattern.count <= scalars.count, Array(scalars[i..<i + pattern.count]) == pattern {
                for r in replacement {
                    s.append(r)
                    src.append(sources[i + pattern.count - 1])
                }
                i += pattern.count
            } else {
                s.append(scalars[i])
                src.append(sources[i])
                i += 1
            }
        }
        scalars = s
        sources = src
    }
}
