// SentencePiece Unigram tokenization (ALBERT, T5, XLNet; Marian's source side) as two libraries run it. The
// tokenizers library's (transformers' tokenizers for ALBERT, T5, XLNet; models/unigram/model.rs): the normalizer
// steps converted into GGUF keys in their one order (formats/TENSORS-encoders.md, "Tokenizer keys": replacements,
// Unicode form, strip accents, lowercase, precompiled charsmap), WhitespaceSplit, Metaspace ("▁" for spaces and
// before each word, words cut before each "▁"), then per word the Viterbi best segmentation over the pieces'
// scores, unknown characters fused into one unknown token or spelled as <0xNN> byte tokens. The sentencepiece
// library's (Marian's source; normalizer.cc, unigram_model.cc, sentencepiece_processor.cc): the charsmap's longest
// rule at each position, spaces trimmed and collapsed, one "▁" in front, and one Viterbi over the whole text.

import TensorFile

struct Unigram: Sendable {
    /// Whose behaviour to reproduce.
    enum Library: Sendable {
        /// The tokenizers library's, as transformers runs ALBERT, T5 and XLNet.
        case tokenizers
        /// The sentencepiece library's, as transformers runs Marian (offsets as sentencepiece gives them: a
        /// piece's "▁" takes in the spaces it stands for).
        case sentencePiece
    }

    struct Options: Sendable {
        /// Metaspace's prepend_scheme (tokenizers), add_dummy_prefix (sentencepiece).
        var addSpacePrefix = true
        /// tokenizers: split on whitespace first (WhitespaceSplit); sentencepiece: trim and collapse spaces.
        var removeExtraWhitespaces = true
        var lowercase = false
        var stripAccents = false
        var unicodeForm: UnicodeForm?
        /// Literal replacements (from, to), applied first, in order (tokenizers' Replace with a string pattern).
        var replacements: [(String, String)] = []
        /// sentencepiece's normalization rules (NormalizerSpec.precompiled_charsmap).
        var precompiledCharsmap: [UInt8]?
        var library = Library.tokenizers
    }

    let tokens: [String]
    let types: [TokenType]
    let unknown: Int32
    let options: Options
    /// Each piece's score in the Viterbi (sentencepiece gives user-defined pieces a bonus).
    private let scores: [Float]
    private let unknownScore: Float
    /// The pieces a segmentation may use, by their UTF-8 bytes.
    private let pieces: ByteTrie
    /// <0xNN> byte tokens by byte (-1 where the vocabulary has none); empty without byte tokens.
    private let byteTokens: [Int32]
    private let charsmap: PrecompiledCharsmap?
    private let replacements: [(from: [Unicode.Scalar], to: [Unicode.Scalar])]

