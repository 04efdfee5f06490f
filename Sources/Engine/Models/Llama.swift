// Llama-family decoder (Llama 2/3, SmolLM2, Mistral; Mixtral's experts when config.json has num_local_experts):
// weights, forward pass and Hugging Face conversion. Registered in Registry.swift.
// Follows transformers' modeling_llama.py; names and keys are llama.cpp's "llama"
// (convert_hf_to_gguf.py LlamaModel, src/llama-arch.cpp).

import Kernels
import Quant
import TensorFile

public struct LlamaWeights: @unchecked Sendable {  // views into the immutable mapping
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
        public static func ffnGate(_ l: Int, _ part: String = "weight") -> String { "blk.\(l).ffn_gate.\(part)" }
        public static func ffnUp(_ l: Int, _ part: String = "weight") -> String { "blk.\(l).ffn_up.\(part)" }
        public static func ffnDown(_ l: Int, _ part: String = "weight") -> String { "blk.\(l).ffn_down.\(part)" }
        public static func ffnGateInp(_ l: Int) -> String { "blk.\(l).ffn_gate_inp.weight" }  // MoE router
        public static func ffnGateExps(_ l: Int) -> String { "blk.\(l).ffn_gate_exps.weight" }
        public static func ffnUpExps(_ l: Int) -> String { "blk.\(l).ffn_up_exps.weight" }
        public static func ffnDownExps(_ l: Int) -> String { "blk.\(l).ffn_down_exps.weight" }
    }
    struct Layer {
        let block: PreNormLayer                      // a mixture's ffn: expert 0's (only its types are read)
        let experts: Experts?
    }
    /// A mixture of experts: the router and every expert's SwiGLU network (views into the stacked tensors).
    struct Experts {
        let router: Matrix                           // (experts, dim)
        let ffn: [FeedForward]                       // per expert: gate, up (ff, dim), down (dim, ff)
    }
    let embedding: Matrix                            // (vocab, dim)
    let output: Linear                               // (vocab, dim); token_embd when tied
    let outputNorm: Norm                             // (dim)
    let layers: [Layer]
}

public final class Llama: DecoderNet {
    static let architecture = "llama"
    static let entry = ArchitectureEntry(
        name: architecture, huggingFace: ["LlamaForCausalLM", "MistralForCausalLM", "MixtralForCausalLM"],
        conversion: conversion, load: { (r) throws(ModelError) in .decoder(try Llama(r)) },
        keepsFloat: { $0.hasSuffix("ffn_gate_inp.weight") })  // MoE routers
    let shape: DecoderShape
    let w: LlamaWeights

