// XLNet (relative-position Transformer-XL blocks, post-LayerNorm): weight names and Hugging Face conversion.
// Follows transformers' modeling_xlnet.py. llama.cpp has no XLNet, so the names and keys of "xlnet" are
// Swiftlet's, in llama.cpp's vocabulary (formats/TENSORS.md). The forward pass comes with issue 4.

import Quant
import TensorFile

public enum XLNetWeights {
    public enum Name {  // the only place these strings are spelled
        public static let embedding = "token_embd.weight"
        public static let maskEmbedding = "mask_embd.weight"  // query stream input of two-stream attention
        public static let outputBias = "output.bias"
        public static func attnQ(_ l: Int) -> String { "blk.\(l).attn_q.weight" }
        public static func attnK(_ l: Int) -> String { "blk.\(l).attn_k.weight" }
        public static func attnV(_ l: Int) -> String { "blk.\(l).attn_v.weight" }
        public static func attnR(_ l: Int) -> String { "blk.\(l).attn_r.weight" }  // relative-position keys
        public static func attnOutput(_ l: Int) -> String { "blk.\(l).attn_output.weight" }
        public static func contentBias(_ l: Int) -> String { "blk.\(l).attn_r_w.bias" }   // r_w_bias
        public static func positionBias(_ l: Int) -> String { "blk.\(l).attn_r_r.bias" }  // r_r_bias
        public static func segmentBias(_ l: Int) -> String { "blk.\(l).attn_r_s.bias" }   // r_s_bias
        public static func segmentEmbedding(_ l: Int) -> String { "blk.\(l).attn_seg_embd.weight" }
        public static func attnOutputNorm(_ l: Int, _ part: String) -> String { "blk.\(l).attn_output_norm.\(part)" }
        public static func ffnUp(_ l: Int, _ part: String) -> String { "blk.\(l).ffn_up.\(part)" }
        public static func ffnDown(_ l: Int, _ part: String) -> String { "blk.\(l).ffn_down.\(part)" }
        public static func layerOutputNorm(_ l: Int, _ part: String) -> String { "blk.\(l).layer_output_norm.\(part)" }
    }
}

public enum XLNet {
    static let architecture = "xlnet"

    /// Hugging Face XLNetLMHeadModel → GGUF "xlnet". The head's matrix is tied to token_embd and not written.
    @Sendable static func conversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        let a = architecture
        let dim = try c.count("d_model"), layers = try c.count("n_layer"), heads = try c.count("n_head")
        let vocab = try c.count("vocab_size"), ff = try c.count("d_inner")
        guard dim % heads == 0 else { throw .config(key: "n_head", reason: "\(heads) does not divide d_model \(dim)") }
        let headDim = dim / heads
        if c.has("d_head") {
            let d = try c.count("d_head")
            guard d == headDim else { throw .config(key: "d_head", reason: "\(d) is not d_model / n_head = \(headDim)") }
        }
        let activation = c.string("ff_activation") ?? "gelu"
        guard activation == "gelu" else { throw .unsupported("XLNet ff_activation '\(activation)'") }
        let attnType = c.string("attn_type") ?? "bi"
        guard attnType == "bi" || attnType == "uni" else { throw .config(key: "attn_type", reason: "'\(attnType)' is neither bi nor uni") }
        // bi_data doubles the batch with reversed positions, for pretraining only.
        guard !(try c.bool("bi_data", default: false)) else { throw .unsupported("XLNet bi_data") }
        guard try c.bool("tie_word_embeddings", default: true) else { throw .unsupported("XLNet with an untied lm_loss") }