    /// `types` as llama.cpp stores them (UNUSED: not a piece; BYTE: byte fallback); `unknown` the unknown token,
    /// which both libraries need (sentencepiece to load, tokenizers at the first unknown character).
    init(tokens: [String], scores: [Float], types: [TokenType], unknown: Int32?, options: Options) throws(TokenizerError) {
        guard scores.count == tokens.count, types.count == tokens.count else {
            throw .invalid("\(tokens.count) Unigram pieces with \(scores.count) scores and \(types.count) types")
        }
        guard let unknown else { throw .invalid("a Unigram vocabulary without an unknown token") }
        guard tokens.indices.contains(Int(unknown)) else {
            throw .invalid("unknown token \(unknown) is outside the vocabulary (0..<\(tokens.count))")
        }
        self.tokens = tokens
        self.types = types
        self.unknown = unknown
        self.options = options
        let sentencePiece = options.library == .sentencePiece
        // tokenizers: its vocabulary's lowest score (UNUSED entries are padding, and GGUF files give T5's sentinels
        // and added tokens made-up scores, so only real pieces count); sentencepiece: its NORMAL pieces' lowest.
        // A user-defined piece scores length × the highest NORMAL score − 0.1 in sentencepiece (FLT_MIN at least).
        var low = Float.infinity, high = Float.leastNormalMagnitude
        for (t, s) in zip(types, scores) {
            switch t {
            case .normal: (low, high) = (min(low, s), max(high, s))
            case .byte, .unknown, .undefined: if !sentencePiece { low = min(low, s) }
            default: break
            }
        }
        if sentencePiece, low == .infinity { low = .greatestFiniteMagnitude }
        unknownScore = low - 10
        var keys: [(bytes: [UInt8], id: Int32)] = [], effective = scores
        for (i, t) in tokens.enumerated() {
            switch (types[i], options.library) {
            case (.unused, _): continue
            case (.normal, .sentencePiece), (.undefined, .sentencePiece): break
            case (.userDefined, .sentencePiece): effective[i] = Float(t.utf8.count) * high - 0.1
            case (_, .sentencePiece): continue  // unknown, control and byte pieces are never matched
            case (_, .tokenizers): break        // tokenizers matches its whole vocabulary
            }
            keys.append((Array(t.utf8), Int32(i)))
        }
        pieces = ByteTrie(keys)
        self.scores = effective
        var bytes = [Int32](repeating: -1, count: 256)
        for (i, t) in tokens.enumerated() where types[i] == .byte {
            if let b = Tokenizer.byteToken(t) { bytes[Int(b)] = Int32(i) }
        }
        byteTokens = bytes.contains(where: { $0 >= 0 }) ? bytes : []
        charsmap = try options.precompiledCharsmap.map { (c) throws(TokenizerError) in try PrecompiledCharsmap(c) }
        replacements = options.replacements.map { (Array($0.0.unicodeScalars), Array($0.1.unicodeScalars)) }
    }

    /// The file's default tokenizer.ggml.* keys (and Swiftlet's normalizer keys), as the tokenizers library runs them.
    init(_ file: GGUFFile, tokens: [String], types: [TokenType]) throws(TokenizerError) {
        typealias K = MetadataKey
        func optional<T>(_ key: String, _ read: (String) throws(TensorFileError) -> T) throws(TokenizerError) -> T? {
            try Tokenizer.optional(file, key, read)
        }
        guard let scores = try optional(K.tokenScores, file.floatArray) else { throw .config(key: K.tokenScores, reason: "missing") }
        guard scores.count == tokens.count else {
            throw .config(key: K.tokenScores, reason: "\(scores.count) scores for \(tokens.count) tokens")
        }
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
        o.replacements = stride(from: 0, to: pairs.count, by: 2).map { (pairs[$0], pairs[$0 + 1]) }
        o.precompiledCharsmap = try Self.bytes(file, K.precompiledCharsmap)
        let unknown = try Tokenizer.unknownID(file, types: types)
        try self.init(tokens: tokens, scores: scores, types: types, unknown: unknown, options: o)
    }

    /// Marian's source vocabulary (tokenizer.swiftlet.source.*), as sentencepiece runs it; ids are the source
    /// model's, to be looked up by piece in the file's own tokens.
    init(marianSource file: GGUFFile) throws(TokenizerError) {
        typealias K = MetadataKey
        func required<T>(_ key: String, _ read: (String) throws(TensorFileError) -> T) throws(TokenizerError) -> T {
            guard let v = try Tokenizer.optional(file, key, read) else { throw .config(key: key, reason: "missing") }
            return v
        }
        let tokens = try required(K.sourceTokens, file.stringArray), scores = try required(K.sourceScores, file.floatArray)
        let raw = try required(K.sourceTokenTypes, file.intArray)
        guard scores.count == tokens.count, raw.count == tokens.count else {
            throw .config(key: K.sourceTokens, reason: "\(tokens.count) pieces, \(scores.count) scores, \(raw.count) types")
        }
        let types = raw.map { TokenType(rawValue: Int32(clamping: $0)) ?? .undefined }
        var o = Options()
        o.library = .sentencePiece
        o.addSpacePrefix = try Tokenizer.optional(file, K.sourceAddSpacePrefix, file.bool) ?? true
        o.removeExtraWhitespaces = try Tokenizer.optional(file, K.sourceRemoveExtraWhitespaces, file.bool) ?? true
        o.precompiledCharsmap = try Self.bytes(file, K.sourcePrecompiledCharsmap)
        let unknown = types.firstIndex(of: .unknown).map { Int32($0) }
        try self.init(tokens: tokens, scores: scores, types: types, unknown: unknown, options: o)
    }