    init(_ r: WeightReader) throws(ModelError) {
        typealias K = MetadataKey
        typealias N = LlamaWeights.Name
        let a = Self.architecture
        let dim = try r.count(K.embeddingLength(a)), heads = try r.count(K.headCount(a))
        let kvHeads = try r.count(K.headCountKV(a), default: heads)
        guard heads % kvHeads == 0 else {
            throw .config(key: K.headCountKV(a), reason: "\(kvHeads) does not divide head_count \(heads)")
        }
        guard r.file.contains(K.keyLength(a)) || dim % heads == 0 else {
            throw .config(key: K.headCount(a), reason: "\(heads) does not divide embedding_length \(dim)")
        }
        let headDim = try r.count(K.keyLength(a), default: dim / heads)
        guard try r.count(K.valueLength(a), default: headDim) == headDim else {
            throw .config(key: K.valueLength(a), reason: "differs from key_length \(headDim)")
        }
        let ropeDims = try r.count(K.ropeDimensionCount(a), default: headDim)
        guard ropeDims <= headDim, ropeDims % 2 == 0 else {
            throw .config(key: K.ropeDimensionCount(a), reason: "\(ropeDims) is odd or more than the head size \(headDim)")
        }
        let vocab = try r.vocabRows(N.embedding, width: dim, key: K.vocabSize(a))
        var shape = DecoderShape(
            dim: dim, layers: try r.layerCount(K.blockCount(a)), heads: heads, kvHeads: kvHeads, headDim: headDim,
            ff: try r.count(K.feedForwardLength(a)), vocab: vocab,
            trainContext: try r.count(K.contextLength(a), default: 2048), ropeDims: ropeDims, learnedPositions: false)
        let eps = try r.positive(K.layerNormRMSEpsilon(a), default: 1e-5)
        shape.window = r.file.contains(K.slidingWindow(a)) ? try r.count(K.slidingWindow(a)) : nil
        if r.has(N.ffnGateInp(0)) {
            shape.experts = try r.count(K.expertCount(a))
            shape.expertsUsed = try r.count(K.expertUsedCount(a), in: 1...shape.experts)
        }
        shape.ropeBase = try r.positive(K.ropeFreqBase(a), default: 10000)
        if r.file.contains(K.ropeScalingType(a)) {
            let kind = (try? r.file.string(K.ropeScalingType(a))) ?? "?"
            guard kind == "linear" || kind == "none" else { throw .unsupported("rope scaling type '\(kind)'") }
            shape.ropeScale = kind == "linear" ? 1 / (try r.positive(K.ropeScalingFactor(a), default: 1)) : 1
        }
        self.shape = shape
        let s = shape, qDim = s.qDim, kvDim = s.kvDim
        var layers: [LlamaWeights.Layer] = []
        for l in 0..<s.layers {
            let e = s.experts
            var experts: LlamaWeights.Experts?
            if e > 0 {
                let gate = try r.stacked(N.ffnGateExps(l), count: e, rows: s.ff, cols: dim)
                let up = try r.stacked(N.ffnUpExps(l), count: e, rows: s.ff, cols: dim)
                let down = try r.stacked(N.ffnDownExps(l), count: e, rows: dim, cols: s.ff)
                experts = LlamaWeights.Experts(router: try r.matrix(N.ffnGateInp(l), rows: e, cols: dim), ffn: (0..<e).map {
                    FeedForward(up: Linear(up[$0]), gate: Linear(gate[$0]), down: Linear(down[$0]), activation: .silu)
                })
            }
            let ffn: FeedForward
            if let experts {
                ffn = experts.ffn[0]
            } else {
                let gate = try Linear(r, { N.ffnGate(l, $0) }, rows: s.ff, cols: dim, bias: .none)  // read first: errors name it
                ffn = FeedForward(up: try Linear(r, { N.ffnUp(l, $0) }, rows: s.ff, cols: dim, bias: .none), gate: gate,
                                  down: try Linear(r, { N.ffnDown(l, $0) }, rows: dim, cols: s.ff, bias: .none), activation: .silu)
            }
            let attention = SelfAttention(
                qkv: .separate(q: try Linear(r, { N.attnQ(l, $0) }, rows: qDim, cols: dim, bias: .optional),
                               k: try Linear(r, { N.attnK(l, $0) }, rows: kvDim, cols: dim, bias: .optional),
                               v: try Linear(r, { N.attnV(l, $0) }, rows: kvDim, cols: dim, bias: .optional)),
                o: try Linear(r, { N.attnOutput(l, $0) }, rows: dim, cols: qDim, bias: .optional))
            layers.append(LlamaWeights.Layer(
                block: PreNormLayer(attnNorm: try Norm(rms: r, N.attnNorm(l), dim, eps: eps), attention: attention,
                                    ffnNorm: try Norm(rms: r, N.ffnNorm(l), dim, eps: eps), ffn: ffn),
                experts: experts))
        }
        let table = try r.matrix(N.embedding, rows: vocab, cols: dim)
        // Tied models (SmolLM2) have no output.weight: llama.cpp then multiplies by token_embd.
        w = LlamaWeights(embedding: table,
                         output: Linear(r.has(N.output) ? try r.matrix(N.output, rows: vocab, cols: dim) : table),
                         outputNorm: try Norm(rms: r, N.outputNorm, dim, eps: eps), layers: layers)
    }

    var matrixTypes: Set<GGMLType> {
        Set(w.layers.flatMap { $0.block.matrixTypes + ($0.experts.map { [$0.router.type] } ?? []) } + [w.output.w.type])
    }

    func forward(_ tokens: UnsafeBufferPointer<Int32>, start: Int, logitRows: Range<Int>, _ st: DecoderState) {
        let b = st.buffers, n = tokens.count, dim = shape.dim
        embed(tokens, w.embedding, into: b.x)
        fillRopeTables(start: start, n: n, shape, b)
        for l in 0..<w.layers.count {
            let layer = w.layers[l]
            guard let experts = layer.experts else {
                layer.block(layer: l, n: n, start: start, st)
                continue
            }
            layer.block.attend(layer: l, n: n, start: start, st)
            layer.block.ffnNorm(b.x, rows: n, into: b.xb)
            mixture(experts, n, st)
            add(b.out, into: b.x, n * dim)
        }
        logitsHead(norm: w.outputNorm, output: w.output, logitRows: logitRows, st)
    }

