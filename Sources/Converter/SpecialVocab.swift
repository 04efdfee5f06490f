// gguf-py's SpecialVocab (llama.cpp gguf-py/gguf/vocab.py) without merges: special token ids, whether encoding
// adds BOS/EOS/SEP, the chat template and normalizer flags, read from tokenizer.json (or the one vocab.json and
// merges.txt make, TokenizerConversion+SlowBPE.swift), tokenizer_config.json and config.json with the same
// precedence and the same crude template parsing, so files match llama.cpp's.

import Engine
import TensorFile

struct SpecialVocab {
    /// Special ids in the order gguf-py records them (its dict order), kinds as gguf-py names them.
    private(set) var ids: [(kind: String, id: Int)] = []
    private(set) var adds: [(kind: String, value: Bool)] = []
    private(set) var chatTemplate: String?
    private(set) var lowercase: Bool?, stripAccents: Bool?
    private var kinds = ["bos", "eos", "unk", "sep", "pad", "cls", "mask"]
    private let count: Int

    /// Reads `directory`'s tokenizer files (its tokenizer.json as `tokenizer` when the caller has it already); ids at
    /// or past `count` are skipped, as gguf-py skips them.
    init(directory: String, config: HFConfig, count: Int, tokenizer given: JSONValue? = nil) throws(ModelError) {
        self.count = count
        var tokenizer = given
        if tokenizer == nil { tokenizer = try TokenizerConversion.tokenizerJSON(directory: directory, config: config)?.json }
        var tc: [String: JSONValue] = [:]  // tokenizer_config.json; the template parsing below edits it, as gguf-py does
        for (k, v) in try TokenizerConversion.readJSON(directory + "/tokenizer_config.json")?.object?.entries ?? [] { tc[k] = v }
        let addedTokens = tokenizer?["added_tokens"]?.array ?? []
        if let tokenizer {
            if let n = tokenizer["normalizer"], !n.isNull { parseNormalizer(n) }
            if let post = tokenizer["post_processor"], !post.isNull { readPostProcessor(post, &tc) }
        }
        if !tc.isEmpty {
            if let t = tc["chat_template"] {
                guard t.isNull || t.string != nil else {
                    throw .unsupported("a chat_template that is not one string (tokenizer_config.json)")
                }
                chatTemplate = t.string
            } else {
                chatTemplate = try Self.chatTemplateFile(directory)
            }
            for kind in kinds {
                if let add = tc["add_\(kind)_token"]?.bool, !adds.contains(where: { $0.kind == kind }) {
                    adds.append((kind, add))  // the post-processor's value wins when both are given
                }
                let entry = tc["\(kind)_token"]
                guard let content = entry?.string ?? entry?["content"]?.string else { continue }
                let id = addedTokens.first { $0["content"]?.string == content }?["id"]?.int
                try setID(kind, id)
            }
        }
        for kind in kinds {
            let id = config.json["\(kind)_token_id"].flatMap { $0.isNull ? nil : $0 } ?? config.json["text_config"]?["\(kind)_token_id"]
            try setID(kind, id?.int)
        }
    }

    /// The GGUF keys gguf-py's `add_to_gguf` writes (kinds without a GGUF key, such as cls, are skipped).
    var metadata: [(key: String, value: GGUFValue)] {
        let idKeys = ["bos": MetadataKey.bosTokenID, "eos": MetadataKey.eosTokenID, "unk": MetadataKey.unknownTokenID,
                      "sep": MetadataKey.separatorTokenID, "pad": MetadataKey.paddingTokenID, "mask": MetadataKey.maskTokenID,
                      "eot": MetadataKey.eotTokenID, "eom": MetadataKey.eomTokenID]
        let addKeys = ["bos": MetadataKey.addBOS, "eos": MetadataKey.addEOS, "sep": MetadataKey.addSEP]
        var out: [(key: String, value: GGUFValue)] = []
        for (kind, id) in ids { if let key = idKeys[kind] { out.append((key, .uint32(UInt32(id)))) } }
        for (kind, add) in adds { if let key = addKeys[kind] { out.append((key, .bool(add))) } }
        if let chatTemplate { out.append((MetadataKey.chatTemplate, .string(chatTemplate))) }
        if let lowercase { out.append((MetadataKey.normalizerLowercase, .bool(lowercase))) }
        if let stripAccents { out.append((MetadataKey.normalizerStripAccents, .bool(stripAccents))) }
        return out
    }

    private mutating func setID(_ kind: String, _ id: Int?) throws(ModelError) {
        guard let id else { return }
        guard id >= 0 else { throw .tokenizer("invalid value for special token type \(kind): \(id)") }
        guard id < count, !ids.contains(where: { $0.kind == kind }) else { return }
        ids.append((kind, id))
    }

    private mutating func setAdd(_ kind: String, _ value: Bool) {
        if let i = adds.firstIndex(where: { $0.kind == kind }) { adds[i].value = value } else { adds.append((kind, value)) }
    }

