// T5 and FLAN-T5 encoder-decoders: weight names and Hugging Face conversion.
// Follows transformers' modeling_t5.py; names and keys are llama.cpp's "t5" (conversion/t5.py T5Model, gguf-py
// tensor_mapping.py, src/models/t5.cpp), plus Swiftlet's keys for what llama.cpp hard-codes or leaves out
// (formats/TENSORS-seq2seq.md). The forward pass comes later.

import Quant
import TensorFile

/// The two halves of an encoder-decoder, as GGUF name prefixes (llama.cpp's `enc.` and `dec.`); BART and Marian
/// use them too.
public enum Seq2SeqStack: String, Sendable, CaseIterable {
    case encoder = "enc", decoder = "dec"
}

public enum T5Weights {
    public enum Name {  // the only place these strings are spelled
        public typealias S = Seq2SeqStack
        public static let embedding = "token_embd.weight"
        public static let output = "output.weight"
        public static func outputNorm(_ s: S) -> String { "\(s.rawValue).output_norm.weight" }
        public static func attnNorm(_ s: S, _ l: Int) -> String { "\(s.rawValue).blk.\(l).attn_norm.weight" }
        public static func attnQ(_ s: S, _ l: Int) -> String { "\(s.rawValue).blk.\(l).attn_q.weight" }
        public static func attnK(_ s: S, _ l: Int) -> String { "\(s.rawValue).blk.\(l).attn_k.weight" }
        public static func attnV(_ s: S, _ l: Int) -> String { "\(s.rawValue).blk.\(l).attn_v.weight" }
        public static func attnO(_ s: S, _ l: Int) -> String { "\(s.rawValue).blk.\(l).attn_o.weight" }
        /// Relative-position bucket biases (buckets, heads); block 0 only, shared by every block of its stack.
        public static func attnRelBias(_ s: S, _ l: Int) -> String { "\(s.rawValue).blk.\(l).attn_rel_b.weight" }
        public static func crossAttnNorm(_ l: Int) -> String { "dec.blk.\(l).cross_attn_norm.weight" }
        public static func crossAttnQ(_ l: Int) -> String { "dec.blk.\(l).cross_attn_q.weight" }
        public static func crossAttnK(_ l: Int) -> String { "dec.blk.\(l).cross_attn_k.weight" }
        public static func crossAttnV(_ l: Int) -> String { "dec.blk.\(l).cross_attn_v.weight" }
        public static func crossAttnO(_ l: Int) -> String { "dec.blk.\(l).cross_attn_o.weight" }
        public static func ffnNorm(_ s: S, _ l: Int) -> String { "\(s.rawValue).blk.\(l).ffn_norm.weight" }
        public static func ffnGate(_ s: S, _ l: Int) -> String { "\(s.rawValue).blk.\(l).ffn_gate.weight" }
        public static func ffnUp(_ s: S, _ l: Int) -> String { "\(s.rawValue).blk.\(l).ffn_up.weight" }
        public static func ffnDown(_ s: S, _ l: Int) -> String { "\(s.rawValue).blk.\(l).ffn_down.weight" }
    }
}

public enum T5 {
    static let architecture = "t5"

    /// Hugging Face T5ForConditionalGeneration (T5 and T5 v1.1 / FLAN-T5) → GGUF "t5".
    @Sendable static func conversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        let a = architecture
        let dim = try c.count("d_model"), headDim = try c.count("d_kv"), heads = try c.count("num_heads")
        let ff = try c.count("d_ff"), vocab = try c.count("vocab_size"), layers = try c.count("num_layers")
        let decoderLayers = c.has("num_decoder_layers") ? try c.count("num_decoder_layers") : layers
        let buckets = c.has("relative_attention_num_buckets") ? try c.count("relative_attention_num_buckets") : 32
        let maxDistance = c.has("relative_attention_max_distance") ? try c.count("relative_attention_max_distance") : 128
        guard buckets >= 4 else {  // the encoder halves them by direction, then into exact and log-spaced ones
            throw .config(key: "relative_attention_num_buckets", reason: "\(buckets) is fewer than 4")
        }
        // "relu" (T5) or "gated-gelu" (T5 v1.1, FLAN-T5: transformers' gelu_new); "gated-ACT" in general.
        let projection = c.string("feed_forward_proj") ?? "relu"
        let parts = projection.split(separator: "-", omittingEmptySubsequences: false)
        let gated = parts.count == 2 && parts[0] == "gated"
        guard parts.count == 1 || gated, !parts.last!.isEmpty else {
            throw .config(key: "feed_forward_proj", reason: "'\(projection)' is neither ACT nor gated-ACT")
        }
        let activation = projection == "gated-gelu" ? "gelu_new" : String(parts.last!)
        // T5 v1.0 ties the head to the embedding and scales the decoder's output by d_model^-0.5 first; v1.1 does
        // neither. transformers 5 writes scale_decoder_outputs; older configs say it with tie_word_embeddings.
        let scaled = try c.bool("scale_decoder_outputs", default: try c.bool("tie_word_embeddings", default: true))
        let eps = Float(try c.double("layer_norm_epsilon", default: 1e-6))
        guard let start = c.json["decoder_start_token_id"]?.int, start >= 0 else {
            throw .config(key: "decoder_start_token_id", reason: "missing (llama.cpp's converter requires it too)")
        }

