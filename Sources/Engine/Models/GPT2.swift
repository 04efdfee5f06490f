// GPT-2 decoder: weight names and Hugging Face conversion.
// Follows transformers' modeling_gpt2.py; names and keys are llama.cpp's "gpt2"
// (convert_hf_to_gguf.py GPT2Model). The forward pass comes with issue 4.

import Quant
import TensorFile

public enum GPT2Weights {
    public enum Name {  // the only place these strings are spelled
        public static let embedding = "token_embd.weight"
        public static let positions = "position_embd.weight"
        public static func outputNorm(_ part: String) -> String { "output_norm.\(part)" }
        public static func attnNorm(_ l: Int, _ part: String) -> String { "blk.\(l).attn_norm.\(part)" }
        public static func attnQKV(_ l: Int, _ part: String) -> String { "blk.\(l).attn_qkv.\(part)" }
        public static func attnOutput(_ l: Int, _ part: String) -> String { "blk.\(l).attn_output.\(part)" }
        public static func ffnNorm(_ l: Int, _ part: String) -> String { "blk.\(l).ffn_norm.\(part)" }
        public static func ffnUp(_ l: Int, _ part: String) -> String { "blk.\(l).ffn_up.\(part)" }
        public static func ffnDown(_ l: Int, _ part: String) -> String { "blk.\(l).ffn_down.\(part)" }
    }
}

public enum GPT2 {
    static let architecture = "gpt2"

    /// Hugging Face GPT2LMHeadModel → GGUF "gpt2". The head is tied to token_embd and not written.
    @Sendable static func conversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        let a = architecture
        let dim = try c.count("n_embd"), layers = try c.count("n_layer"), heads = try c.count("n_head")
        let vocab = try c.count("vocab_size"), positions = try c.count("n_positions")
        let ff = c.has("n_inner") ? try c.count("n_inner") : 4 * dim
        guard dim % heads == 0 else { throw .config(key: "n_head", reason: "\(heads) does not divide n_embd \(dim)") }
        let activation = c.string("activation_function") ?? "gelu_new"
        guard activation == "gelu_new" else { throw .unsupported("GPT-2 activation_function '\(activation)'") }

        let metadata: [(key: String, value: GGUFValue)] = [
            (MetadataKey.vocabSize(a), .uint32(UInt32(vocab))),
            (MetadataKey.contextLength(a), .uint32(UInt32(positions))),
            (MetadataKey.embeddingLength(a), .uint32(UInt32(dim))),
            (MetadataKey.blockCount(a), .uint32(UInt32(layers))),
            (MetadataKey.feedForwardLength(a), .uint32(UInt32(ff))),
            (MetadataKey.headCount(a), .uint32(UInt32(heads))),
            (MetadataKey.layerNormEpsilon(a), .float32(Float(try c.double("layer_norm_epsilon", default: 1e-5)))),
        ]
        // Checkpoints saved from GPT2LMHeadModel prefix the body with "transformer."; the original ones do not.
        let p = names.contains("transformer.wte.weight") ? "transformer." : ""
        typealias N = GPT2Weights.Name
        var t: [TensorSource] = [
            TensorSource(N.embedding, from: p + "wte.weight", shape: [vocab, dim]),
            TensorSource(N.positions, from: p + "wpe.weight", shape: [positions, dim]),
        ]
        for l in 0..<layers {
            let h = "\(p)h.\(l)."
            // Conv1D stores (in, out); GGUF wants (out, in) rows, hence the transposes.
            t += [
                TensorSource(N.attnNorm(l, "weight"), from: h + "ln_1.weight", shape: [dim]),
                TensorSource(N.attnNorm(l, "bias"), from: h + "ln_1.bias", shape: [dim]),
                TensorSource(N.attnQKV(l, "weight"), from: h + "attn.c_attn.weight", shape: [dim, 3 * dim], .transpose),
                TensorSource(N.attnQKV(l, "bias"), from: h + "attn.c_attn.bias", shape: [3 * dim]),
                TensorSource(N.attnOutput(l, "weight"), from: h + "attn.c_proj.weight", shape: [dim, dim], .transpose),
                TensorSource(N.attnOutput(l, "bias"), from: h + "attn.c_proj.bias", shape: [dim]),
                TensorSource(N.ffnNorm(l, "weight"), from: h + "ln_2.weight", shape: [dim]),
                TensorSource(N.ffnNorm(l, "bias"), from: h + "ln_2.bias", shape: [dim]),
                TensorSource(N.ffnUp(l, "weight"), from: h + "mlp.c_fc.weight", shape: [dim, ff], .transpose),
                TensorSource(N.ffnUp(l, "bias"), from: h + "mlp.c_fc.bias", shape: [ff]),
                TensorSource(N.ffnDown(l, "weight"), from: h + "mlp.c_proj.weight", shape: [ff, dim], .transpose),
                TensorSource(N.ffnDown(l, "bias"), from: h + "mlp.c_proj.bias", shape: [dim]),
            ]
        }
        t.append(TensorSource(N.outputNorm("weight"), from: p + "ln_f.weight", shape: [dim]))
        t.append(TensorSource(N.outputNorm("bias"), from: p + "ln_f.bias", shape: [dim]))
        return HFConversion(architecture: a, metadata: metadata, tensors: t) { name in
            name.hasSuffix(".attn.bias") || name.hasSuffix(".attn.masked_bias") || name == "lm_head.weight"
        }
    }
}
