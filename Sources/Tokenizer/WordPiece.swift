// WordPiece (BERT, DistilBERT) as Hugging Face tokenizers runs it (normalizers/bert.rs, pre_tokenizers/bert.rs,
// models/wordpiece, decoders/wordpiece.rs): BertNormalizer (clean text, pad CJK ideographs, strip accents,
// lowercase), BertPreTokenizer (split on whitespace, isolate punctuation), then greedy longest-match-first pieces
// per word, each token with the span of the original text it came from (transformers' offset_mapping).
// The vocabulary comes in llama.cpp's phantom-space form (Converter/TokenizerConversion+WordPiece.swift).

import TensorFile

/// A WordPiece tokenizer read from GGUF metadata.
struct WordPiece: Sendable {
    /// BertNormalizer's steps, in the order they run.
    let cleanText, chineseChars, stripAccents, lowercase: Bool
    /// Longer words (in scalars, after normalization) become one unknown token.
    let maxWordScalars: Int
    let unknown: Int32
    /// Hugging Face spellings by id ("the", "##ing", "[CLS]"); "" for unused fillers, which tokenizers' vocabulary lacks.
    let spellings: [String]
    /// Spelling → id, as tokenizers' WordPiece vocab; keyed by scalars, since String equality is canonical
    /// equivalence and tokenizers compares bytes ("cafe\u{301}" is not "café").
    let vocab: [[Unicode.Scalar]: Int32]
    /// The longest spelling in scalars: no longer piece of a word can match.
    let maxPieceScalars: Int
    /// Control and unused tokens: what decode(skipSpecial: true) leaves out.
    let skipped: [Bool]

    init(_ file: GGUFFile, tokens: [String], types: [TokenType]) throws(TokenizerError) {
        guard tokens.count == types.count, !tokens.isEmpty else {
            throw .config(key: MetadataKey.tokenTypes, reason: "\(types.count) types for \(tokens.count) tokens")
        }
        func flag(_ key: String) throws(TokenizerError) -> Bool? {
            guard file.contains(key) else { return nil }
            do { return try file.bool(key) } catch { throw .file(error) }
        }
        func int(_ key: String) throws(TokenizerError) -> Int? {
            guard file.contains(key) else { return nil }
            do { return try file.int(key) } catch { throw .file(error) }
        }
        // Without Swiftlet's keys (a file from llama.cpp's converter): BertNormalizer's defaults.
        cleanText = try flag(MetadataKey.normalizerCleanText) ?? true
        chineseChars = try flag(MetadataKey.normalizerHandleChineseChars) ?? true
        lowercase = try flag(MetadataKey.normalizerLowercase) ?? false
        stripAccents = try flag(MetadataKey.normalizerStripAccents) ?? lowercase  // BERT: strip_accents null follows lowercase
        let maxChars = try int(MetadataKey.wordPieceMaxInputChars) ?? 100
        guard maxChars >= 0 else { throw .config(key: MetadataKey.wordPieceMaxInputChars, reason: "\(maxChars) is negative") }
        maxWordScalars = maxChars

        var spellings: [String] = [], vocab: [[Unicode.Scalar]: Int32] = [:], skipped: [Bool] = []
        spellings.reserveCapacity(tokens.count)
        vocab.reserveCapacity(tokens.count)
        var longest = 0
        for (i, (t, type)) in zip(tokens, types).enumerated() {
            let spelling: String
            switch type {
            case .unused: spelling = ""
            case .control, .unknown: spelling = t
            default: spelling = t.unicodeScalars.first == "\u{2581}" ? String(t.unicodeScalars.dropFirst()) : "##" + t
            }
            spellings.append(spelling)
            skipped.append(type == .control || type == .unknown || type == .unused)
            guard !spelling.isEmpty else { continue }
            vocab[Array(spelling.unicodeScalars)] = Int32(i)
            longest = max(longest, spelling.unicodeScalars.count)
        }
        if let id = try int(MetadataKey.unknownTokenID) {
            guard id >= 0, id < tokens.count else {
                throw .config(key: MetadataKey.unknownTokenID, reason: "token id \(id) is outside the vocabulary (0..<\(tokens.count))")
            }
            unknown = Int32(id)
        } else if let id = vocab[Array("[UNK]".unicodeScalars)] {
            unknown = id
        } else {
            throw .config(key: MetadataKey.unknownTokenID, reason: "missing, and there is no [UNK] token (WordPiece needs one)")
        }
        self.spellings = spellings
        self.vocab = vocab
        self.skipped = skipped
        maxPieceScalars = longest
    }

