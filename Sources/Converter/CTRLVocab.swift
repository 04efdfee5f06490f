// CTRL's tokenizer (vocab.json + merges.txt, a BPE over characters with "</w>" word ends whose pieces carry an
// "@@" continuation mark) → GGUF tokenizer metadata under tokenizer.ggml.model "ctrl" (formats/FORMAT.md).
// llama.cpp has no CTRL; the file follows transformers' tokenization_ctrl.py.

import Engine
import TensorFile

public enum CTRLVocab {
    /// Tokens, types, merges and the unknown id, padded to `vocabSize` entries; nil unless the directory's tokenizer is
    /// CTRL's: tokenizer_config.json names CTRLTokenizer, or a CTRL model names no class and has no tokenizer.json (a
    /// CTRL model may ship another tokenizer, as any model may ship CTRL's).
    public static func metadata(directory: String, config: HFConfig, vocabSize: Int) throws(ModelError) -> [(key: String, value: GGUFValue)]? {
        let tokenizerClass = try TokenizerConversion.readJSON(directory + "/tokenizer_config.json")?["tokenizer_class"]?.string
        let own = tokenizerClass == nil && config.string("model_type") == "ctrl"
            && !SentencePieceVocab.exists(directory + "/tokenizer.json")
        guard tokenizerClass == "CTRLTokenizer" || own else { return nil }
        let vocabPath = directory + "/vocab.json", mergesPath = directory + "/merges.txt"
        guard let vocab = try TokenizerConversion.readJSON(vocabPath)?.object else {
            throw .tokenizer("\(vocabPath) not found or not an object (CTRL's vocabulary)")
        }
        var byID: [Int: String] = [:]
        for (token, id) in vocab.entries {
            guard let i = id.int, (0..<(1 << 24)).contains(i) else { throw .tokenizer("\(vocabPath): '\(token)' has id \(id)") }
            guard byID[i] == nil else { throw .tokenizer("\(vocabPath): id \(i) is given to '\(byID[i]!)' and '\(token)'") }
            byID[i] = token
        }
        let tokenizerConfig = try TokenizerConversion.readJSON(directory + "/tokenizer_config.json")
        var types: [Int: TokenType] = [:]
        for (key, entry) in tokenizerConfig?["added_tokens_decoder"]?.object?.entries ?? [] {
            guard let i = Int(key), (0..<(1 << 24)).contains(i), let content = entry["content"]?.string else {
                throw .tokenizer("tokenizer_config.json: added_tokens_decoder entry '\(key)' has no id or content")
            }
            byID[i] = content
            types[i] = entry["special"]?.bool == true || TokenizerConversion.looksSpecial(content) ? .control : .userDefined
        }
        let count = max(vocabSize, (byID.keys.max() ?? -1) + 1)
        guard count == vocabSize else { throw .tokenizer("token id \(count - 1) is outside the model's vocab_size \(vocabSize)") }

        let unkEntry = tokenizerConfig?["unk_token"]
        let unk = unkEntry?.string ?? unkEntry?["content"]?.string ?? "<unk>"
        guard let unkID = byID.first(where: { $0.value == unk })?.key else {
            throw .tokenizer("\(vocabPath): no unknown token '\(unk)' (CTRL maps unknown pieces to it)")
        }
        types[unkID] = .unknown
        let tokens = (0..<count).map { byID[$0] ?? "[PAD\($0)]" }
        let tokenTypes = (0..<count).map { (types[$0] ?? (byID[$0] == nil ? .unused : .normal)).rawValue }

        return [
            (MetadataKey.tokenizerModel, .string("ctrl")),
            (MetadataKey.tokens, .array(.string(tokens))),
            (MetadataKey.tokenTypes, .array(.int32(tokenTypes))),
            (MetadataKey.merges, .array(.string(try merges(mergesPath)))),
            (MetadataKey.unknownTokenID, .uint32(UInt32(unkID))),
            (MetadataKey.addBOS, .bool(false)),
            (MetadataKey.addEOS, .bool(false)),
        ]
    }

    /// merges.txt as CTRLTokenizer (and GPT2Tokenizer) reads it: the first line (the "#version" header) and the last
    /// (empty after the final newline) are dropped; every other non-empty line is one merge "a b".
    static func merges(_ path: String) throws(ModelError) -> [String] {
        let text: String
        do {
            let file = try MappedFile(path: path)
            guard let s = String(validating: file.bytes.bindMemory(to: UInt8.self), as: UTF8.self) else {
                throw ModelError.tokenizer("\(path) is not UTF-8")
            }
            text = s
        } catch let e as ModelError {
            throw e
        } catch let e as TensorFileError {
            throw .file(e)
        } catch {
            throw .tokenizer("\(path): \(error)")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var out: [String] = []
        for (n, line) in lines.dropFirst().dropLast().enumerated() where !line.isEmpty {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { throw .tokenizer("\(path) line \(n + 2): '\(line)' is not one merge \"a b\"") }
            out.append(parts.joined(separator: " "))
        }
        return out
    }
}
