// sentence-transformers directories (modules.json, 1_Pooling/config.json, sentence_bert_config.json) → GGUF
// metadata: how token vectors become one sentence vector (llama.cpp's pooling_type, as its _try_set_pooling_type
// reads it), the length inputs are cut to and whether the vector is L2-normalized (Swiftlet's keys,
// formats/TENSORS-encoders.md). A module Swiftlet cannot express is an error, not a silent omission.

import Engine
import TensorFile

enum SentenceTransformers {
    /// llama.cpp's pooling types (gguf-py PoolingType) for the modes 1_Pooling/config.json can name.
    static let poolingModes: [(flag: String, mode: String, type: UInt32)] = [
        ("pooling_mode_mean_tokens", "mean", 1), ("pooling_mode_cls_token", "cls", 2), ("pooling_mode_lasttoken", "lasttoken", 3),
    ]

    /// The keys for the sentence-transformers files in `directory`; none when it has no modules.json.
    static func metadata(directory: String, architecture a: String) throws(ModelError) -> [(key: String, value: GGUFValue)] {
        guard let modules = try TokenizerConversion.readJSON(directory + "/modules.json") else { return [] }
        guard let list = modules.array else { throw .config(key: "modules.json", reason: "expected a list of modules") }
        var out: [(key: String, value: GGUFValue)] = [], normalize = false
        for module in list {
            let type = module["type"]?.string ?? "?"
            switch type.split(separator: ".").last {
            case "Transformer":
                continue
            case "Pooling":
                let path = directory + "/" + (module["path"]?.string ?? "") + "/config.json"
                guard let config = try TokenizerConversion.readJSON(path) else { throw .config(key: path, reason: "missing") }
                out.append((MetadataKey.poolingType(a), .uint32(try poolingType(config, path: path))))
            case "Normalize":
                normalize = true
            default:
                throw .unsupported("sentence-transformers module '\(type)' (modules.json)")
            }
        }
        out.append((MetadataKey.sentenceNormalize(a), .bool(normalize)))
        if let length = try TokenizerConversion.readJSON(directory + "/sentence_bert_config.json")?["max_seq_length"] {
            guard let n = length.int, (1...(1 << 24)).contains(n) else {
                throw .config(key: "sentence_bert_config.json max_seq_length", reason: "expected a length, found \(length)")
            }
            out.append((MetadataKey.sentenceMaxSeqLength(a), .uint32(UInt32(n))))
        }
        return out
    }

    /// One pooling mode, as a GGUF pooling type; modes that combine or weight token vectors are refused.
    static func poolingType(_ config: JSONValue, path: String) throws(ModelError) -> UInt32 {
        let other = ["pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens"]
        if let flag = other.first(where: { config[$0]?.bool == true }) { throw .unsupported("\(flag) (\(path))") }
        guard config["include_prompt"]?.bool ?? true else { throw .unsupported("include_prompt false (\(path))") }
        let named = poolingModes.filter { config[$0.flag]?.bool == true || config["pooling_mode"]?.string == $0.mode }
        guard named.count == 1 else {
            throw .config(key: path, reason: "names \(named.count) pooling modes; one of mean, cls, lasttoken is supported")
        }
        return named[0].type
    }
}
