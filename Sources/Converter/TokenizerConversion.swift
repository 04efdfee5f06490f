// Hugging Face tokenizer files (tokenizer.json, tokenizer_config.json, config.json) → GGUF tokenizer
// metadata, the way llama.cpp's convert_hf_to_gguf.py writes it (get_vocab_base, SpecialVocab), so a
// file needs no side files at run time. Byte-level BPE for now; other kinds come with their models.

import Engine
import TensorFile

public enum TokenizerConversion {
    /// Metadata for the tokenizer in `directory`, padded to `vocabSize` entries as llama.cpp pads.
    public static func metadata(directory: String, config: HFConfig, vocabSize: Int) throws(ModelError) -> [(key: String, value: GGUFValue)] {
        let tokenizerPath = directory + "/tokenizer.json"
        guard let tokenizer = try readJSON(tokenizerPath) else {
            throw .tokenizer("\(tokenizerPath) not found (needed to write the vocabulary into the GGUF)")
        }
        let tokenizerConfig = try readJSON(directory + "/tokenizer_config.json") ?? .object(JSONObject())
        guard let model = tokenizer["model"], let kind = model["type"]?.string else {
            throw .tokenizer("\(tokenizerPath): no model.type")
        }
        guard kind == "BPE", model["byte_fallback"]?.bool != true, isByteLevel(tokenizer) else {
            throw .unsupported("tokenizer kind '\(kind)' in \(tokenizerPath) (byte-level BPE is supported so far)")
        }

        // Vocabulary: model.vocab plus added_tokens, by id; ids nobody names become [PADi] (UNUSED).
        guard let vocab = model["vocab"]?.object else { throw .tokenizer("\(tokenizerPath): model.vocab is not an object") }
        var byID: [Int: String] = [:]
        for (token, id) in vocab.entries {
            guard let i = id.int, i >= 0 else { throw .tokenizer("\(tokenizerPath): vocab entry '\(token)' has id \(id)") }
            guard byID[i] == nil else { throw .tokenizer("\(tokenizerPath): id \(i) is given to '\(byID[i]!)' and '\(token)'") }
            byID[i] = token
        }
        var added: [Int: (content: String, special: Bool)] = [:]
        var addedByContent: [String: Int] = [:]
        for entry in tokenizer["added_tokens"]?.array ?? [] {
            guard let i = entry["id"]?.int, i >= 0, let content = entry["content"]?.string else {
                throw .tokenizer("\(tokenizerPath): added_tokens entry without id or content")
            }
            added[i] = (content, entry["special"]?.bool ?? false)
            addedByContent[content] = i
            byID[i] = content
        }
        let count = max(vocabSize, (byID.keys.max() ?? -1) + 1)
        guard count == vocabSize else {
            throw .tokenizer("token id \(count - 1) is outside the model's vocab_size \(vocabSize)")
        }
        var tokens: [String] = [], types: [Int32] = []
        tokens.reserveCapacity(count)
        types.reserveCapacity(count)
        for i in 0..<count {
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

        var merges: [String] = []
        for (n, m) in (model["merges"]?.array ?? []).enumerated() {
            if let s = m.string {
                merges.append(s)
            } else if let pair = m.array, pair.count == 2, let a = pair[0].string, let b = pair[1].string {
                merges.append(a + " " + b)
            } else {
                throw .tokenizer("\(tokenizerPath): merge #\(n) is neither \"a b\" nor [a, b]")
            }
        }

        var out: [(key: String, value: GGUFValue)] = [
            (MetadataKey.tokenizerModel, .string("gpt2")),
            (MetadataKey.tokenizerPre, .string(try preTokenizerName(tokenizer["pre_tokenizer"], path: tokenizerPath))),
            (MetadataKey.tokens, .array(.string(tokens))),
            (MetadataKey.tokenTypes, .array(.int32(types))),
            (MetadataKey.merges, .array(.string(merges))),
        ]

        // Special ids as llama.cpp's SpecialVocab finds them: tokenizer_config.json's *_token by content,
        // then config.json's *_token_id.
        func specialID(_ kind: String) -> Int? {
            let entry = tokenizerConfig["\(kind)_token"]
            if let content = entry?.string ?? entry?["content"]?.string {
                if let i = addedByContent[content] ?? vocab[content]?.int { return i }
            }
            return config.json["\(kind)_token_id"]?.int
        }
        let keys: [(String, String)] = [
            ("bos", MetadataKey.bosTokenID), ("eos", MetadataKey.eosTokenID), ("unk", MetadataKey.unknownTokenID),
            ("sep", MetadataKey.separatorTokenID), ("pad", MetadataKey.paddingTokenID), ("mask", MetadataKey.maskTokenID),
        ]
        var bos: Int?
        for (kind, key) in keys {
            guard let i = specialID(kind) else { continue }
            guard i >= 0, i < count else { throw .tokenizer("\(kind) token id \(i) is outside the vocabulary (\(count))") }
            if kind == "bos" { bos = i }
            out.append((key, .uint32(UInt32(i))))
        }
        let (addBOS, addEOS) = addFlags(tokenizer: tokenizer, tokenizerConfig: tokenizerConfig, bos: bos)
        out.append((MetadataKey.addBOS, .bool(addBOS)))
        out.append((MetadataKey.addEOS, .bool(addEOS)))
        if let template = tokenizerConfig["chat_template"]?.string {
            out.append((MetadataKey.chatTemplate, .string(template)))
        }
        return out
    }

    static func readJSON(_ path: String) throws(ModelError) -> JSONValue? {
        do {
            return try JSONValue.parse(contentsOf: path)
        } catch {
            if case let .io(_, _, e) = error, e == 2 { return nil }  // ENOENT: the file is optional here
            throw .file(error)
        }
    }

    static func isByteLevel(_ tokenizer: JSONValue) -> Bool {
        func has(_ v: JSONValue?) -> Bool {
            guard let v else { return false }
            if v["type"]?.string == "ByteLevel" { return true }
            return (v["pretokenizers"]?.array ?? v["decoders"]?.array ?? []).contains { $0["type"]?.string == "ByteLevel" }
        }
        return has(tokenizer["pre_tokenizer"]) || has(tokenizer["decoder"])
    }

    /// The GPT-2 split regex, and Llama 3's, as tokenizer.json spells them.
    static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// llama.cpp names pre-tokenizers (`tokenizer.ggml.pre`) by hashing a tokenization; we recognise
    /// the same ones from their tokenizer.json structure, and refuse what we cannot name.
    static func preTokenizerName(_ pre: JSONValue?, path: String) throws(ModelError) -> String {
        func byteLevel(_ v: JSONValue, regex: Bool) -> Bool {
            v["type"]?.string == "ByteLevel" && (v["use_regex"]?.bool ?? true) == regex
        }
        if let pre, byteLevel(pre, regex: true) { return "gpt-2" }
        if let parts = pre?["pretokenizers"]?.array, pre?["type"]?.string == "Sequence" {
            if parts.count == 2, parts[0]["type"]?.string == "Digits", parts[0]["individual_digits"]?.bool == true,
               byteLevel(parts[1], regex: true) {
                return "smollm"
            }
            if parts.count == 2, parts[0]["type"]?.string == "Split", parts[0]["pattern"]?["Regex"]?.string == llama3Pattern,
               byteLevel(parts[1], regex: false) {
                return "llama-bpe"
            }
        }
        throw .unsupported("pre-tokenizer \(pre.map { "\($0)" } ?? "null") in \(path) (known: gpt-2, smollm, llama-bpe)")
    }

    /// Whether the tokenizer adds BOS/EOS: tokenizer_config.json's add_bos_token/add_eos_token, else what
    /// the post-processor template puts around a single sequence.
    static func addFlags(tokenizer: JSONValue, tokenizerConfig: JSONValue, bos: Int?) -> (Bool, Bool) {
        var addBOS = false, addEOS = false
        if let single = tokenizer["post_processor"]?["single"]?.array {
            let sequenceAt = single.firstIndex { $0["Sequence"] != nil } ?? 0
            addBOS = single.prefix(sequenceAt).contains { $0["SpecialToken"] != nil }
            addEOS = single.suffix(from: sequenceAt).contains { $0["SpecialToken"] != nil }
        }
        if let b = tokenizerConfig["add_bos_token"]?.bool { addBOS = b }
        if let e = tokenizerConfig["add_eos_token"]?.bool { addEOS = e }
        return (addBOS && bos != nil, addEOS)
    }

    /// llama.cpp's does_token_look_special: added tokens that act as control tokens though not marked special.
    static func looksSpecial(_ t: String) -> Bool {
        ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].contains(t) || (t.hasPrefix("<|") && t.hasSuffix("|>"))
            || (t.hasPrefix("<｜") && t.hasSuffix("｜>")) || (t.hasPrefix("<unused") && t.hasSuffix(">"))
    }
}
