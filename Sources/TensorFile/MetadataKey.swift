// GGUF metadata keys, spelled as llama.cpp spells them (gguf-py/gguf/constants.py); the only place

import Quant
// these strings appear. Architecture-scoped keys take the `general.architecture` value as prefix.

public enum MetadataKey {
    public static let architecture = "general.architecture"
    public static let name = "general.name"
    public static let alignment = "general.alignment"
    public static let fileType = "general.file_type"
    public static let quantizationVersion = "general.quantization_version"

    public static func contextLength(_ a: String) -> String { "\(a).context_length" }
    public static func embeddingLength(_ a: String) -> String { "\(a).embedding_length" }
    public static func blockCount(_ a: String) -> String { "\(a).block_count" }
    public static func feedForwardLength(_ a: String) -> String { "\(a).feed_forward_length" }
    public static func vocabSize(_ a: String) -> String { "\(a).vocab_size" }
    public static func headCount(_ a: String) -> String { "\(a).attention.head_count" }
    public static func headCountKV(_ a: String) -> String { "\(a).attention.head_count_kv" }
    public static func keyLength(_ a: String) -> String { "\(a).attention.key_length" }
    public static func valueLength(_ a: String) -> String { "\(a).attention.value_length" }
    public static func layerNormEpsilon(_ a: String) -> String { "\(a).attention.layer_norm_epsilon" }
    public static func layerNormRMSEpsilon(_ a: String) -> String { "\(a).attention.layer_norm_rms_epsilon" }
    public static func slidingWindow(_ a: String) -> String { "\(a).attention.sliding_window" }
    public static func ropeDimensionCount(_ a: String) -> String { "\(a).rope.dimension_count" }
    public static func ropeFreqBase(_ a: String) -> String { "\(a).rope.freq_base" }
    public static func ropeScalingType(_ a: String) -> String { "\(a).rope.scaling.type" }
    public static func ropeScalingFactor(_ a: String) -> String { "\(a).rope.scaling.factor" }
    public static func expertCount(_ a: String) -> String { "\(a).expert_count" }
    public static func expertUsedCount(_ a: String) -> String { "\(a).expert_used_count" }
    public static func causalAttention(_ a: String) -> String { "\(a).attention.causal" }
    public static func poolingType(_ a: String) -> String { "\(a).pooling_type" }
    public static func hiddenActivation(_ a: String) -> String { "\(a).hidden_activation" }
    public static func classifierOutputLabels(_ a: String) -> String { "\(a).classifier.output_labels" }
    // Swiftlet's own (formats/FORMAT.md): XLNet's memory and relative-position facts.
    public static func memoryLength(_ a: String) -> String { "\(a).memory_length" }
    public static func clampLength(_ a: String) -> String { "\(a).attention.clamp_length" }
    public static func sameLength(_ a: String) -> String { "\(a).attention.same_length" }
    // Swiftlet's own (formats/TENSORS-encoders.md): encoder heads, ALBERT's shared layers, sentence-transformers.
    public static func classifierActivation(_ a: String) -> String { "\(a).classifier.activation" }
    public static func tokenEmbeddingLength(_ a: String) -> String { "\(a).token_embedding_length" }
    public static func layerGroupCount(_ a: String) -> String { "\(a).layer_group_count" }
    public static func innerGroupCount(_ a: String) -> String { "\(a).inner_group_count" }
    public static func sentenceMaxSeqLength(_ a: String) -> String { "\(a).sentence_transformers.max_seq_length" }
    public static func sentenceNormalize(_ a: String) -> String { "\(a).sentence_transformers.normalize" }
    // llama.cpp's encoder-decoder keys (T5), and its scale keys used with their llama.cpp meaning.
    public static func decoderBlockCount(_ a: String) -> String { "\(a).decoder_block_count" }
    public static func decoderStartTokenID(_ a: String) -> String { "\(a).decoder_start_token_id" }
    public static func relativeBucketsCount(_ a: String) -> String { "\(a).attention.relative_buckets_count" }
    public static func logitScale(_ a: String) -> String { "\(a).logit_scale" }
    public static func embeddingScale(_ a: String) -> String { "\(a).embedding_scale" }
    // Swiftlet's own (formats/TENSORS-seq2seq.md): what T5, BART and Marian need beyond llama.cpp's keys.
    public static func relativeMaxDistance(_ a: String) -> String { "\(a).attention.relative_max_distance" }
    public static func decoderFeedForwardLength(_ a: String) -> String { "\(a).decoder_feed_forward_length" }
    public static func decoderHeadCount(_ a: String) -> String { "\(a).attention.decoder_head_count" }
    public static func normalizeBefore(_ a: String) -> String { "\(a).normalize_before" }
    public static func forcedBOSTokenID(_ a: String) -> String { "\(a).generation.forced_bos_token_id" }
    public static func forcedEOSTokenID(_ a: String) -> String { "\(a).generation.forced_eos_token_id" }
    public static func suppressTokenIDs(_ a: String) -> String { "\(a).generation.suppress_token_ids" }
    public static func beamCount(_ a: String) -> String { "\(a).generation.num_beams" }
    public static func maxLength(_ a: String) -> String { "\(a).generation.max_length" }
    public static func minLength(_ a: String) -> String { "\(a).generation.min_length" }
    public static func noRepeatNGramSize(_ a: String) -> String { "\(a).generation.no_repeat_ngram_size" }
    public static func lengthPenalty(_ a: String) -> String { "\(a).generation.length_penalty" }
    public static func earlyStopping(_ a: String) -> String { "\(a).generation.early_stopping" }

