// GPT-2 decoder: weights, forward pass and Hugging Face conversion. Registered in Registry.swift.
// Follows transformers' modeling_gpt2.py; names and keys are llama.cpp's "gpt2"
// (convert_hf_to_gguf.py GPT2Model, src/llama-model.cpp LLM_ARCH_GPT2).

import Kernels
import Quant
import TensorFile

public struct GPT2Weights: @unchecked Sendable {  // views into the immutable mapping
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
        public static let output = "output.weight"
    }
    let embedding: Matrix                 // (vocab, dim)
    let positions: Matrix                 // (trainContext, dim)
    let output: Linear                    // (vocab, dim); token_embd (tied) unless output.weight exists
    let outputNorm: Norm
    let layers: [PreNormLayer]            // LayerNorms, fused q·k·v, gelu_new FFN, biases everywhere
}

public final class GPT2: DecoderNet {
    static let architecture = "gpt2"
    static let entry = ArchitectureEntry(
        name: architecture, huggingFace: ["GPT2LMHeadModel", "GPT2Model"], conversion: conversion,
        load: { (r) throws(ModelError) in .decoder(try GPT2(r)) }, keepsFloat: { $0.hasSuffix("position_embd.weight") })
    let shape: DecoderShape
    let w: GPT2Weights

    init(_ r: WeightReader) throws(ModelError) {
        typealias K = MetadataKey
        typealias N = GPT2Weights.Name
        let a = Self.architecture
        let dim = try r.count(K.embeddingLength(a)), heads = try r.count(K.headCount(a))
        guard dim % heads == 0 else { throw .config(key: K.headCount(a), reason: "\(heads) does not divide embedding_length \(dim)") }
        let vocab = try r.vocabRows(N.embedding, width: dim)
        let positions = try r.count(K.contextLength(a)), ff = try r.count(K.feedForwardLength(a))
        shape = DecoderShape(dim: dim, layers: try r.layerCount(K.blockCount(a)), heads: heads, kvHeads: heads,
                             headDim: dim / heads, ff: ff, vocab: vocab, trainContext: positions, ropeDims: 0,
                             learnedPositions: true)
        let eps = try r.positive(K.layerNormEpsilon(a), default: 1e-5)
        var layers: [PreNormLayer] = []
        for l in 0..<shape.layers {
            layers.append(PreNormLayer(
                attnNorm: try Norm(r, { N.attnNorm(l, $0) }, dim, .layer, eps: eps),
                attention: SelfAttention(qkv: .fused(try Linear(r, { N.attnQKV(l, $0) }, rows: 3 * dim, cols: dim)),
                                         o: try Linear(r, { N.attnOutput(l, $0) }, rows: dim, cols: dim)),
                ffnNorm: try Norm(r, { N.ffnNorm(l, $0) }, dim, .layer, eps: eps),
                ffn: FeedForward(up: try Linear(r, { N.ffnUp(l, $0) }, rows: ff, cols: dim), gate: nil,
                                 down: try Linear(r, { N.ffnDown(l, $0) }, rows: dim, cols: ff), activation: .geluTanh)))
        }
        let table = try r.matrix(N.embedding, rows: vocab, cols: dim)
        w = GPT2Weights(
            embedding: table, positions: try r.matrix(N.positions, rows: positions, cols: dim),
            output: Linear(r.has(N.output) ? try r.matrix(N.output, rows: vocab, cols: dim) : table),
            outputNorm: try Norm(r, N.outputNorm, dim, .layer, eps: eps), layers: layers)
    }

    var matrixTypes: Set<GGMLType> { Set(w.layers.flatMap(\.matrixTypes) + [w.output.w.type]) }

    func forward(_ tokens: UnsafeBufferPointer<Int32>, start: Int, logitRows: Range<Int>, _ st: DecoderState) {
        let b = st.buffers, n = tokens.count, dim = shape.dim
        embed(tokens, w.embedding, into: b.x)
        for t in 0..<n {  // learned absolute positions, added to the token embedding
            dequantizeRow(w.positions.row(start + t), count: dim, as: w.positions.type, into: b.out)
            add(b.out, into: b.x + t * dim, dim)
        }
        for l in 0..<w.layers.count { w.layers[l](layer: l, n: n, start: start, st) }
        logitsHead(norm: w.outputNorm, output: w.output, logitRows: logitRows, st)
    }

    /// Hugging Face GPT2LMHeadModel → GGUF "gpt2". The head is tied to token_embd and not written.
    @Sendable static func conversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        let a = architecture
        let dim = try c.count("n_embd"), layers = try c.layers("n_layer"), heads = try c.count("n_head")
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
            (MetadataKey.layerNormEpsilon(a), .float32(try c.epsilon("layer_norm_epsilon", default: 1e-5))),
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
