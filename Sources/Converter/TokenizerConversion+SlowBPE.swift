// A byte-level BPE tokenizer saved without tokenizer.json (vocab.json and merges.txt, as GPT-2, RoBERTa and BART
// checkpoints saved by slow tokenizers are, distilbart among them): the tokenizer.json transformers builds from
// those files (convert_slow_tokenizer.py's GPT2Converter and RobertaConverter), so the rest of the conversion
// reads it as it reads a saved one.

import Engine
import TensorFile

extension TokenizerConversion {
    /// `directory`'s tokenizer.json, else the one built from vocab.json and merges.txt; nil when neither is there.
    static func tokenizerJSON(directory: String, config: HFConfig) throws(ModelError) -> (json: JSONValue, path: String)? {
        let path = directory + "/tokenizer.json"
        if let json = try readJSON(path) { return (json, path) }
        let vocabPath = directory + "/vocab.json", mergesPath = directory + "/merges.txt"
        guard SentencePieceVocab.exists(mergesPath), let vocab = try readJSON(vocabPath) else { return nil }
        guard let vocabObject = vocab.object else { throw .tokenizer("\(vocabPath) is not an object (token → id)") }
        let merges = try CTRLVocab.merges(mergesPath).map { JSONValue.string($0) }
        let tc = try readJSON(directory + "/tokenizer_config.json")
        let map = try readJSON(directory + "/special_tokens_map.json")
        let kinds = [tc?["tokenizer_class"]?.string, config.string("model_type")].compactMap { $0?.lowercased() }
        let roberta = kinds.contains { k in ["roberta", "bart", "longformer"].contains { k.hasPrefix($0) } }
        // The slow classes' defaults, overridden by tokenizer_config.json, then special_tokens_map.json.
        let defaults: [(kind: String, content: String)] = roberta
            ? [("bos", "<s>"), ("eos", "</s>"), ("sep", "</s>"), ("cls", "<s>"), ("unk", "<unk>"), ("pad", "<pad>"), ("mask", "<mask>")]
            : [("bos", "<|endoftext|>"), ("eos", "<|endoftext|>"), ("unk", "<|endoftext|>")]
        func content(_ kind: String, _ fallback: String) -> String {
            for source in [map, tc] {
                let v = source?["\(kind)_token"]
                if let s = v?.string ?? v?["content"]?.string { return s }
            }
            return fallback
        }
        // Tokens added past the vocabulary: added_tokens.json (content → id), as slow tokenizers save them.
        let extra = try readJSON(directory + "/added_tokens.json")?.object
        func id(_ content: String) -> Int? { vocabObject[content]?.int ?? extra?[content]?.int }
        var added: [Int: JSONValue] = [:]
        func add(_ id: Int, _ content: String, special: Bool, lstrip: Bool, rstrip: Bool) {
            added[id] = .object(JSONObject([("id", .int(id)), ("content", .string(content)), ("single_word", .bool(false)),
                                            ("lstrip", .bool(lstrip)), ("rstrip", .bool(rstrip)), ("normalized", .bool(!special)),
                                            ("special", .bool(special))]))
        }
        for (c, i) in extra?.entries ?? [] {
            guard let i = i.int, i >= 0 else { throw .tokenizer("\(directory)/added_tokens.json: '\(c)' has id \(i)") }
            add(i, c, special: false, lstrip: false, rstrip: false)
        }
        var specials: [String: (content: String, id: Int)] = [:]
        for (kind, fallback) in defaults {
            let c = content(kind, fallback)
            guard let i = id(c) else { continue }  // a special token the vocabulary lacks is not used
            specials[kind] = (c, i)
            // RobertaTokenizer's mask takes the space before it.
            add(i, c, special: true, lstrip: roberta && kind == "mask", rstrip: false)
        }
        for source in [map, tc] {
            for entry in source?["additional_special_tokens"]?.array ?? [] {
                if let c = entry.string ?? entry["content"]?.string, let i = id(c) { add(i, c, special: true, lstrip: false, rstrip: false) }
            }
        }
        for (key, entry) in tc?["added_tokens_decoder"]?.object?.entries ?? [] {
            guard let id = Int(key), let c = entry["content"]?.string else {
                throw .tokenizer("\(directory)/tokenizer_config.json: added_tokens_decoder entry '\(key)' has no id or content")
            }
            add(id, c, special: entry["special"]?.bool ?? false, lstrip: entry["lstrip"]?.bool ?? false, rstrip: entry["rstrip"]?.bool ?? false)
        }
        let prefix = JSONValue.bool(tc?["add_prefix_space"]?.bool ?? false)
        let byteLevel = JSONValue.object(JSONObject([("type", .string("ByteLevel")), ("add_prefix_space", prefix),
                                                     ("trim_offsets", .bool(true)), ("use_regex", .bool(true))]))
        let post: JSONValue
        if roberta, let sep = specials["sep"], let cls = specials["cls"] {
            post = .object(JSONObject([("type", .string("RobertaProcessing")), ("sep", .array([.string(sep.content), .int(sep.id)])),
                                       ("cls", .array([.string(cls.content), .int(cls.id)])), ("trim_offsets", .bool(true)),
                                       ("add_prefix_space", prefix)]))
        } else {
            post = .object(JSONObject([("type", .string("ByteLevel")), ("trim_offsets", .bool(false))]))
        }
        let model = JSONValue.object(JSONObject([("type", .string("BPE")), ("vocab", vocab), ("merges", .array(merges))]))
        let json = JSONValue.object(JSONObject([("added_tokens", .array(added.sorted { $0.key < $1.key }.map(\.value))),
                                                ("normalizer", .null), ("pre_tokenizer", byteLevel), ("post_processor", post),
                                                ("decoder", byteLevel), ("model", model)]))
        return (json, "\(vocabPath) and \(mergesPath)")
    }
}