    private static func bytes(_ file: GGUFFile, _ key: String) throws(TokenizerError) -> [UInt8]? {
        guard file.contains(key) else { return nil }
        guard case let .array(.uint8(bytes))? = file.value(key) else { throw .config(key: key, reason: "not an array of u8") }
        return bytes
    }

    /// The piece as stored ("▁the"); "" outside the vocabulary.
    func token(_ id: Int32) -> String { tokens.indices.contains(Int(id)) ? tokens[Int(id)] : "" }

    // MARK: Encoding

    /// The tokens of `text` (no special tokens added), with scalar offsets into `text` (Python str indices, as
    /// transformers' offset_mapping gives them; sentencepiece's surfaces in sentencePiece mode), appended to `out`.
    func encode(_ text: String, into out: inout [TokenSpan]) {
        encode(text) { span, _ in out.append(span) }
    }

    /// `encode`, with each token's piece appended to `pieces` as sentencepiece's encode(out_type=str) gives it: a
    /// known piece's text, a run of unknown characters as normalized, a byte token's "<0xNN>". Marian looks these
    /// up in its own vocabulary (so an unknown source piece can still be a known target token).
    func encode(_ text: String, into out: inout [TokenSpan], pieces: inout [String]) {
        encode(text) { span, piece in
            out.append(span)
            pieces.append(piece())
        }
    }

    /// Where each token goes: its span, and its piece when asked for.
    private typealias Sink = (TokenSpan, () -> String) -> Void

    private func encode(_ text: String, _ sink: Sink) {
        var t = NormalizedText(text)
        for (from, to) in replacements where !from.isEmpty { t.replace(from, with: to) }
        if let form = options.unicodeForm { t.normalize(form) }
        if options.stripAccents { t.stripAccents() }
        if options.lowercase { t.lowercase() }
        switch options.library {
        case .tokenizers:
            if let charsmap { t = charsmap.apply(t) }
            encodeWords(t, sink)
        case .sentencePiece:
            let (n, end) = sentencePieceNormalized(t, count: Int32(text.unicodeScalars.count))
            encodeWhole(n, end: end, sink)
        }
    }

    /// tokenizers: WhitespaceSplit (when removing extra whitespace), then Metaspace: spaces become "▁", a word that
    /// does not start with "▁" gets one (with its first scalar's source), and words are cut before each "▁".
    private func encodeWords(_ t: NormalizedText, _ sink: Sink) {
        var word = NormalizedText(""), v = Viterbi()
        func flush() {
            guard !word.scalars.isEmpty else { return }
            if options.addSpacePrefix, word.scalars[0] != "\u{2581}" {
                word.scalars.insert("\u{2581}", at: 0)
                word.sources.insert(word.sources[0], at: 0)
            }
            v.run(word.scalars, self)
            for p in v.fusedPieces(unknown) {
                let start = word.sources[v.scalarAt[p.bytes.lowerBound]], end = word.sources[v.scalarAt[p.bytes.upperBound - 1]] + 1
                emit(p.id, bytes: v.bytes[p.bytes], sink) { _ in (start, end) }
            }
            word.scalars.removeAll(keepingCapacity: true)
            word.sources.removeAll(keepingCapacity: true)
        }
        for (s, source) in zip(t.scalars, t.sources) {
            if options.removeExtraWhitespaces, s.properties.isWhitespace {
                flush()
                continue
            }
            let metaspace = s == " " || s == "\u{2581}"
            if metaspace { flush() }
            word.scalars.append(metaspace ? "\u{2581}" : s)
            word.sources.append(source)
        }
        flush()
    }

