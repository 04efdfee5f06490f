// Llama-family decoder (Llama 2/3, SmolLM2, Mistral; Mixtral's experts when config.json has num_local_experts):
// weight names and Hugging Face conversion.
// Follows transformers' modeling_llama.py; names and keys are llama.cpp's "llama"
// (convert_hf_to_gguf.py LlamaModel, src/llama-arch.cpp). The forward pass comes with issue 4.

import Quant
import TensorFile

public enum LlamaWeights {
    public enum Name {  // the only place these strings are spelled
        public static let embedding = "token_embd.weight"
        public static let outputNorm = "output_norm.weight"
        public static let output = "output.weight"
        public static func attnNorm(_ l: Int) -> String { "blk.\(l).attn_norm.weight" }
        public static func attnQ(_ l: Int, _ part: String = "weight") -> String { "blk.\(l).attn_q.\(part)" }
        public static func attnK(_ l: Int, _ part: String = "weight") -> String { "blk.\(l).attn_k.\(part)" }
        public static func attnV(_ l: Int, _ part: String = "weight") -> String { "blk.\(l).attn_v.\(part)" }
        public static func attnOutput(_ l: Int, _ part: String = "weight") -> String { "blk.\(l).attn_output.\(part)" }
        public static func ffnNorm(_ l: Int) -> String { "blk.\(l).ffn_norm.weight" }
        public static func ffnGate(_ l: Int) -> String { "blk.\(l).ffn_gate.weight" }
        public static func ffnUp(_ l: Int) -> String { "blk.\(l).ffn_up.weight" }
        public static func ffnDown(_ l: Int) -> String { "blk.\(l).ffn_down.weight" }
        public static func ffnGateInp(_ l: Int) -> String { "blk.\(l).ffn_gate_inp.weight" }  // MoE router
        public static func ffnGateExps(_ l: Int) -> String { "blk.\(l).ffn_gate_exps.weight" }
        public static func ffnUpExps(_ l: Int) -> String { "blk.\(l).ffn_up_exps.weight" }
        public static func ffnDownExps(_ l: Int) -> String { "blk.\(l).ffn_down_exps.weight" }
    }
}

public enum Llama {
    static let architecture = "llama"

    /// Hugging Face LlamaForCausalLM / MistralForCausalLM / MixtralForCausalLM → GGUF "llama", as llama.cpp's
    /// LlamaModel converts all three.
    @Sendable static func conversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        let a = architecture
        let dim = try c.count("hidden_size"), layers = try c.count("num_hidden_layers")
        let heads = try c.count("num_attention_heads")
        let kvHeads = c.has("num_key_value_heads") ? try c.count("num_key_value_heads") : heads
        let ff = try c.count("intermediate_size"), vocab = try c.count("vocab_size")
        let explicitHeadDim = c.has("head_dim")
        guard explicitHeadDim || dim % heads == 0 else {
            throw .config(key: "num_attention_heads", reason: "\(heads) does not divide hidden_size \(dim) and no head_dim is given")
        }
        let headDim = explicitHeadDim ? try c.count("head_dim") : dim / heads
        guard heads % kvHeads == 0 else {
            throw .config(key: "num_key_value_heads", reason: "\(kvHeads) does not divide num_attention_heads \(heads)")
        }
        guard headDim % 2 == 0 else { throw .config(key: "head_dim", reason: "\(headDim) is odd; RoPE rotates pairs") }
        // Mixtral: a router picks `used` of `experts` SwiGLU experts per token.
        let experts = try c.int("num_local_experts", default: 0)
        guard experts >= 0 else { throw .config(key: "num_local_experts", reason: "\(experts) is negative") }
        let used = experts > 0 ? try c.count("num_experts_per_tok") : 0
        guard used <= experts else {
            throw .config(key: "num_experts_per_tok", reason: "\(used) is more than num_local_experts \(experts)")
        }

