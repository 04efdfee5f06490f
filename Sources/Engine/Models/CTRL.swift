// CTRL decoder (Salesforce CTRL): weights, forward pass and Hugging Face conversion. Registered in Registry.swift.
// Follows transformers' modeling_ctrl.py. llama.cpp has no CTRL, so the names and keys of "ctrl" are
// Swiftlet's, in llama.cpp's vocabulary (formats/TENSORS.md).

import Kernels
import Quant
import TensorFile
#if canImport(Glibc)
import Glibc
#endif

public enum CTRLWeights {
    public enum Name {  // the only place these strings are spelled
        public static let embedding = "token_embd.weight"
        public static func outputNorm(_ part: String) -> String { "output_norm.\(part)" }
        public static func output(_ part: String) -> String { "output.\(part)" }
        public static func attnNorm(_ l: Int, _ part: String) -> String { "blk.\(l).attn_norm.\(part)" }
        public static func attnQ(_ l: Int, _ part: String) -> String { "blk.\(l).attn_q.\(part)" }
        public static func attnK(_ l: Int, _ part: String) -> String { "blk.\(l).attn_k.\(part)" }
        public static func attnV(_ l: Int, _ part: String) -> String { "blk.\(l).attn_v.\(part)" }
        public static func attnOutput(_ l: Int, _ part: String) -> String { "blk.\(l).attn_output.\(part)" }
        public static func ffnNorm(_ l: Int, _ part: String) -> String { "blk.\(l).ffn_norm.\(part)" }
        public static func ffnUp(_ l: Int, _ part: String) -> String { "blk.\(l).ffn_up.\(part)" }
        public static func ffnDown(_ l: Int, _ part: String) -> String { "blk.\(l).ffn_down.\(part)" }
    }
}

public final class CTRL: DecoderNet {
    static let architecture = "ctrl"
    static let entry = ArchitectureEntry(
        name: architecture, huggingFace: ["CTRLLMHeadModel"], conversion: conversion,
        load: { (r) throws(ModelError) in .decoder(try CTRL(r)) })
    let shape: DecoderShape
    let embedding: Matrix                  // (vocab, dim)
    let output: Linear                     // (vocab, dim): token_embd unless output.weight exists; CTRL's own bias
    let outputNorm: Norm
    let layers: [PreNormLayer]             // LayerNorms (ε 1e-6), q, k, v with biases, ReLU FFN
    /// The sinusoids' rates (dim/2): position p's row is sin(p · rate) of each, then cos(p · rate) of each, as
    /// modeling_ctrl.py's positional_encoding lays them out. Computed per token: a table of context_length rows built
    /// at load would cost what the file's metadata asks, before a session is checked.
    let rates: [Float]

    init(_ r: WeightReader) throws(ModelError) {
        typealias K = MetadataKey
        typealias N = CTRLWeights.Name
        let a = Self.architecture
        let dim = try r.count(K.embeddingLength(a)), heads = try r.count(K.headCount(a))
        guard dim % heads == 0, dim % 2 == 0 else {
            throw .config(key: K.headCount(a), reason: "\(heads) heads and the width \(dim) (must divide it, and be even)")
        }
        let vocab = try r.vocabRows(N.embedding, width: dim)
        let context = try r.count(K.contextLength(a)), ff = try r.count(K.feedForwardLength(a))
        shape = DecoderShape(dim: dim, layers: try r.layerCount(K.blockCount(a)), heads: heads, kvHeads: heads, headDim: dim / heads,
                             ff: ff, vocab: vocab, trainContext: context, ropeDims: 0, learnedPositions: true)
        // Block norms are built with ε = 1e-6 whatever the config says; only the final norm reads the key.
        let eps = try r.positive(K.layerNormEpsilon(a), default: 1e-6)
        var layers: [PreNormLayer] = []
        for l in 0..<shape.layers {
            layers.append(PreNormLayer(
                attnNorm: try Norm(r, { N.attnNorm(l, $0) }, dim, .layer, eps: 1e-6),
                attention: SelfAttention(
                    qkv: .separate(q: try Linear(r, { N.attnQ(l, $0) }, rows: dim, cols: dim),
                                   k: try Linear(r, { N.attnK(l, $0) }, rows: dim, cols: dim),
                                   v: try Linear(r, { N.attnV(l, $0) }, rows: dim, cols: dim)),
                    o: try Linear(r, { N.attnOutput(l, $0) }, rows: dim, cols: dim)),
                ffnNorm: try Norm(r, { N.ffnNorm(l, $0) }, dim, .layer, eps: 1e-6),
                ffn: FeedForward(up: try Linear(r, { N.ffnUp(l, $0) }, rows: ff, cols: dim), gate: nil,
                                 down: try Linear(r, { N.ffnDown(l, $0) }, rows: dim, cols: ff), activation: .relu)))
        }
        self.layers = layers
        embedding = try r.matrix(N.embedding, rows: vocab, cols: dim)
        output = Linear(r.has(N.output("weight")) ? try r.matrix(N.output("weight"), rows: vocab, cols: dim) : embedding,
                        bias: try r.vector(N.output("bias"), vocab))
        outputNorm = try Norm(r, N.outputNorm, dim, .layer, eps: eps)
        // In float32, as modeling_ctrl.py builds them (torch.float); angle 2i+1 has angle 2i's rate.
        rates = (0..<dim / 2).map { 1 / powf(10000, Float(2 * $0) / Float(dim)) }
    }

    var matrixTypes: Set<GGMLType> { Set(layers.flatMap(\.matrixTypes) + [output.w.type]) }