    /// sentencepiece: one Viterbi over the whole normalized text; runs of unknown characters become one unknown
    /// token, or without fusing their bytes with byte fallback (the last byte carrying the character's surface).
    private func encodeWhole(_ t: NormalizedText, end: Int32, _ sink: Sink) {
        guard !t.scalars.isEmpty else { return }
        var v = Viterbi()
        v.run(t.scalars, self)
        let pieces = byteTokens.isEmpty ? v.fusedPieces(unknown) : v.pieces()
        for p in pieces {
            let first = v.scalarAt[p.bytes.lowerBound], after = v.scalarAt[p.bytes.upperBound - 1] + 1
            let start = t.sources[first], end = after < t.sources.count ? t.sources[after] : end
            emit(p.id, bytes: v.bytes[p.bytes], sink) { last in (start, last ? end : start) }
        }
    }

    /// A piece, or for an unknown one its byte tokens when there are any (tokenizers: all bytes or none).
    private func emit(_ id: Int32, bytes: ArraySlice<UInt8>, _ sink: Sink, _ span: (_ lastByte: Bool) -> (Int32, Int32)) {
        if id == unknown, !byteTokens.isEmpty,
           options.library == .sentencePiece || bytes.allSatisfy({ byteTokens[Int($0)] >= 0 }) {
            for (k, b) in bytes.enumerated() {
                let (start, end) = span(k == bytes.count - 1)
                let t = byteTokens[Int(b)]
                let hex = String(b, radix: 16, uppercase: true)
                sink(TokenSpan(id: t >= 0 ? t : id, start: start, end: end)) { "<0x" + (b < 16 ? "0" : "") + hex + ">" }
            }
        } else {
            let (start, end) = span(true)
            sink(TokenSpan(id: id, start: start, end: end)) { String(decoding: bytes, as: UTF8.self) }
        }
    }

    /// sentencepiece's Normalizer::Normalize on text already through the other steps: at each position the
    /// longest user-defined piece (kept as written) or else the charsmap's longest rule or else one scalar; with
    /// removeExtraWhitespaces, spaces that start the text, follow a space or end it are dropped; "▁" for each space
    /// and one in front. Each scalar's source is where its rule's match started; `end`: where the last piece ends.
    private func sentencePieceNormalized(_ t: NormalizedText, count: Int32) -> (NormalizedText, end: Int32) {
        var out = NormalizedText("")
        var utf8: [UInt8] = [], byteAt: [Int] = []  // byteAt[i]: the UTF-8 offset of scalar i
        for s in t.scalars {
            byteAt.append(utf8.count)
            utf8 += s.utf8
        }
        byteAt.append(utf8.count)
        /// The chunk at scalar i: its replacement scalars and how many scalars it takes.
        func chunk(_ i: Int) -> (replacement: [Unicode.Scalar], taking: Int) {
            var user = 0
            pieces.prefixes(utf8, from: byteAt[i]) { length, id in
                if types[Int(id)] == .userDefined { user = length }
            }
            var length = user, replacement: [Unicode.Scalar]?
            if user == 0, let rule = charsmap?.longest(utf8[byteAt[i]...]) {
                length = rule.length
                replacement = Array(String(decoding: rule.replacement, as: UTF8.self).unicodeScalars)
            }
            if length == 0 { length = UTF8.width(t.scalars[i]) }
            var j = i
            while byteAt[j] < byteAt[i] + length { j += 1 }
            return (replacement ?? Array(t.scalars[i..<j]), j - i)
        }
        var i = 0
        if options.removeExtraWhitespaces {
            while i < t.scalars.count {
                let c = chunk(i)
                guard c.replacement == [" "] else { break }
                i += c.taking
            }
        }
        guard i < t.scalars.count else { return (out, count) }
        if options.addSpacePrefix {
            out.scalars.append("\u{2581}")
            out.sources.append(t.sources[i])
        }
        var afterSpace = options.removeExtraWhitespaces
        while i < t.scalars.count {
            var (r, taking) = chunk(i)
            if afterSpace { r = Array(r.drop { $0 == " " }) }
            for s in r {
                out.scalars.append(s == " " ? "\u{2581}" : s)
                out.sources.append(t.sources[i])
            }
            if !r.isEmpty { afterSpace = r.last == " " }
            if !options.removeExtraWhitespaces { afterSpace = false }
            i += taking
        }
        var end = count
        while options.removeExtraWhitespaces, out.scalars.last == "\u{2581}" {
            out.scalars.removeLast()
            end = out.sources.removeLast()
        }
        return (out, end)
    }