        let metadata: [(key: String, value: GGUFValue)] = [
            (MetadataKey.vocabSize(a), .uint32(UInt32(vocab))),
            (MetadataKey.embeddingLength(a), .uint32(UInt32(dim))),
            (MetadataKey.blockCount(a), .uint32(UInt32(layers))),
            (MetadataKey.feedForwardLength(a), .uint32(UInt32(ff))),
            (MetadataKey.headCount(a), .uint32(UInt32(heads))),
            (MetadataKey.keyLength(a), .uint32(UInt32(headDim))),
            (MetadataKey.valueLength(a), .uint32(UInt32(headDim))),
            (MetadataKey.layerNormEpsilon(a), .float32(Float(try c.double("layer_norm_eps", default: 1e-12)))),
            (MetadataKey.causalAttention(a), .bool(attnType == "uni")),
            (MetadataKey.memoryLength(a), .uint32(UInt32(max(0, try c.int("mem_len", default: 0))))),
            (MetadataKey.clampLength(a), .int32(Int32(clamping: try c.int("clamp_len", default: -1)))),
            (MetadataKey.sameLength(a), .bool(try c.bool("same_length", default: false))),
        ]
        typealias N = XLNetWeights.Name
        let qDim = heads * headDim
        var t: [TensorSource] = [
            TensorSource(N.embedding, from: "transformer.word_embedding.weight", shape: [vocab, dim]),
            TensorSource(N.maskEmbedding, from: "transformer.mask_emb", shape: [1, 1, dim], .reshape([dim])),
        ]
        for l in 0..<layers {
            let p = "transformer.layer.\(l).", r = p + "rel_attn."
            // q, k, v, r are (d_model, heads, head_dim), applied as x·W: transposed to (heads·head_dim, d_model)
            // rows. o maps heads·head_dim back to d_model and already has d_model rows.
            t += [
                TensorSource(N.attnQ(l), from: r + "q", shape: [dim, heads, headDim], .transpose),
                TensorSource(N.attnK(l), from: r + "k", shape: [dim, heads, headDim], .transpose),
                TensorSource(N.attnV(l), from: r + "v", shape: [dim, heads, headDim], .transpose),
                TensorSource(N.attnR(l), from: r + "r", shape: [dim, heads, headDim], .transpose),
                TensorSource(N.attnOutput(l), from: r + "o", shape: [dim, heads, headDim], .reshape([qDim, dim])),
                TensorSource(N.contentBias(l), from: r + "r_w_bias", shape: [heads, headDim], .reshape([qDim])),
                TensorSource(N.positionBias(l), from: r + "r_r_bias", shape: [heads, headDim], .reshape([qDim])),
                TensorSource(N.segmentBias(l), from: r + "r_s_bias", shape: [heads, headDim], .reshape([qDim])),
                TensorSource(N.segmentEmbedding(l), from: r + "seg_embed", shape: [2, heads, headDim], .reshape([qDim, 2])),
                TensorSource(N.attnOutputNorm(l, "weight"), from: r + "layer_norm.weight", shape: [dim]),
                TensorSource(N.attnOutputNorm(l, "bias"), from: r + "layer_norm.bias", shape: [dim]),
                TensorSource(N.ffnUp(l, "weight"), from: p + "ff.layer_1.weight", shape: [ff, dim]),
                TensorSource(N.ffnUp(l, "bias"), from: p + "ff.layer_1.bias", shape: [ff]),
                TensorSource(N.ffnDown(l, "weight"), from: p + "ff.layer_2.weight", shape: [dim, ff]),
                TensorSource(N.ffnDown(l, "bias"), from: p + "ff.layer_2.bias", shape: [dim]),
                TensorSource(N.layerOutputNorm(l, "weight"), from: p + "ff.layer_norm.weight", shape: [dim]),
                TensorSource(N.layerOutputNorm(l, "bias"), from: p + "ff.layer_norm.bias", shape: [dim]),
            ]
        }
        t.append(TensorSource(N.outputBias, from: "lm_loss.bias", shape: [vocab]))
        return HFConversion(architecture: a, metadata: metadata, tensors: t) { $0 == "lm_loss.weight" }
    }
}