        let rope = try c.rope(defaultTheta: 10000)
        var metadata: [(key: String, value: GGUFValue)] = [
            (MetadataKey.vocabSize(a), .uint32(UInt32(vocab))),
            (MetadataKey.contextLength(a), .uint32(UInt32(try c.int("max_position_embeddings", default: 2048)))),
            (MetadataKey.embeddingLength(a), .uint32(UInt32(dim))),
            (MetadataKey.blockCount(a), .uint32(UInt32(layers))),
            (MetadataKey.feedForwardLength(a), .uint32(UInt32(ff))),
            (MetadataKey.ropeDimensionCount(a), .uint32(UInt32(headDim))),
            (MetadataKey.headCount(a), .uint32(UInt32(heads))),
            (MetadataKey.headCountKV(a), .uint32(UInt32(kvHeads))),
            (MetadataKey.layerNormRMSEpsilon(a), .float32(Float(try c.double("rms_norm_eps", default: 1e-6)))),
            (MetadataKey.ropeFreqBase(a), .float32(Float(rope.theta))),
        ]
        if explicitHeadDim {
            metadata.append((MetadataKey.keyLength(a), .uint32(UInt32(headDim))))
            metadata.append((MetadataKey.valueLength(a), .uint32(UInt32(headDim))))
        }
        if let scaling = rope.scaling {
            let kind = scaling["rope_type"]?.string ?? scaling["type"]?.string ?? "?"
            guard kind == "linear", let factor = scaling["factor"]?.double else {
                throw .unsupported("rope_scaling type '\(kind)'")
            }
            metadata.append((MetadataKey.ropeScalingType(a), .string("linear")))
            metadata.append((MetadataKey.ropeScalingFactor(a), .float32(Float(factor))))
        }
        if experts > 0 {
            metadata.append((MetadataKey.expertCount(a), .uint32(UInt32(experts))))
            metadata.append((MetadataKey.expertUsedCount(a), .uint32(UInt32(used))))
        }
        // llama.cpp's converter drops Mistral's window (its "llama" graph attends to everything); Swiftlet keeps
        // it under llama.cpp's key, which llama.cpp ignores for "llama", so transformers' outputs can be matched.
        if c.has("sliding_window") {
            metadata.append((MetadataKey.slidingWindow(a), .uint32(UInt32(try c.count("sliding_window")))))
        }

        typealias N = LlamaWeights.Name
        let qDim = heads * headDim, kvDim = kvHeads * headDim
        var t: [TensorSource] = [TensorSource(N.embedding, from: "model.embed_tokens.weight", shape: [vocab, dim])]
        for l in 0..<layers {
            let p = "model.layers.\(l)."
            t.append(TensorSource(N.attnNorm(l), from: p + "input_layernorm.weight", shape: [dim]))
            t.append(TensorSource(N.attnQ(l), from: p + "self_attn.q_proj.weight", shape: [qDim, dim], .permuteRows(heads: heads)))
            t.append(TensorSource(N.attnK(l), from: p + "self_attn.k_proj.weight", shape: [kvDim, dim], .permuteRows(heads: kvHeads)))
            t.append(TensorSource(N.attnV(l), from: p + "self_attn.v_proj.weight", shape: [kvDim, dim]))
            t.append(TensorSource(N.attnOutput(l), from: p + "self_attn.o_proj.weight", shape: [dim, qDim]))
            if names.contains(p + "self_attn.q_proj.bias") {  // attention_bias: true
                t.append(TensorSource(N.attnQ(l, "bias"), from: p + "self_attn.q_proj.bias", shape: [qDim], .permuteRows(heads: heads)))
                t.append(TensorSource(N.attnK(l, "bias"), from: p + "self_attn.k_proj.bias", shape: [kvDim], .permuteRows(heads: kvHeads)))
                t.append(TensorSource(N.attnV(l, "bias"), from: p + "self_attn.v_proj.bias", shape: [kvDim]))
            }
            if names.contains(p + "self_attn.o_proj.bias") {
                t.append(TensorSource(N.attnOutput(l, "bias"), from: p + "self_attn.o_proj.bias", shape: [dim]))
            }
            t.append(TensorSource(N.ffnNorm(l), from: p + "post_attention_layernorm.weight", shape: [dim]))
            if experts > 0 {
                // Experts stack into one 3-D tensor each, expert e at index e: w1 is the gate, w3 up, w2 down.
                let m = p + "block_sparse_moe."
                func stacked(_ w: String) -> [String] { (0..<experts).map { "\(m)experts.\($0).\(w).weight" } }
                t.append(TensorSource(N.ffnGateInp(l), from: m + "gate.weight", shape: [experts, dim]))
                t.append(TensorSource(N.ffnGateExps(l), from: stacked("w1"), shape: [ff, dim], .stack))
                t.append(TensorSource(N.ffnUpExps(l), from: stacked("w3"), shape: [ff, dim], .stack))
                t.append(TensorSource(N.ffnDownExps(l), from: stacked("w2"), shape: [dim, ff], .stack))
            } else {
                t.append(TensorSource(N.ffnGate(l), from: p + "mlp.gate_proj.weight", shape: [ff, dim]))
                t.append(TensorSource(N.ffnUp(l), from: p + "mlp.up_proj.weight", shape: [ff, dim]))
                t.append(TensorSource(N.ffnDown(l), from: p + "mlp.down_proj.weight", shape: [dim, ff]))
            }
        }
        t.append(TensorSource(N.outputNorm, from: "model.norm.weight", shape: [dim]))
        // Tied models have no lm_head (or one equal to the embedding); llama.cpp then reads token_embd.
        let tied = try c.bool("tie_word_embeddings", default: false)
        if !tied, names.contains("lm_head.weight") {
            t.append(TensorSource(N.output, from: "lm_head.weight", shape: [vocab, dim]))
        } else if !tied {
            throw .missingTensor("lm_head.weight (tie_word_embeddings is false)")
        }
        return HFConversion(architecture: a, metadata: metadata, tensors: t) { name in
            name.hasSuffix(".rotary_emb.inv_freq") || (tied && name == "lm_head.weight")
        }
    }
}
