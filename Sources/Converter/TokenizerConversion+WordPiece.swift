// WordPiece vocabularies (BERT, DistilBERT) as llama.cpp's BertModel.set_vocab writes them, in the "phantom space"
// form its WPM tokenizer reads: a word-continuing "##x" is stored as "x", a word-starting token "x" as "▁x", and
// control tokens ([CLS], [SEP], …) as they are. The BertNormalizer steps llama.cpp has no keys for are Swiftlet's
// (formats/TENSORS-encoders.md); lowercase and strip_accents come with the special tokens (SpecialVocab).

import Engine
import TensorFile

extension TokenizerConversion {
    static func wordPiece(_ f: Files, vocabSize: Int) throws(ModelError) -> [(key: String, value: GGUFValue)] {
        let prefix = f.model["continuing_subword_prefix"]?.string ?? "##"
        guard prefix == "##" else {
            throw .unsupported("WordPiece continuing_subword_prefix '\(prefix)' in \(f.path) (llama.cpp's form needs ##)")
        }
        let pre = f.tokenizer["pre_tokenizer"]?["type"]?.string
        guard pre == "BertPreTokenizer" else {
            throw .unsupported("WordPiece pre-tokenizer '\(pre ?? "null")' in \(f.path) (BertPreTokenizer is supported)")
        }
        // BertNormalizer, or none: then nothing is cleaned, split or lowercased.
        var cleanText = false, chineseChars = false
        if let n = f.tokenizer["normalizer"], !n.isNull {
            let kind = n["type"]?.string ?? "?"
            guard kind == "BertNormalizer" else {
                throw .unsupported("WordPiece normalizer '\(kind)' in \(f.path) (BertNormalizer is supported)")
            }
            cleanText = n["clean_text"]?.bool ?? true  // the tokenizers library's defaults
            chineseChars = n["handle_chinese_chars"]?.bool ?? true
        }
        let maxChars = f.model["max_input_chars_per_word"]?.int ?? 100

        let (tokens, types) = try vocabulary(f, vocabSize: vocabSize)
        let phantom = zip(tokens, types).map { token, type in
            type == TokenType.control.rawValue ? token : token.hasPrefix("##") ? String(token.dropFirst(2)) : "\u{2581}" + token
        }
        return [
            (MetadataKey.tokenizerModel, .string("bert")),
            // llama.cpp names pre-tokenizers by a hash of a probe tokenization and ignores the name for WPM.
            (MetadataKey.tokenizerPre, .string("default")),
            (MetadataKey.tokens, .array(.string(phantom))),
            (MetadataKey.tokenTypes, .array(.int32(types))),
            (MetadataKey.normalizerCleanText, .bool(cleanText)),
            (MetadataKey.normalizerHandleChineseChars, .bool(chineseChars)),
            (MetadataKey.wordPieceMaxInputChars, .uint32(UInt32(clamping: max(0, maxChars)))),
        ]
    }
}
