// Hugging Face tokenizer files (tokenizer.json, tokenizer_config.json, config.json) → GGUF tokenizer
// metadata, the way llama.cpp's convert_hf_to_gguf.py writes it (get_vocab_base, SpecialVocab), so a
// file needs no side files at run time. Each kind of tokenizer.json model has its own file (+BPE, +WordPiece,
// +Unigram); here are the parts they share: reading, dispatch, the vocabulary by id, special tokens.

import Engine
import TensorFile

public enum TokenizerConversion {
    /// The files a tokenizer is read from.
    struct Files {
        let path: String          // tokenizer.json, for messages
        let tokenizer: JSONValue  // tokenizer.json
        let model: JSONValue      // its "model"
    }

    /// Metadata for the tokenizer in `directory`, padded to `vocabSize` entries as llama.cpp pads. A byte-level BPE's
    /// clean-up of spaces in decode is tokenizer_config.json's clean_up_tokenization_spaces (so decode inverts encode
    /// where it says false), else `cleanSpaces`, else (nil) llama.cpp's choice by pre-tokenizer at load.
    public static func metadata(directory: String, config: HFConfig, vocabSize: Int,
                                cleanSpaces: Bool? = nil) throws(ModelError) -> [(key: String, value: GGUFValue)] {
        guard let (tokenizer, path) = try tokenizerJSON(directory: directory, config: config) else {
            throw .tokenizer("\(directory)/tokenizer.json not found, nor vocab.json with merges.txt (needed to write the vocabulary into the GGUF)")
        }
        guard let model = tokenizer["model"], let kind = model["type"]?.string else {
            throw .tokenizer("\(path): no model.type")
        }
        let f = Files(path: path, tokenizer: tokenizer, model: model)
        var vocabulary: [(key: String, value: GGUFValue)]
        switch kind {
        case "BPE":
            vocabulary = try bpe(f, vocabSize: vocabSize)
            let asked = try readJSON(directory + "/tokenizer_config.json")?["clean_up_tokenization_spaces"]?.bool
            if let clean = asked ?? cleanSpaces { vocabulary.append((MetadataKey.cleanSpaces, .bool(clean))) }
        case "WordPiece": vocabulary = try wordPiece(f, vocabSize: vocabSize)
        case "Unigram": vocabulary = try unigram(f, vocabSize: vocabSize)
        default: throw .unsupported("tokenizer kind '\(kind)' in \(path) (known: BPE, WordPiece, Unigram)")
        }
        return vocabulary + (try strippedTokens(f)) + (try SpecialVocab(directory: directory, config: config, count: vocabSize, tokenizer: tokenizer)).metadata
    }

    /// Added tokens that take the whitespace before (lstrip) or after (rstrip) them, as RoBERTa's <mask> does:
    /// Swiftlet's keys, since llama.cpp's have no place for it.
    static func strippedTokens(_ f: Files) throws(ModelError) -> [(key: String, value: GGUFValue)] {
        var left: [Int32] = [], right: [Int32] = []
        for entry in f.tokenizer["added_tokens"]?.array ?? [] {
            guard let i = entry["id"]?.int else { continue }  // addedTokens reports it
            if entry["lstrip"]?.bool == true { left.append(Int32(i)) }
            if entry["rstrip"]?.bool == true { right.append(Int32(i)) }
        }
        return (left.isEmpty ? [] : [(MetadataKey.leftStrippedTokenIDs, .array(.int32(left.sorted())))])
            + (right.isEmpty ? [] : [(MetadataKey.rightStrippedTokenIDs, .array(.int32(right.sorted())))])
    }

    static func readJSON(_ path: String) throws(ModelError) -> JSONValue? {
        do {
            return try JSONValue.parse(contentsOf: path)
        } catch {
            if case let .io(_, _, e) = error, e == 2 { return nil }  // ENOENT: the file is optional here
            throw .file(error)
        }
    }

    /// model.vocab (token → id) with added_tokens, by id and typed as llama.cpp's get_vocab_base types them:
    /// added tokens CONTROL when special (or special-looking), else USER_DEFINED; ids nobody names `[PADi]`, UNUSED.
    static func vocabulary(_ f: Files, vocabSize: Int) throws(ModelError) -> (tokens: [String], types: [Int32]) {
        guard let vocab = f.model["vocab"]?.object else { throw .tokenizer("\(f.path): model.vocab is not an object") }
        var byID: [Int: String] = [:]
        for (token, id) in vocab.entries {
            guard let i = id.int, i >= 0 else { throw .tokenizer("\(f.path): vocab entry '\(token)' has id \(id)") }
            guard byID[i] == nil else { throw .tokenizer("\(f.path): id \(i) is given to '\(byID[i]!)' and '\(token)'") }
            byID[i] = token
        }
        let added = try addedTokens(f)
        for (i, a) in added { byID[i] = a.content }
        try checkCount(byID.keys.max(), vocabSize)
        var tokens: [String] = [], types: [Int32] = []
        tokens.reserveCapacity(vocabSize)
        types.reserveCapacity(vocabSize)
        for i in 0..<vocabSize {
            guard let token = byID[i] else {
                tokens.append("[PAD\(i)]")
                types.append(TokenType.unused.rawValue)
                continue
            }
            tokens.append(token)
            if let a = added[i] {
                types.append((a.special || looksSpecial(token) ? TokenType.control : TokenType.userDefined).rawValue)
            } else {
                types.append(TokenType.normal.rawValue)
            }
        }
        return (tokens, types)
    }

    /// tokenizer.json's added_tokens by id.
    static func addedTokens(_ f: Files) throws(ModelError) -> [Int: (content: String, special: Bool)] {
        var added: [Int: (content: String, special: Bool)] = [:]
        for entry in f.tokenizer["added_tokens"]?.array ?? [] {
            guard let i = entry["id"]?.int, i >= 0, let content = entry["content"]?.string else {
                throw .tokenizer("\(f.path): added_tokens entry without id or content")
            }
            added[i] = (content, entry["special"]?.bool ?? false)
        }
        return added
    }

    /// Every token id must fit the model's embedding table.
    static func checkCount(_ maxID: Int?, _ vocabSize: Int) throws(ModelError) {
        if let maxID, maxID >= vocabSize {
            throw .tokenizer("token id \(maxID) is outside the model's vocab_size \(vocabSize)")
        }
    }

    /// llama.cpp's does_token_look_special: added tokens that act as control tokens though not marked special.
    static func looksSpecial(_ t: String) -> Bool {
        ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].contains(t) || (t.hasPrefix("<|") && t.hasSuffix("|>"))
            || (t.hasPrefix("<｜") && t.hasSuffix("｜>")) || (t.hasPrefix("<unused") && t.hasSuffix(">"))
    }
}