    /// The best segmentation of one text, as tokenizers' encode_optimized and sentencepiece's EncodeOptimized find
    /// it: for each byte position the best path ending there; a character no single piece covers may also be the
    /// unknown token (scored as the lowest score less 10). tokenizers adds in Double, sentencepiece in Float.
    private struct Viterbi {
        var bytes: [UInt8] = [], scalarAt: [Int] = []  // scalarAt[b]: the scalar byte b belongs to
        var best: [Double] = [], from: [Int] = [], id: [Int32] = []

        mutating func run(_ scalars: [Unicode.Scalar], _ u: Unigram) {
            bytes.removeAll(keepingCapacity: true)
            scalarAt.removeAll(keepingCapacity: true)
            for (i, s) in scalars.enumerated() {
                bytes += s.utf8
                scalarAt += repeatElement(i, count: UTF8.width(s))
            }
            let n = bytes.count, float = u.options.library == .sentencePiece
            best = Array(repeating: 0, count: n + 1)
            from = Array(repeating: -1, count: n + 1)
            id = Array(repeating: -1, count: n + 1)
            var start = 0
            while start < n {
                let width = UTF8.width(scalars[scalarAt[start]]), here = best[start]
                var single = false
                func offer(_ end: Int, _ score: Float, _ piece: Int32) {
                    let candidate = float ? Double(Float(here) + score) : here + Double(score)
                    if from[end] < 0 || candidate > best[end] {
                        (best[end], from[end], id[end]) = (candidate, start, piece)
                    }
                }
                u.pieces.prefixes(bytes, from: start) { length, piece in
                    offer(start + length, u.scores[Int(piece)], piece)
                    if length == width { single = true }
                }
                if !single { offer(start + width, u.unknownScore, u.unknown) }
                start += width
            }
        }

        /// The path's pieces in order, as byte ranges.
        func pieces() -> [(id: Int32, bytes: Range<Int>)] {
            var out: [(id: Int32, bytes: Range<Int>)] = []
            var end = bytes.count
            while end > 0 {
                out.append((id[end], from[end]..<end))
                end = from[end]
            }
            return out.reversed()
        }

        /// The path's pieces with each run of unknown ones fused into one.
        func fusedPieces(_ unknown: Int32) -> [(id: Int32, bytes: Range<Int>)] {
            var out: [(id: Int32, bytes: Range<Int>)] = []
            for p in pieces() {
                if p.id == unknown, let last = out.last, last.id == p.id {
                    out[out.count - 1].bytes = last.bytes.lowerBound..<p.bytes.upperBound
                } else {
                    out.append(p)
                }
            }
            return out
        }
    }

    // MARK: Decoding

