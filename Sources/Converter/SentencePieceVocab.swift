// SentencePiece vocabularies (tokenizer.model, spiece.model) → GGUF tokenizer metadata, as llama.cpp's
// convert_hf_to_gguf.py writes them: the Llama family's `_set_vocab_sentencepiece` ("llama"), and for XLNet the
// unigram vocabulary of T5Model.set_vocab ("t5") with XLNet's encoding facts under Swiftlet's keys.

import Engine
import TensorFile
#if canImport(Glibc)
import Glibc
#endif

public enum SentencePieceVocab {
    /// Tokenizer metadata from the SentencePiece model in `directory`, padded to `vocabSize` entries; nil when the
    /// model's family takes its vocabulary from elsewhere (llama.cpp's choice) or the directory has no such file.
    public static func metadata(directory: String, config: HFConfig, vocabSize: Int) throws(ModelError) -> [(key: String, value: GGUFValue)]? {
        switch config.string("model_type") {
        case "llama", "mistral", "mixtral":
            // LlamaModel.set_vocab: tokenizer.model wins over tokenizer.json.
            let path = directory + "/tokenizer.model"
            guard exists(path) else { return nil }
            return try llama(path: path, directory: directory, config: config, vocabSize: vocabSize)
        case "xlnet":
            guard let path = ["tokenizer.model", "spiece.model"].map({ directory + "/" + $0 }).first(where: exists) else { return nil }
            return try xlnet(path: path, directory: directory, config: config, vocabSize: vocabSize)
        default:
            return nil
        }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func load(_ path: String) throws(ModelError) -> SentencePieceModel {
        do { return try SentencePieceModel(path: path) } catch { throw .file(error) }
    }

    /// A unigram vocabulary as llama.cpp's T5 conversion writes it (tokenizer.ggml.model "t5"): pieces by id,
    /// scores, types and the normalizer's settings; T5 and XLNet share it.
    static func unigramMetadata(_ sp: SentencePieceModel, _ v: (tokens: [String], scores: [Float], types: [Int32]))
        -> [(key: String, value: GGUFValue)] {
        var out: [(key: String, value: GGUFValue)] = [
            (MetadataKey.tokenizerModel, .string("t5")),
            (MetadataKey.tokenizerPre, .string("default")),
            (MetadataKey.tokens, .array(.string(v.tokens))),
            (MetadataKey.tokenScores, .array(.float32(v.scores))),
            (MetadataKey.tokenTypes, .array(.int32(v.types))),
            (MetadataKey.addSpacePrefix, .bool(sp.addDummyPrefix)),
            (MetadataKey.removeExtraWhitespaces, .bool(sp.removeExtraWhitespaces)),
        ]
        if !sp.precompiledCharsmap.isEmpty { out.append((MetadataKey.precompiledCharsmap, .array(.uint8(sp.precompiledCharsmap)))) }
        return out
    }

    /// Pieces by id as llama.cpp lists them: ids past the pieces are `[PAD{i}]` (UNUSED, score -10000); user-defined
    /// pieces count as NORMAL (llama.cpp asks sentencepiece only about unknown, control, unused and byte).
    static func pieces(_ sp: SentencePieceModel, count: Int) -> (tokens: [String], scores: [Float], types: [Int32]) {
        var tokens = (0..<count).map { "[PAD\($0)]" }
        var scores = [Float](repeating: -10000, count: count), types = [Int32](repeating: TokenType.unused.rawValue, count: count)
        for (i, p) in sp.pieces.prefix(count).enumerated() {
            tokens[i] = p.text
            scores[i] = p.score
            types[i] = switch p.type {
            case .unknown: TokenType.unknown.rawValue
            case .control: TokenType.control.rawValue
            case .unused: TokenType.unused.rawValue
            case .byte: TokenType.byte.rawValue
            case .normal, .userDefined: TokenType.normal.rawValue
            }
        }
        return (tokens, scores, types)
    }

    /// added_tokens.json: tokens appended to the SentencePiece model, USER_DEFINED with score -1000.
    static func addTokensFile(_ directory: String, count: Int,
                              _ v: inout (tokens: [String], scores: [Float], types: [Int32])) throws(ModelError) {
        for (content, id) in try TokenizerConversion.readJSON(directory + "/added_tokens.json")?.object?.entries ?? [] {
            guard let i = id.int, i >= 0 else { throw .tokenizer("added_tokens.json: '\(content)' has id \(id)") }
            guard i < count else { continue }  // llama.cpp ignores ids past the vocabulary
            v.tokens[i] = content
            v.scores[i] = -1000
            v.types[i] = TokenType.userDefined.rawValue
        }
    }

    // MARK: Llama, Mistral, Mixtral: tokenizer.ggml.model "llama"

    static func llama(path: String, directory: String, config: HFConfig, vocabSize: Int) throws(ModelError) -> [(key: String, value: GGUFValue)] {
        let sp = try load(path)
        let count = vocabSize > 0 ? vocabSize : sp.pieces.count
        var v = pieces(sp, count: count)
        try addTokensFile(directory, count: count, &v)
        // tokenizer_config.json's added_tokens_decoder overrides: CONTROL when special (or special-looking),
        // else USER_DEFINED with "▁" read as a space; score -1000 either way.
        let tokenizerConfig = try TokenizerConversion.readJSON(directory + "/tokenizer_config.json")
        for (key, entry) in tokenizerConfig?["added_tokens_decoder"]?.object?.entries ?? [] {
            guard let i = Int(key), i >= 0, let content = entry["content"]?.string else {
                throw .tokenizer("tokenizer_config.json: added_tokens_decoder entry '\(key)' has no id or content")
            }
            guard i < count else { continue }
            if entry["special"]?.bool == true || TokenizerConversion.looksSpecial(content) {
                v.tokens[i] = content
                v.types[i] = TokenType.control.rawValue
            } else {
                v.tokens[i] = content.replacing("\u{2581}", with: " ")
                v.types[i] = TokenType.userDefined.rawValue
            }
            v.scores[i] = -1000
        }
        var out: [(key: String, value: GGUFValue)] = []
        if let prefix = tokenizerConfig?["add_prefix_space"]?.bool { out.append((MetadataKey.addSpacePrefix, .bool(prefix))) }
        out += [
            (MetadataKey.tokenizerModel, .string("llama")),
            (MetadataKey.tokenizerPre, .string("default")),
            (MetadataKey.tokens, .array(.string(v.tokens))),
            (MetadataKey.tokenScores, .array(.float32(v.scores))),
            (MetadataKey.tokenTypes, .array(.int32(v.types))),
        ]
        return out + (try SpecialVocab(directory: directory, config: config, count: count)).metadata
    }

    // MARK: XLNet: tokenizer.ggml.model "t5" (unigram) plus Swiftlet's keys

    /// XLNetTokenizer's defaults, used where tokenizer_config.json names no special token.
    static let xlnetSpecials = ["bos": "<s>", "eos": "</s>", "unk": "<unk>", "sep": "<sep>", "pad": "<pad>",
                                "cls": "<cls>", "mask": "<mask>"]

    static func xlnet(path: String, directory: String, config: HFConfig, vocabSize: Int) throws(ModelError) -> [(key: String, value: GGUFValue)] {
        let sp = try load(path)
        guard sp.kind == .unigram else { throw .unsupported("\(path): an XLNet SentencePiece model of kind \(sp.kind)") }
        let count = vocabSize > 0 ? vocabSize : sp.pieces.count
        guard sp.pieces.count <= count else {
            throw .tokenizer("\(path) has \(sp.pieces.count) pieces, more than vocab_size \(count)")
        }
        var v = pieces(sp, count: count)
        try addTokensFile(directory, count: count, &v)
        var out = unigramMetadata(sp, v)

        // Special tokens by content (tokenizer_config.json, else XLNetTokenizer's defaults), found among the pieces.
        let tokenizerConfig = try TokenizerConversion.readJSON(directory + "/tokenizer_config.json")
        var idOf: [String: Int] = [:]
        for (i, t) in v.tokens.enumerated() where idOf[t] == nil { idOf[t] = i }
        func special(_ kind: String) throws(ModelError) -> Int {
            let entry = tokenizerConfig?["\(kind)_token"]
            let content = entry?.string ?? entry?["content"]?.string ?? xlnetSpecials[kind]!
            guard let id = idOf[content] else { throw .tokenizer("\(path): no piece '\(content)' for the \(kind) token") }
            return id
        }
        let keys = [("bos", MetadataKey.bosTokenID), ("eos", MetadataKey.eosTokenID), ("unk", MetadataKey.unknownTokenID),
                    ("sep", MetadataKey.separatorTokenID), ("pad", MetadataKey.paddingTokenID), ("mask", MetadataKey.maskTokenID),
                    ("cls", MetadataKey.clsTokenID)]
        for (kind, key) in keys { out.append((key, .uint32(UInt32(try special(kind))))) }
        // XLNet appends "<sep> <cls>" to a sequence (pairs: A <sep> B <sep> <cls>), adds nothing in front, pads on the
        // left, and normalizes as XLNetTokenizer does: `` and '' become ", then NFKD and accents stripped unless
        // keep_accents, lowercase as do_lower_case says.
        let stripAccents = !(tokenizerConfig?["keep_accents"]?.bool ?? false)
        if stripAccents { out.append((MetadataKey.normalizerUnicodeForm, .string("NFKD"))) }
        out += [
            (MetadataKey.normalizerReplacements, .array(.string(["``", "\"", "''", "\""]))),
            (MetadataKey.addBOS, .bool(false)),
            (MetadataKey.addEOS, .bool(false)),
            (MetadataKey.appendTokenIDs, .array(.uint32([UInt32(try special("sep")), UInt32(try special("cls"))]))),
            (MetadataKey.paddingSide, .string(tokenizerConfig?["padding_side"]?.string ?? "left")),
            (MetadataKey.normalizerLowercase, .bool(tokenizerConfig?["do_lower_case"]?.bool ?? false)),
            (MetadataKey.normalizerStripAccents, .bool(stripAccents)),
        ]
        return out
    }
}