    /// A mixture's routing regions: router logits, then probabilities (batch, experts); the normed rows routed to
    /// one expert and that expert's outputs (batch, dim); each token's experts (Int32) and their renormalised weights
    /// (batch, expertsUsed).
    func reserveBuffers(_ p: inout ArenaPlan, batch: Int, context: Int, threads: Int) -> [Int] {
        let s = shape
        guard s.experts > 0 else { return [] }
        return [p.floats("moe", batch * s.experts), p.floats("moe", batch * s.dim), p.floats("moe", batch * s.dim),
                p.reserve("moe", batch * s.expertsUsed * 4), p.floats("moe", batch * s.expertsUsed)]
    }

    /// Mixtral's sparse block (transformers' MixtralSparseMoeBlock) on the normed rows b.xb into b.out: each token
    /// takes the `expertsUsed` experts its router scores highest, weighted by their softmax probabilities scaled
    /// to sum to 1. Tokens are grouped by expert, so each chosen expert's weights are read once per batch and the
    /// others not at all.
    private func mixture(_ e: LlamaWeights.Experts, _ n: Int, _ st: DecoderState) {
        let s = shape, b = st.buffers, k = s.expertsUsed, c = st.compute
        let router = st.own(0), gathered = st.own(1), output = st.own(2)
        let chosen = (st.arena + st.own[3]).assumingMemoryBound(to: Int32.self), weights = st.own(4)
        matMul(e.router, b.xb, tokens: n, into: router, yStride: s.experts, scratch: c.scratch, pool: c.pool)
        for t in 0..<n {
            let p = router + t * s.experts
            softmax(p, s.experts)
            // Top k by probability, the lower index first among equals (torch.topk's order here).
            var total: Float = 0
            for j in 0..<k {
                var best = -1
                for x in 0..<s.experts where !taken(Int32(x), chosen + t * k, j) && (best < 0 || p[x] > p[best]) { best = x }
                chosen[t * k + j] = Int32(best)
                weights[t * k + j] = p[best]
                total += p[best]
            }
            for j in 0..<k { weights[t * k + j] /= total }
        }
        b.out.update(repeating: 0, count: n * s.dim)
        for x in 0..<s.experts {
            var rows = 0
            for t in 0..<n where taken(Int32(x), chosen + t * k, k) {
                (gathered + rows * s.dim).update(from: b.xb + t * s.dim, count: s.dim)
                rows += 1
            }
            guard rows > 0 else { continue }
            e.ffn[x](gathered, rows: rows, b.hb, b.hb2, into: output, stride: s.dim, c)
            var row = 0
            for t in 0..<n {
                for j in 0..<k where chosen[t * k + j] == Int32(x) {
                    axpy(weights[t * k + j], output + row * s.dim, b.out + t * s.dim, s.dim)
                    row += 1
                }
            }
        }
    }

    /// Whether `expert` is among the first `count` of `chosen`.
    private func taken(_ expert: Int32, _ chosen: UnsafePointer<Int32>, _ count: Int) -> Bool {
        for j in 0..<count where chosen[j] == expert { return true }
        return false
    }

    /// Hugging Face LlamaForCausalLM / MistralForCausalLM / MixtralForCausalLM → GGUF "llama", as llama.cpp's
    /// LlamaModel converts all three.
    @Sendable static func conversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        let a = architecture
        let dim = try c.count("hidden_size"), layers = try c.layers("num_hidden_layers")
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
        let experts = try c.int("num_local_experts", in: 0...1024, default: 0)
        let used = experts > 0 ? try c.count("num_experts_per_tok") : 0
        guard used <= experts else {
            throw .config(key: "num_experts_per_tok", reason: "\(used) is more than num_local_experts \(experts)")
        }

        let rope = try c.rope(defaultTheta: 10000)
        var metadata: [(key: String, value: GGUFValue)] = [
            (MetadataKey.vocabSize(a), .uint32(UInt32(vocab))),
            (MetadataKey.contextLength(a), .uint32(UInt32(c.has("max_position_embeddings") ? try c.count("max_position_embeddings") : 2048))),
            (MetadataKey.embeddingLength(a), .uint32(UInt32(dim))),
            (MetadataKey.blockCount(a), .uint32(UInt32(layers))),
            (MetadataKey.feedForwardLength(a), .uint32(UInt32(ff))),
            (MetadataKey.ropeDimensionCount(a), .uint32(UInt32(headDim))),
            (MetadataKey.headCount(a), .uint32(UInt32(heads))),
            (MetadataKey.headCountKV(a), .uint32(UInt32(kvHeads))),
            (MetadataKey.layerNormRMSEpsilon(a), .float32(try c.epsilon("rms_norm_eps", default: 1e-6))),
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
            guard factor.isFinite, factor > 0, Float(factor).isFinite, Float(factor) > 0 else {
                let parent = c.has("rope_parameters") ? "rope_parameters" : "rope_scaling"
                throw .config(key: parent + ".factor", reason: "\(factor) is not a positive number")
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
