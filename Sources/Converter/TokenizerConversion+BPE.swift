// Byte-level BPE vocabularies (GPT-2, Llama 3, SmolLM2, RoBERTa) as llama.cpp's _set_vocab_gpt2 writes them:
// tokens as tokenizer.json spells them, merges "a b", and the pre-tokenizer named by its structure.

import Engine
import TensorFile

extension TokenizerConversion {
    static func bpe(_ f: Files, vocabSize: Int) throws(ModelError) -> [(key: String, value: GGUFValue)] {
        guard f.model["byte_fallback"]?.bool != true, isByteLevel(f.tokenizer) else {
            throw .unsupported("a BPE tokenizer that is not byte-level in \(f.path) (byte-level BPE is supported)")
        }
        // A space before each piece of text (RoBERTa token classifiers often ask): llama.cpp's add_space_prefix key,
        // which it reads for SentencePiece only. Inside a Sequence it would come after a split: refused.
        let pre = f.tokenizer["pre_tokenizer"]
        let prefix = pre?["add_prefix_space"]?.bool == true
        if (pre?["pretokenizers"]?.array ?? []).contains(where: { $0["add_prefix_space"]?.bool == true }) {
            throw .unsupported("add_prefix_space inside a Sequence pre-tokenizer in \(f.path) (on the ByteLevel pre-tokenizer alone it is)")
        }
        let (tokens, types) = try vocabulary(f, vocabSize: vocabSize)
        var merges: [String] = []
        for (n, m) in (f.model["merges"]?.array ?? []).enumerated() {
            if let s = m.string {
                merges.append(s)
            } else if let pair = m.array, pair.count == 2, let a = pair[0].string, let b = pair[1].string {
                merges.append(a + " " + b)
            } else {
                throw .tokenizer("\(f.path): merge #\(n) is neither \"a b\" nor [a, b]")
            }
        }
        return [
            (MetadataKey.tokenizerModel, .string("gpt2")),
            (MetadataKey.tokenizerPre, .string(try preTokenizerName(f.tokenizer["pre_tokenizer"], path: f.path))),
            (MetadataKey.tokens, .array(.string(tokens))),
            (MetadataKey.tokenTypes, .array(.int32(types))),
            (MetadataKey.merges, .array(.string(merges))),
        ] + (prefix ? [(MetadataKey.addSpacePrefix, .bool(true))] : [])
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
}
