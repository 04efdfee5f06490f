// The encoder-decoders' tokenizers and generation defaults → GGUF metadata (formats/TENSORS-seq2seq.md): T5's
// SentencePiece unigram vocabulary as llama.cpp's T5Model.set_vocab writes it, with its <extra_id_N> sentinels
// named; BART's byte-level BPE through TokenizerConversion; Marian's vocab.json with its source SentencePiece model
// under Swiftlet's keys; and for all three the generation_config.json settings a decoding loop must honour.

import Engine
import TensorFile

public enum Seq2SeqVocab {
    /// Tokenizer and generation metadata for the T5, BART and Marian directory `directory`, the vocabulary padded to
    /// `vocabSize` entries; nil for other model types.
    public static func metadata(directory: String, config: HFConfig, vocabSize: Int) throws(ModelError) -> [(key: String, value: GGUFValue)]? {
        let vocabulary: [(key: String, value: GGUFValue)]
        guard let arch = config.string("model_type") else { return nil }
        switch arch {
        case "t5": vocabulary = try t5(directory: directory, config: config, vocabSize: vocabSize)
        case "bart":
            // transformers (since 4.45) cleans spaces in decode only when tokenizer_config.json asks.
            vocabulary = try TokenizerConversion.metadata(directory: directory, config: config, vocabSize: vocabSize,
                                                          cleanSpaces: false)
        case "marian": vocabulary = try marian(directory: directory, vocabSize: vocabSize)
        default: return nil
        }
        return try generation(directory: directory, config: config, architecture: arch) + vocabulary
    }

    // MARK: T5: tokenizer.ggml.model "t5"

    static func t5(directory: String, config: HFConfig, vocabSize count: Int) throws(ModelError) -> [(key: String, value: GGUFValue)] {
        guard let path = ["tokenizer.model", "spiece.model"].map({ directory + "/" + $0 }).first(where: SentencePieceVocab.exists) else {
            // Only tokenizer.json (as many fine-tuned T5s ship): its Unigram model, as for ALBERT.
            return try TokenizerConversion.metadata(directory: directory, config: config, vocabSize: count)
        }
        let sp = try SentencePieceVocab.load(path)
        guard sp.kind == .unigram else {
            throw .unsupported("\(path): a T5 SentencePiece model of kind \(sp.kind) (unigram is supported)")
        }
        guard sp.pieces.count <= count else { throw .tokenizer("\(path) has \(sp.pieces.count) pieces, more than vocab_size \(count)") }
        var v = SentencePieceVocab.pieces(sp, count: count)
        try SentencePieceVocab.addTokensFile(directory, count: count, &v)
        // The sentinels live in tokenizer.json (or tokenizer_config.json), past the pieces, where llama.cpp writes
        // [PAD{i}]; Swiftlet names them as llama.cpp names added tokens elsewhere, so <extra_id_0> decodes as itself.
        for (i, content, special) in try addedTokens(directory) where i >= sp.pieces.count && i < count
            && v.types[i] == TokenType.unused.rawValue {
            v.tokens[i] = content
            v.scores[i] = -1000
            v.types[i] = (special ? TokenType.control : TokenType.userDefined).rawValue
        }
        return SentencePieceVocab.unigramMetadata(sp, v) + (try SpecialVocab(directory: directory, config: config, count: count)).metadata
    }

    /// Added tokens by id: tokenizer.json's added_tokens, else tokenizer_config.json's added_tokens_decoder.
    static func addedTokens(_ directory: String) throws(ModelError) -> [(id: Int, content: String, special: Bool)] {
        var out: [(id: Int, content: String, special: Bool)] = []
        if let added = try TokenizerConversion.readJSON(directory + "/tokenizer.json")?["added_tokens"]?.array {
            for entry in added {
                guard let i = entry["id"]?.int, i >= 0, let content = entry["content"]?.string else {
                    throw .tokenizer("tokenizer.json: added_tokens entry without id or content")
                }
                out.append((i, content, entry["special"]?.bool ?? false))
            }
            return out
        }
        let tokenizerConfig = try TokenizerConversion.readJSON(directory + "/tokenizer_config.json")
        for (key, entry) in tokenizerConfig?["added_tokens_decoder"]?.object?.entries ?? [] {
            guard let i = Int(key), i >= 0, let content = entry["content"]?.string else {
                throw .tokenizer("tokenizer_config.json: added_tokens_decoder entry '\(key)' has no id or content")
            }
            out.append((i, content, entry["special"]?.bool ?? false))
        }
        return out
    }

