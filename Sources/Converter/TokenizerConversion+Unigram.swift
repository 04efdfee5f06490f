// SentencePiece Unigram vocabularies from tokenizer.json (ALBERT, and T5 or XLM-R style files) as llama.cpp writes
// its UGM ("t5") vocabularies (T5Model.set_vocab, the tokenizer.json path of _xlmroberta_set_vocab): pieces, scores,
// types, the precompiled charsmap and the whitespace flags. The normalizer steps llama.cpp has no keys for are
// Swiftlet's (formats/TENSORS-encoders.md); lowercase and strip_accents come with the special tokens (SpecialVocab).

import Engine
import TensorFile

extension TokenizerConversion {
    static func unigram(_ f: Files, vocabSize: Int) throws(ModelError) -> [(key: String, value: GGUFValue)] {
        guard let vocab = f.model["vocab"]?.array else { throw .tokenizer("\(f.path): model.vocab is not a list") }
        let unknown = f.model["unk_id"]?.int, byteFallback = f.model["byte_fallback"]?.bool ?? false
        let added = try addedTokens(f)
        try checkCount(max(vocab.count - 1, added.keys.max() ?? -1), vocabSize)
        var tokens = (0..<vocabSize).map { "[PAD\($0)]" }
        var scores = [Float](repeating: -10000, count: vocabSize)
        var types = [Int32](repeating: TokenType.unused.rawValue, count: vocabSize)
        for (i, entry) in vocab.enumerated() {
            guard let pair = entry.array, pair.count == 2, let piece = pair[0].string, let score = pair[1].double else {
                throw .tokenizer("\(f.path): vocab entry #\(i) is not [piece, score]")
            }
            tokens[i] = piece
            scores[i] = Float(score)
            types[i] = (byteFallback && isBytePiece(piece) ? TokenType.byte : TokenType.normal).rawValue
        }
        for (i, a) in added {
            if i >= vocab.count { (tokens[i], scores[i]) = (a.content, 0) }
            types[i] = (a.special ? TokenType.control : TokenType.userDefined).rawValue
        }
        if let unknown {
            guard unknown >= 0, unknown < vocab.count else { throw .tokenizer("\(f.path): unk_id \(unknown) is not a piece") }
            types[unknown] = TokenType.unknown.rawValue
        }

        let n = try normalizer(f)
        let (prefix, whitespaceSplit) = try metaspace(f)
        var out: [(key: String, value: GGUFValue)] = [
            (MetadataKey.tokenizerModel, .string("t5")),
            (MetadataKey.tokenizerPre, .string("default")),
            (MetadataKey.tokens, .array(.string(tokens))),
            (MetadataKey.tokenScores, .array(.float32(scores))),
            (MetadataKey.tokenTypes, .array(.int32(types))),
            (MetadataKey.addSpacePrefix, .bool(prefix)),
            (MetadataKey.removeExtraWhitespaces, .bool(whitespaceSplit || n.collapsesSpaces)),
        ]
        if !n.charsmap.isEmpty { out.append((MetadataKey.precompiledCharsmap, .array(.uint8(n.charsmap)))) }
        if let form = n.unicodeForm { out.append((MetadataKey.normalizerUnicodeForm, .string(form))) }
        if !n.replacements.isEmpty { out.append((MetadataKey.normalizerReplacements, .array(.string(n.replacements)))) }
        return out
    }

    /// SentencePiece's byte pieces, <0x00> … <0xFF>.
    static func isBytePiece(_ piece: String) -> Bool {
        piece.utf8.count == 6 && piece.hasPrefix("<0x") && piece.hasSuffix(">")
            && UInt8(piece.dropFirst(3).dropLast(), radix: 16) != nil
    }

    /// The normalizer steps a Unigram tokenizer may take, in the only order Swiftlet records them in:
    /// string replacements, one Unicode normalization form, StripAccents, Lowercase, the precompiled charsmap,
    /// then collapsing runs of spaces (Replace " {2,}" → " "). Anything else is refused rather than dropped.
    struct UnigramNormalizer {
        var replacements: [String] = []  // from, to, from, to, …
        var unicodeForm: String?
        var charsmap: [UInt8] = []
        var collapsesSpaces = false
    }