    /// The Hugging Face spelling of token `id` ("##ing", "the", "[MASK]"); "" outside the vocabulary.
    func token(_ id: Int32) -> String {
        id >= 0 && Int(id) < spellings.count ? spellings[Int(id)] : ""
    }

    // MARK: Encoding

    /// The tokens of `text` (no [CLS]/[SEP]; the caller adds them), with scalar offsets into `text`, appended to `out`.
    func encode(_ text: String, into out: inout [TokenSpan]) {
        let t = normalized(text)
        // BertPreTokenizer: whitespace ends a word and is dropped; punctuation is a word of its own.
        var wordStart = 0
        for (i, s) in t.scalars.enumerated() {
            let space = Self.isWhitespace(s), punctuation = !space && Self.isPunctuation(s)
            guard space || punctuation else { continue }
            if wordStart < i { pieces(t, wordStart..<i, into: &out) }
            if punctuation { pieces(t, i..<i + 1, into: &out) }
            wordStart = i + 1
        }
        if wordStart < t.scalars.count { pieces(t, wordStart..<t.scalars.count, into: &out) }
    }

    /// BertNormalizer: each step as tokenizers does it, sources kept.
    func normalized(_ text: String) -> NormalizedText {
        var t = NormalizedText(text)
        if cleanText {
            t.removeAll { $0.value == 0 || $0.value == 0xFFFD || Self.isControl($0) }
            for i in t.scalars.indices where Self.isWhitespace(t.scalars[i]) { t.scalars[i] = " " }
        }
        if chineseChars, t.scalars.contains(where: Self.isCJKIdeograph) {
            var scalars: [Unicode.Scalar] = [], sources: [Int32] = []
            scalars.reserveCapacity(t.scalars.count + 16)
            sources.reserveCapacity(t.scalars.count + 16)
            for (s, source) in zip(t.scalars, t.sources) {
                let cjk = Self.isCJKIdeograph(s)
                if cjk { scalars.append(" ") }
                scalars.append(s)
                if cjk { scalars.append(" ") }
                sources.append(contentsOf: repeatElement(source, count: cjk ? 3 : 1))
            }
            t.scalars = scalars
            t.sources = sources
        }
        if stripAccents {
            t.normalize(.nfd)
            t.removeAll { Self.category(of: $0) == .nonspacingMark }
        }
        if lowercase { t.lowercase() }
        return t
    }

    /// The WordPiece model on the word `t.scalars[word]`: the longest vocabulary piece at each point ("##" after
    /// the first), or one unknown token for the whole word when some point has none or the word is too long.
    private func pieces(_ t: NormalizedText, _ word: Range<Int>, into out: inout [TokenSpan]) {
        func span(_ id: Int32, _ r: Range<Int>) -> TokenSpan {
            TokenSpan(id: id, start: t.sources[r.lowerBound], end: t.sources[r.upperBound - 1] + 1)
        }
        guard word.count <= maxWordScalars else {
            out.append(span(unknown, word))
            return
        }
        let first = out.count
        var start = word.lowerBound
        var key: [Unicode.Scalar] = []
        while start < word.upperBound {
            var end = min(word.upperBound, start + maxPieceScalars)
            var found: Int32?
            while start < end {
                key.removeAll(keepingCapacity: true)
                if start > word.lowerBound { key += ["#", "#"] }
                key += t.scalars[start..<end]
                if let id = vocab[key] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let found else {
                out.removeLast(out.count - first)
                out.append(span(unknown, word))
                return
            }
            out.append(span(found, start..<end))
            start = end
        }
    }

    // MARK: Character classes as tokenizers' BERT code has them

    /// The general category tokenizers' unicode_categories crate gives `s`: its tables are Unicode 8.0, so a scalar
    /// assigned later has none (U+08D4, an Mn of Unicode 9, is not stripped; U+2E43, a Po of Unicode 9, splits nothing).
    static func category(of s: Unicode.Scalar) -> Unicode.GeneralCategory? {
        guard let age = s.properties.age, age.major < 8 || (age.major == 8 && age.minor == 0) else { return nil }
        return s.properties.generalCategory
    }

    /// Rust's char::is_whitespace (Unicode White_Space); tab, newline and carriage return among them.
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        CodePointClass.of(s.value) & CodePointClass.whitespace != 0
    }