    // MARK: Marian: tokenizer.ggml.model "marian"

    static func marian(directory: String, vocabSize count: Int) throws(ModelError) -> [(key: String, value: GGUFValue)] {
        let vocabPath = directory + "/vocab.json", sourcePath = directory + "/source.spm"
        let tokenizerConfig = try TokenizerConversion.readJSON(directory + "/tokenizer_config.json")
        if tokenizerConfig?["separate_vocabs"]?.bool == true {
            throw .unsupported("a Marian tokenizer with separate source and target vocabularies (separate_vocabs)")
        }
        guard let vocab = try TokenizerConversion.readJSON(vocabPath)?.object else {
            throw .tokenizer("\(vocabPath) not found or not an object (Marian's vocabulary: piece → model id)")
        }
        var byID: [Int: String] = [:], idOf: [String: Int] = [:]
        for (token, id) in vocab.entries {
            guard let i = id.int, i >= 0 else { throw .tokenizer("\(vocabPath): '\(token)' has id \(id)") }
            guard byID[i] == nil else { throw .tokenizer("\(vocabPath): id \(i) is given to '\(byID[i]!)' and '\(token)'") }
            byID[i] = token
            idOf[token] = i
        }
        try TokenizerConversion.checkCount(byID.keys.max(), count)
        func special(_ kind: String, _ fallback: String) throws(ModelError) -> Int {
            let entry = tokenizerConfig?["\(kind)_token"]
            let content = entry?.string ?? entry?["content"]?.string ?? fallback
            guard let id = idOf[content] else { throw .tokenizer("\(vocabPath): no '\(content)' for the \(kind) token") }
            return id
        }
        let eos = try special("eos", "</s>"), unk = try special("unk", "<unk>"), pad = try special("pad", "<pad>")
        let tokens = (0..<count).map { byID[$0] ?? "[PAD\($0)]" }
        let types: [Int32] = (0..<count).map { i in
            let t: TokenType = switch i {
            case unk: .unknown
            case eos, pad: .control
            case _ where byID[i] == nil: .unused
            // A language code (">>de<<") at the start of the text is split off as its own token.
            case _ where tokens[i].hasPrefix(">>") && tokens[i].hasSuffix("<<") && tokens[i].count > 4: .userDefined
            default: .normal
            }
            return t.rawValue
        }
        guard SentencePieceVocab.exists(sourcePath) else {
            throw .tokenizer("\(sourcePath) not found (Marian's source SentencePiece model)")
        }
        let sp = try SentencePieceVocab.load(sourcePath)
        guard sp.kind == .unigram else {
            throw .unsupported("\(sourcePath): a SentencePiece model of kind \(sp.kind) (unigram is supported)")
        }
        let source = SentencePieceVocab.pieces(sp, count: sp.pieces.count)
        var out: [(key: String, value: GGUFValue)] = [
            (MetadataKey.tokenizerModel, .string("marian")),
            (MetadataKey.tokens, .array(.string(tokens))),
            (MetadataKey.tokenTypes, .array(.int32(types))),
            (MetadataKey.eosTokenID, .uint32(UInt32(eos))),
            (MetadataKey.unknownTokenID, .uint32(UInt32(unk))),
            (MetadataKey.paddingTokenID, .uint32(UInt32(pad))),
            (MetadataKey.addBOS, .bool(false)),
            (MetadataKey.addEOS, .bool(true)),
            (MetadataKey.sourceTokens, .array(.string(source.tokens))),
            (MetadataKey.sourceScores, .array(.float32(source.scores))),
            (MetadataKey.sourceTokenTypes, .array(.int32(source.types))),
            (MetadataKey.sourceAddSpacePrefix, .bool(sp.addDummyPrefix)),
            (MetadataKey.sourceRemoveExtraWhitespaces, .bool(sp.removeExtraWhitespaces)),
        ]
        if !sp.precompiledCharsmap.isEmpty { out.append((MetadataKey.sourcePrecompiledCharsmap, .array(.uint8(sp.precompiledCharsmap)))) }
        return out
    }