    func forward(_ tokens: UnsafeBufferPointer<Int32>, start: Int, logitRows: Range<Int>, _ st: DecoderState) {
        let b = st.buffers, n = tokens.count, dim = shape.dim
        embed(tokens, embedding, into: b.x)
        let scale = Float(dim).squareRoot()
        let half = dim / 2
        for t in 0..<n {
            let x = b.x + t * dim, pos = Float(start + t)
            for i in 0..<half {
                let angle = pos * rates[i]
                x[i] = x[i] * scale + sinf(angle)
                x[half + i] = x[half + i] * scale + cosf(angle)
            }
        }
        for l in 0..<layers.count { layers[l](layer: l, n: n, start: start, st) }
        logitsHead(norm: outputNorm, output: output, logitRows: logitRows, st)
    }

    /// Hugging Face CTRLLMHeadModel → GGUF "ctrl". Pre-LayerNorm blocks with ReLU FFNs; positions are sinusoids
    /// computed at load, and the embedding is scaled by √n_embd at run time, so neither is stored.
    @Sendable static func conversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        let a = architecture
        let dim = try c.count("n_embd"), layers = try c.layers("n_layer"), heads = try c.count("n_head")
        let vocab = try c.count("vocab_size"), positions = try c.count("n_positions"), ff = try c.count("dff")
        guard dim % heads == 0 else { throw .config(key: "n_head", reason: "\(heads) does not divide n_embd \(dim)") }
        guard dim % 2 == 0 else { throw .config(key: "n_embd", reason: "\(dim) is odd; the sinusoids come in sin/cos halves") }
        // Block norms are built with ε = 1e-6 whatever the config says; only the final norm reads
        // layer_norm_epsilon. One key holds both, so it must be 1e-6.
        let eps = try c.epsilon("layer_norm_epsilon", default: 1e-6)
        guard eps == 1e-6 else { throw .unsupported("CTRL layer_norm_epsilon \(eps) (block norms always use 1e-6)") }

        let metadata: [(key: String, value: GGUFValue)] = [
            (MetadataKey.vocabSize(a), .uint32(UInt32(vocab))),
            (MetadataKey.contextLength(a), .uint32(UInt32(positions))),
            (MetadataKey.embeddingLength(a), .uint32(UInt32(dim))),
            (MetadataKey.blockCount(a), .uint32(UInt32(layers))),
            (MetadataKey.feedForwardLength(a), .uint32(UInt32(ff))),
            (MetadataKey.headCount(a), .uint32(UInt32(heads))),
            (MetadataKey.layerNormEpsilon(a), .float32(eps)),
        ]
        typealias N = CTRLWeights.Name
        var t: [TensorSource] = [TensorSource(N.embedding, from: "transformer.w.weight", shape: [vocab, dim])]
        for l in 0..<layers {
            let h = "transformer.h.\(l).", attn = h + "multi_head_attention."
            t += [
                TensorSource(N.attnNorm(l, "weight"), from: h + "layernorm1.weight", shape: [dim]),
                TensorSource(N.attnNorm(l, "bias"), from: h + "layernorm1.bias", shape: [dim]),
                TensorSource(N.attnQ(l, "weight"), from: attn + "Wq.weight", shape: [dim, dim]),
                TensorSource(N.attnQ(l, "bias"), from: attn + "Wq.bias", shape: [dim]),
                TensorSource(N.attnK(l, "weight"), from: attn + "Wk.weight", shape: [dim, dim]),
                TensorSource(N.attnK(l, "bias"), from: attn + "Wk.bias", shape: [dim]),
                TensorSource(N.attnV(l, "weight"), from: attn + "Wv.weight", shape: [dim, dim]),
                TensorSource(N.attnV(l, "bias"), from: attn + "Wv.bias", shape: [dim]),
                TensorSource(N.attnOutput(l, "weight"), from: attn + "dense.weight", shape: [dim, dim]),
                TensorSource(N.attnOutput(l, "bias"), from: attn + "dense.bias", shape: [dim]),
                TensorSource(N.ffnNorm(l, "weight"), from: h + "layernorm2.weight", shape: [dim]),
                TensorSource(N.ffnNorm(l, "bias"), from: h + "layernorm2.bias", shape: [dim]),
                TensorSource(N.ffnUp(l, "weight"), from: h + "ffn.0.weight", shape: [ff, dim]),
                TensorSource(N.ffnUp(l, "bias"), from: h + "ffn.0.bias", shape: [ff]),
                TensorSource(N.ffnDown(l, "weight"), from: h + "ffn.2.weight", shape: [dim, ff]),
                TensorSource(N.ffnDown(l, "bias"), from: h + "ffn.2.bias", shape: [dim]),
            ]
        }
        t.append(TensorSource(N.outputNorm("weight"), from: "transformer.layernorm.weight", shape: [dim]))
        t.append(TensorSource(N.outputNorm("bias"), from: "transformer.layernorm.bias", shape: [dim]))
        // The head's matrix is token_embd (tied, not written); its bias is CTRL's own.
        let tied = try c.bool("tie_word_embeddings", default: true)
        if !tied {
            t.append(TensorSource(N.output("weight"), from: "lm_head.weight", shape: [vocab, dim]))
        }
        t.append(TensorSource(N.output("bias"), from: "lm_head.bias", shape: [vocab]))
        return HFConversion(architecture: a, metadata: metadata, tensors: t) { name in
            tied && name == "lm_head.weight"
        }
    }
}