    /// bert.rs is_control: Cc, Cf, Co and Cs except tab, newline and carriage return (U+0085 and U+000B too go).
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch category(of: s) {
        case .control?, .format?, .privateUse?, .surrogate?: return true
        default: return false
        }
    }

    /// BERT's is_punctuation: ASCII 33-47, 58-64, 91-96, 123-126 (so $ + < = > ^ ` | ~ too), or a P* category.
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let c = s.value
        if c < 0x80 { return (33...47).contains(c) || (58...64).contains(c) || (91...96).contains(c) || (123...126).contains(c) }
        switch category(of: s) {
        case .connectorPunctuation?, .dashPunctuation?, .openPunctuation?, .closePunctuation?, .initialPunctuation?,
             .finalPunctuation?, .otherPunctuation?: return true
        default: return false
        }
    }

    /// bert.rs is_chinese_char: the CJK Unified Ideographs blocks as tokenizers spells them (its Extension E range
    /// starts at U+2B920, not U+2B820; Extension G, U+30000, is not among them).
    static func isCJKIdeograph(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: true
        default: false
        }
    }

    // MARK: Decoding

    /// transformers' tokenizer.decode(ids, skip_special_tokens: skipSpecial) for a BERT tokenizer (the tokenizers
    /// WordPiece decoder with cleanup; clean_up_tokenization_spaces false, as BERT's tokenizer_config leaves it):
    /// tokens joined by spaces, "##" pieces glued on (not the first token's), " ." " ?" " !" " ," closed up.
    /// Ids outside the vocabulary and unused fillers are left out, as tokenizers' id_to_token skips them.
    func decode(_ ids: [Int32], skipSpecial: Bool) -> String {
        var text = ""
        var first = true
        for id in ids {
            guard id >= 0, Int(id) < spellings.count, !spellings[Int(id)].isEmpty else { continue }
            if skipSpecial, skipped[Int(id)] { continue }
            var piece = Array(spellings[Int(id)].unicodeScalars)
            if !first {
                if piece.starts(with: ["#", "#"]) { piece.removeFirst(2) } else { piece.insert(" ", at: 0) }
            }
            first = false
            text.unicodeScalars += Self.cleanUp(piece)
        }
        return text
    }

    /// decoders/wordpiece.rs cleanup, applied to each piece with its leading space; scalar by scalar, as Rust's
    /// str::replace matches bytes (Swift's String.replacing would not match " ." before a combining mark).
    static func cleanUp(_ piece: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard piece.contains(" ") else { return piece }
        var s = piece
        for (from, to) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
                           (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            s = replacingAll(s, Array(from.unicodeScalars), with: Array(to.unicodeScalars))
        }
        return s
    }

    /// Every occurrence of `pattern`, left to right, replaced (by hand: the standard library's `replace` on
    /// collections lives in _StringProcessing, which the C library does not link).
    static func replacingAll(_ s: [Unicode.Scalar], _ pattern: [Unicode.Scalar], with replacement: [Unicode.Scalar])
        -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        var i = 0
        while i < s.count {
            if i + pattern.count <= s.count, s[i..<i + pattern.count].elementsEqual(pattern) {
                out += replacement
                i += pattern.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }
}