    public static let tokenizerModel = "tokenizer.ggml.model"
    public static let tokenizerPre = "tokenizer.ggml.pre"
    public static let tokens = "tokenizer.ggml.tokens"
    public static let tokenScores = "tokenizer.ggml.scores"
    public static let tokenTypes = "tokenizer.ggml.token_type"
    public static let merges = "tokenizer.ggml.merges"
    public static let bosTokenID = "tokenizer.ggml.bos_token_id"
    public static let eosTokenID = "tokenizer.ggml.eos_token_id"
    public static let unknownTokenID = "tokenizer.ggml.unknown_token_id"
    public static let paddingTokenID = "tokenizer.ggml.padding_token_id"
    public static let separatorTokenID = "tokenizer.ggml.seperator_token_id"  // sic: llama.cpp's spelling
    public static let maskTokenID = "tokenizer.ggml.mask_token_id"
    public static let addBOS = "tokenizer.ggml.add_bos_token"
    public static let addEOS = "tokenizer.ggml.add_eos_token"
    public static let addSEP = "tokenizer.ggml.add_sep_token"
    public static let addSpacePrefix = "tokenizer.ggml.add_space_prefix"
    public static let removeExtraWhitespaces = "tokenizer.ggml.remove_extra_whitespaces"
    public static let precompiledCharsmap = "tokenizer.ggml.precompiled_charsmap"
    public static let eotTokenID = "tokenizer.ggml.eot_token_id"
    public static let eomTokenID = "tokenizer.ggml.eom_token_id"
    public static let normalizerLowercase = "tokenizer.ggml.normalizer.lowercase"
    public static let normalizerStripAccents = "tokenizer.ggml.normalizer.strip_accents"
    public static let tokenTypeCount = "tokenizer.ggml.token_type_count"
    // Swiftlet's own (formats/FORMAT.md): what llama.cpp's tokenizer keys cannot say about XLNet's encoding.
    public static let clsTokenID = "tokenizer.swiftlet.cls_token_id"
    public static let appendTokenIDs = "tokenizer.swiftlet.append_token_ids"
    public static let paddingSide = "tokenizer.swiftlet.padding_side"
    // Swiftlet's own (formats/TENSORS-encoders.md): the WordPiece and Unigram normalizer steps llama.cpp's keys omit.
    public static let normalizerCleanText = "tokenizer.swiftlet.normalizer.clean_text"
    public static let normalizerHandleChineseChars = "tokenizer.swiftlet.normalizer.handle_chinese_chars"
    public static let normalizerUnicodeForm = "tokenizer.swiftlet.normalizer.unicode_form"
    public static let normalizerReplacements = "tokenizer.swiftlet.normalizer.replacements"
    public static let wordPieceMaxInputChars = "tokenizer.swiftlet.wordpiece.max_input_chars_per_word"
    public static let leftStrippedTokenIDs = "tokenizer.swiftlet.lstrip_token_ids"
    public static let rightStrippedTokenIDs = "tokenizer.swiftlet.rstrip_token_ids"
    // Swiftlet's own (formats/TENSORS-seq2seq.md): Marian's source SentencePiece model, which splits source text
    // into the pieces that tokenizer.ggml.tokens (vocab.json) gives ids.
    public static let sourceTokens = "tokenizer.swiftlet.source.tokens"
    public static let sourceScores = "tokenizer.swiftlet.source.scores"
    public static let sourceTokenTypes = "tokenizer.swiftlet.source.token_type"
    public static let sourceAddSpacePrefix = "tokenizer.swiftlet.source.add_space_prefix"
    public static let sourceRemoveExtraWhitespaces = "tokenizer.swiftlet.source.remove_extra_whitespaces"
    public static let sourcePrecompiledCharsmap = "tokenizer.swiftlet.source.precompiled_charsmap"
    // Swiftlet's own (formats/TENSORS-seq2seq.md): transformers' clean_up_tokenization_spaces for a byte-level BPE
    // whose pre-tokenizer name would otherwise decide it as llama.cpp does (BART's, which llama.cpp does not run).
    public static let cleanSpaces = "tokenizer.swiftlet.clean_spaces"
    public static let chatTemplate = "tokenizer.chat_template"
}

/// llama.cpp's `llama_ftype` values for `general.file_type`: the type most weights have (from Quant's table;
/// 0, all F32, for a type Swiftlet does not write).
public func fileTypeCode(_ t: GGMLType) -> UInt32 { t.format.codec?.fileType ?? 0 }

/// Token types as llama.cpp stores them in `tokenizer.ggml.token_type`.
public enum TokenType: Int32, Sendable {
    case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}