    private mutating func parseNormalizer(_ n: JSONValue) {
        switch n["type"]?.string {
        case "Lowercase": lowercase = true
        case "StripAccents": stripAccents = true
        case "BertNormalizer":
            if let v = n["lowercase"], !v.isNull { lowercase = v.bool }
            if let v = n["strip_accents"] { stripAccents = v.bool }
        case "Sequence": for m in n["normalizers"]?.array ?? [] { parseNormalizer(m) }
        default: break
        }
    }

    /// What the post-processor says about BOS/EOS/SEP: gguf-py reads a TemplateProcessing's single template for a
    /// leading BOS (or CLS) and a trailing EOS (a trailing token that is not EOS becomes EOS, the old EOS becomes
    /// EOT), and the pair template for a separator.
    private mutating func readPostProcessor(_ post: JSONValue, _ tc: inout [String: JSONValue]) {
        func content(_ key: String) -> String? { tc[key]?.string }  // a dict-valued entry never equals a token
        func present(_ key: String) -> Bool { tc[key].map { !$0.isNull && $0 != .string("") } ?? false }
        if !present("bos_token"), present("cls_token"), !tc.isEmpty { tc["bos_token"] = tc["cls_token"] }
        if !present("eos_token"), present("sep_token"), !tc.isEmpty { tc["eos_token"] = tc["sep_token"] }
        func special(_ v: JSONValue?) -> String? { v?["SpecialToken"]?["id"]?.string.flatMap { $0.isEmpty ? nil : $0 } }
        for processor in post["processors"]?.array ?? [post] {
            switch processor["type"]?.string {
            case "ByteLevel":
                if !adds.contains(where: { $0.kind == "bos" }) { adds.append(("bos", false)) }
                if !adds.contains(where: { $0.kind == "eos" }) { adds.append(("eos", false)) }
            case "RobertaProcessing":
                setAdd("bos", true)
                setAdd("eos", true)
                setAdd("sep", true)
                if !present("cls_token"), !tc.isEmpty {
                    tc["cls_token"] = processor["cls"]?.array?.first ?? tc["bos_token"] ?? .null
                }
                if !present("sep_token"), !tc.isEmpty {
                    tc["sep_token"] = processor["sep"]?.array?.first ?? tc["eos_token"] ?? .null
                }
            case "TemplateProcessing":
                let single = processor["single"]?.array ?? []
                var pair = processor["pair"]?.array ?? []
                var first: String?, last: String?
                if single.count > 1 {
                    first = special(single.first)
                    if let f = first {
                        if !tc.isEmpty, f != content("bos_token"), f != content("cls_token") {
                            if !present("bos_token") { tc["bos_token"] = .string(f) }
                            if !present("cls_token") { tc["cls_token"] = .string(f) }
                        }
                        setAdd("bos", tc.isEmpty || f == content("bos_token") || f == content("cls_token"))
                    }
                    last = special(single.last)
                    if let l = last {
                        if !tc.isEmpty, l != content("eos_token") {
                            for extra in ["eot", "eom"] where !kinds.contains(extra) {
                                kinds.append(extra)
                                tc["\(extra)_token"] = tc["eos_token"]
                                break
                            }
                            tc["eos_token"] = .string(l)
                        }
                        setAdd("eos", true)
                    }
                }
                guard !pair.isEmpty else { continue }
                let start = first != nil && special(pair.first) == first ? 1 : 0
                let stop = last != nil && special(pair.last) == last ? pair.count - 1 : pair.count
                pair = start < stop ? Array(pair[start..<stop]) : []
                guard pair.count > 2, pair.first?["Sequence"]?["id"]?.string == "A",
                      pair.last?["Sequence"]?["id"]?.string == "B" else { continue }
                let middle = Array(pair[1..<pair.count - 1])
                let separators = [content("sep_token"), content("eos_token")]
                var addSep = false
                if let s = special(middle.first), separators.contains(s), last == nil { addSep = true }
                if middle.count == 2, let s = special(middle.last), separators.contains(s) { addSep = true }
                setAdd("sep", addSep)
                if addSep, !present("sep_token"), !tc.isEmpty { tc["sep_token"] = tc["eos_token"] }
            default: break
            }
        }
    }

    /// chat_template.jinja (transformers 5 saves the template there), else chat_template.json's template.
    static func chatTemplateFile(_ directory: String) throws(ModelError) -> String? {
        let path = directory + "/chat_template.jinja"
        do {
            let file = try MappedFile(path: path)
            return String(decoding: file.bytes, as: UTF8.self)
        } catch {
            guard case let .io(_, _, e) = error, e == 2 else { throw .file(error) }  // ENOENT: no template file
        }
        return try TokenizerConversion.readJSON(directory + "/chat_template.json")?["chat_template"]?.string
    }
}