    static func normalizer(_ f: Files) throws(ModelError) -> UnigramNormalizer {
        var n = UnigramNormalizer(), stage = 0
        guard let root = f.tokenizer["normalizer"], !root.isNull else { return n }
        let steps = root["type"]?.string == "Sequence" ? root["normalizers"]?.array ?? [] : [root]
        for step in steps {
            let kind = step["type"]?.string ?? "?"
            let at: Int
            switch kind {
            case "Replace":
                if let from = step["pattern"]?["String"]?.string, let to = step["content"]?.string {
                    n.replacements += [from, to]
                    at = 0
                } else if step["pattern"]?["Regex"]?.string == " {2,}", step["content"]?.string == " " {
                    n.collapsesSpaces = true
                    at = 5
                } else {
                    throw .unsupported("Unigram normalizer step \(step) in \(f.path)")
                }
            case "NFC", "NFD", "NFKC", "NFKD":
                guard n.unicodeForm == nil else { throw .unsupported("two Unicode normalization forms in \(f.path)") }
                n.unicodeForm = kind
                at = 1
            case "StripAccents": at = 2
            case "Lowercase": at = 3
            case "Precompiled":
                guard let text = step["precompiled_charsmap"]?.string, let bytes = base64Decoded(text) else {
                    throw .tokenizer("\(f.path): precompiled_charsmap is not base64")
                }
                n.charsmap = bytes
                at = 4
            default:
                throw .unsupported("Unigram normalizer step '\(kind)' in \(f.path)")
            }
            guard at >= stage else {
                throw .unsupported("Unigram normalizer step '\(kind)' out of the usual order in \(f.path)")
            }
            stage = at
        }
        return n
    }

    /// The Metaspace pre-tokenizer (alone, or after WhitespaceSplit): whether a space is put before the text
    /// (llama.cpp's add_space_prefix) and whether runs of whitespace are split away.
    static func metaspace(_ f: Files) throws(ModelError) -> (addsPrefix: Bool, whitespaceSplit: Bool) {
        let pre = f.tokenizer["pre_tokenizer"]
        let parts = pre?["type"]?.string == "Sequence" ? pre?["pretokenizers"]?.array ?? [] : pre.map { [$0] } ?? []
        let kinds = parts.map { $0["type"]?.string ?? "?" }
        guard let m = parts.last, kinds == ["Metaspace"] || kinds == ["WhitespaceSplit", "Metaspace"] else {
            throw .unsupported("Unigram pre-tokenizer \(kinds) in \(f.path) (Metaspace, after WhitespaceSplit or alone)")
        }
        guard (m["replacement"]?.string ?? "\u{2581}") == "\u{2581}" else {
            throw .unsupported("Metaspace replacement '\(m["replacement"]?.string ?? "")' in \(f.path)")
        }
        let prefix = m["prepend_scheme"]?.string.map { $0 != "never" } ?? m["add_prefix_space"]?.bool ?? true
        return (prefix, kinds.count == 2)
    }

    /// Standard base64 (with padding), as tokenizer.json stores binary blobs; nil when malformed.
    static func base64Decoded(_ text: String) -> [UInt8]? {
        var out: [UInt8] = [], bits: UInt32 = 0, count = 0, padding = 0
        out.reserveCapacity(text.utf8.count * 3 / 4)
        for c in text.utf8 {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="): padding += 1; continue
            default: return nil
            }
            guard padding == 0 else { return nil }
            bits = bits << 6 | v
            count += 1
            if count == 4 {
                out += [UInt8(bits >> 16), UInt8(bits >> 8 & 0xff), UInt8(bits & 0xff)]
                bits = 0
                count = 0
            }
        }
        switch (count, padding) {
        case (0, 0): return out
        case (2, 2): return out + [UInt8(bits >> 4)]
        case (3, 1): return out + [UInt8(bits >> 10), UInt8(bits >> 2 & 0xff)]
        default: return nil
        }
    }
}