        let metadata: [(key: String, value: GGUFValue)] = [
            (MetadataKey.contextLength(a), .uint32(UInt32(c.has("n_positions") ? try c.count("n_positions") : 512))),
            (MetadataKey.embeddingLength(a), .uint32(UInt32(dim))),
            (MetadataKey.feedForwardLength(a), .uint32(UInt32(ff))),
            (MetadataKey.blockCount(a), .uint32(UInt32(layers))),
            (MetadataKey.decoderBlockCount(a), .uint32(UInt32(decoderLayers))),
            (MetadataKey.headCount(a), .uint32(UInt32(heads))),
            (MetadataKey.keyLength(a), .uint32(UInt32(headDim))),
            (MetadataKey.valueLength(a), .uint32(UInt32(headDim))),
            (MetadataKey.layerNormEpsilon(a), .float32(eps)),
            (MetadataKey.relativeBucketsCount(a), .uint32(UInt32(buckets))),
            (MetadataKey.layerNormRMSEpsilon(a), .float32(eps)),
            (MetadataKey.decoderStartTokenID(a), .uint32(UInt32(start))),
            (MetadataKey.vocabSize(a), .uint32(UInt32(vocab))),
            (MetadataKey.relativeMaxDistance(a), .uint32(UInt32(maxDistance))),
            (MetadataKey.hiddenActivation(a), .string(activation)),
            (MetadataKey.logitScale(a), .float32(scaled ? Float(1 / Double(dim).squareRoot()) : 1)),
        ]

        typealias N = T5Weights.Name
        // Checkpoints hold the shared embedding under any of three names, often several (llama.cpp takes the first).
        let embeddings = ["shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight"]
        guard let embedding = embeddings.first(where: names.contains) else { throw .missingTensor("shared.weight") }
        let inner = heads * headDim
        var t = [TensorSource(N.embedding, from: embedding, shape: [vocab, dim])]
        for s in Seq2SeqStack.allCases {
            let half = s == .encoder ? "encoder" : "decoder"
            for l in 0..<(s == .encoder ? layers : decoderLayers) {
                let p = "\(half).block.\(l).layer."
                t.append(TensorSource(N.attnNorm(s, l), from: p + "0.layer_norm.weight", shape: [dim]))
                t.append(TensorSource(N.attnQ(s, l), from: p + "0.SelfAttention.q.weight", shape: [inner, dim]))
                t.append(TensorSource(N.attnK(s, l), from: p + "0.SelfAttention.k.weight", shape: [inner, dim]))
                t.append(TensorSource(N.attnV(s, l), from: p + "0.SelfAttention.v.weight", shape: [inner, dim]))
                t.append(TensorSource(N.attnO(s, l), from: p + "0.SelfAttention.o.weight", shape: [dim, inner]))
                if l == 0 {
                    t.append(TensorSource(N.attnRelBias(s, l), from: p + "0.SelfAttention.relative_attention_bias.weight",
                                          shape: [buckets, heads]))
                }
                var f = p + "1."
                if s == .decoder {
                    t.append(TensorSource(N.crossAttnNorm(l), from: p + "1.layer_norm.weight", shape: [dim]))
                    t.append(TensorSource(N.crossAttnQ(l), from: p + "1.EncDecAttention.q.weight", shape: [inner, dim]))
                    t.append(TensorSource(N.crossAttnK(l), from: p + "1.EncDecAttention.k.weight", shape: [inner, dim]))
                    t.append(TensorSource(N.crossAttnV(l), from: p + "1.EncDecAttention.v.weight", shape: [inner, dim]))
                    t.append(TensorSource(N.crossAttnO(l), from: p + "1.EncDecAttention.o.weight", shape: [dim, inner]))
                    f = p + "2."
                }
                t.append(TensorSource(N.ffnNorm(s, l), from: f + "layer_norm.weight", shape: [dim]))
                if gated {  // wi_0 is the gated (activated) half, wi_1 the linear one, as llama.cpp maps them
                    t.append(TensorSource(N.ffnGate(s, l), from: f + "DenseReluDense.wi_0.weight", shape: [ff, dim]))
                    t.append(TensorSource(N.ffnUp(s, l), from: f + "DenseReluDense.wi_1.weight", shape: [ff, dim]))
                } else {
                    t.append(TensorSource(N.ffnUp(s, l), from: f + "DenseReluDense.wi.weight", shape: [ff, dim]))
                }
                t.append(TensorSource(N.ffnDown(s, l), from: f + "DenseReluDense.wo.weight", shape: [dim, ff]))
            }
            t.append(TensorSource(N.outputNorm(s), from: "\(half).final_layer_norm.weight", shape: [dim]))
        }
        // An unscaled (v1.1) head is its own matrix when the checkpoint has one; otherwise the head is token_embd.
        let untied = !scaled && names.contains("lm_head.weight")
        if untied { t.append(TensorSource(N.output, from: "lm_head.weight", shape: [vocab, dim])) }
        return HFConversion(architecture: a, metadata: metadata, tensors: t) { name in
            // transformers builds no cross-attention bias and ignores one in a checkpoint; so does llama.cpp's graph.
            (embeddings.contains(name) && name != embedding) || (!untied && name == "lm_head.weight")
                || name == "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"
        }
    }
}