    // MARK: Generation defaults

    /// generation_config.json's settings that change what greedy and beam decoding produce; config.json's when there
    /// is no generation_config.json (transformers then derives one from it). Written only when set.
    static func generation(directory: String, config: HFConfig, architecture a: String) throws(ModelError) -> [(key: String, value: GGUFValue)] {
        let file = try TokenizerConversion.readJSON(directory + "/generation_config.json")
        let g = file ?? config.json, source = file == nil ? "config.json" : "generation_config.json"
        func value(_ key: String) -> JSONValue? { g[key].flatMap { $0.isNull ? nil : $0 } }
        func number(_ key: String, _ v: JSONValue) throws(ModelError) -> UInt32 {
            guard let i = v.int, i >= 0, i <= Int(UInt32.max) else {
                throw .config(key: "\(source) \(key)", reason: "expected a count, found \(v)")
            }
            return UInt32(i)
        }
        func count(_ key: String) throws(ModelError) -> UInt32? { try value(key).map { v throws(ModelError) in try number(key, v) } }
        func token(_ key: String) throws(ModelError) -> UInt32? {
            guard let v = value(key) else { return nil }
            guard let list = v.array else { return try number(key, v) }
            // transformers also takes a list here; Swiftlet takes a list of one.
            guard list.count == 1 else { throw .unsupported("\(source) \(key) \(v) (one token is)") }
            return try number(key, list[0])
        }
        var out: [(key: String, value: GGUFValue)] = []
        if let id = try token("forced_bos_token_id") { out.append((MetadataKey.forcedBOSTokenID(a), .uint32(id))) }
        if let id = try token("forced_eos_token_id") { out.append((MetadataKey.forcedEOSTokenID(a), .uint32(id))) }
        if let words = value("bad_words_ids") {
            // Single-token bad words are suppressed tokens; longer sequences need a matcher Swiftlet does not have.
            var ids: [UInt32] = []
            for w in words.array ?? [] {
                guard let seq = w.array, seq.count == 1, let i = seq[0].int, i >= 0 else {
                    throw .unsupported("\(source) bad_words_ids entry \(w) (only single tokens)")
                }
                ids.append(UInt32(i))
            }
            if !ids.isEmpty { out.append((MetadataKey.suppressTokenIDs(a), .array(.uint32(ids)))) }
        }
        if let n = try count("num_beams") { out.append((MetadataKey.beamCount(a), .uint32(n))) }
        if let n = try count("max_length") { out.append((MetadataKey.maxLength(a), .uint32(n))) }
        if let n = try count("min_length") { out.append((MetadataKey.minLength(a), .uint32(n))) }
        if let n = try count("no_repeat_ngram_size") { out.append((MetadataKey.noRepeatNGramSize(a), .uint32(n))) }
        if let v = value("length_penalty") {
            guard let x = v.double else { throw .config(key: "\(source) length_penalty", reason: "expected a number, found \(v)") }
            out.append((MetadataKey.lengthPenalty(a), .float32(Float(x))))
        }
        if let v = value("early_stopping") {
            guard let b = v.bool else { throw .unsupported("\(source) early_stopping \(v) (true or false are)") }
            out.append((MetadataKey.earlyStopping(a), .bool(b)))
        }
        return out
    }
}