    /// transformers' decode for these tokenizers: the tokens' pieces (ids outside the vocabulary and UNUSED ones
    /// dropped, control and unknown ones too with `skipSpecial`), runs of byte tokens as their text (each byte
    /// "\u{FFFD}" when the run is not UTF-8: tokenizers' ByteFallback decoder), then Metaspace's decoder: "▁" is
    /// a space, except in the first token, where it is dropped (with addSpacePrefix).
    func decode(_ ids: [Int32], skipSpecial: Bool) -> String {
        var out = "", run: [UInt8] = [], first = true
        func append(_ piece: String) {
            for u in piece.unicodeScalars {
                if u != "\u{2581}" { out.unicodeScalars.append(u) } else if !first || !options.addSpacePrefix { out += " " }
            }
            first = false
        }
        func flushBytes() {
            guard !run.isEmpty else { return }
            append(String(validating: run, as: UTF8.self) ?? String(repeating: "\u{FFFD}", count: run.count))
            run.removeAll()
        }
        for id in ids where tokens.indices.contains(Int(id)) {
            let type = types[Int(id)]
            if type == .unused || (skipSpecial && (type == .control || type == .unknown)) { continue }
            if type == .byte, let b = Tokenizer.byteToken(tokens[Int(id)]) {
                run.append(b)
                continue
            }
            flushBytes()
            append(tokens[Int(id)])
        }
        flushBytes()
        return out
    }
}

/// Byte strings → ids: a trie numbered breadth first, so each node's children are consecutive nodes
/// (`firstChild[n]..<firstChild[n + 1]`, their bytes ascending in `label`).
struct ByteTrie: Sendable {
    private var label: [UInt8] = [], firstChild: [Int32] = [], value: [Int32] = []

    /// A key given twice keeps its last id (as tokenizers' token_to_ids does).
    init(_ keys: [(bytes: [UInt8], id: Int32)]) {
        var unique: [[UInt8]: Int32] = [:]
        for k in keys where !k.bytes.isEmpty { unique[k.bytes] = k.id }
        let sorted = unique.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        // Breadth first: node n stands for the keys sorted[lo..<hi] sharing their first `depth` bytes.
        var queue: [(lo: Int, hi: Int, depth: Int)] = [(0, sorted.count, 0)]
        label = [0]
        var n = 0
        while n < queue.count {
            var (lo, hi, depth) = queue[n]
            firstChild.append(Int32(queue.count))
            if lo < hi, sorted[lo].key.count == depth {
                value.append(sorted[lo].value)
                lo += 1
            } else {
                value.append(-1)
            }
            while lo < hi {
                let b = sorted[lo].key[depth]
                var end = lo + 1
                while end < hi, sorted[end].key[depth] == b { end += 1 }
                queue.append((lo, end, depth + 1))
                label.append(b)
                lo = end
            }
            n += 1
        }
        firstChild.append(Int32(queue.count))
    }

    /// `body(length, id)` for every key that starts `bytes[start...]`, shortest first.
    func prefixes(_ bytes: [UInt8], from start: Int, _ body: (Int, Int32) -> Void) {
        var node = 0, at = start
        while at < bytes.count {
            var lo = Int(firstChild[node]), hi = Int(firstChild[node + 1])
            let b = bytes[at]
            while lo < hi {  // binary search among the children's bytes
                let mid = (lo + hi) / 2
                if label[mid] < b { lo = mid + 1 } else { hi = mid }
            }
            guard lo < Int(firstChild[node + 1]), label[lo] == b else { return }
            node = lo
            at += 1
            if value[node] >= 0 { body(at - start, value[node]) }
        }
    }
}

extension NormalizedText {
    /// Every occurrence of `pattern`, left to right, becomes `replacement` (tokenizers' Replace with a literal),
    /// the new scalars taking the source of the last they replace (as tokenizers aligns them).
    mutating func replace(_ pattern: [Unicode.Scalar], with replacement: [Unicode.Scalar]) {
        guard !pattern.isEmpty, scalars.count >= pattern.count else { return }
        var s: [Unicode.Scalar] = [], src: [Int32] = []
        var i = 0
        while i < scalars.count {
            if i + pattern.count <= scalars.count, scalars[i..<i + pattern.count].elementsEqual(pattern) {
                s += replacement
                src += repeatElement(sources[i + pattern.count - 1], count: replacement.count)
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
