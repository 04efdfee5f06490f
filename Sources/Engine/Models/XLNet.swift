// XLNet (relative-position Transformer-XL blocks, post-LayerNorm, two-stream attention): weights, forward pass
// and Hugging Face conversion. Follows transformers' modeling_xlnet.py. llama.cpp has no XLNet, so the names and
// keys of "xlnet" are Swiftlet's, in llama.cpp's vocabulary (formats/TENSORS.md). Registered in Registry.swift.
//
// Generation as transformers runs it (XLNetLMHeadModel.prepare_inputs_for_generation without mems): the prompt
// plus one placeholder, a perm_mask that hides the placeholder from every query, and a target_mapping that reads
// the query stream there. Every content row then attends to the whole prompt (not the placeholder), so the
// content stream is the prompt's bidirectional pass, recomputed at every step; the query stream starts from
// mask_emb at the placeholder's position and attends to the content stream's keys and values.

import Kernels
import Quant
import TensorFile
#if canImport(Glibc)
import Glibc
#endif

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

struct XLNetLayer: @unchecked Sendable {  // views into the immutable mapping
    let q, k, v, r: Matrix                       // (qDim, dim)
    let o: Matrix                                // (dim, qDim)
    let contentBias, positionBias: UnsafePointer<Float>  // r_w_bias, r_r_bias (qDim)
    let attnNorm: Norm                           // after the attention residual
    let ffn: FeedForward                         // gelu(up·x + b)·downᵀ + b
    let outputNorm: Norm                         // after the feed-forward residual
}

public final class XLNet: DecoderNet, @unchecked Sendable {  // weights are views into the immutable mapping
    static let architecture = "xlnet"
    static let entry = ArchitectureEntry(
        name: architecture, huggingFace: ["XLNetLMHeadModel"], conversion: conversion,
        load: { (r) throws(ModelError) in .decoder(try XLNet(r)) },
        keepsFloat: { $0.hasSuffix("attn_seg_embd.weight") })  // per-layer segment embeddings, token types' counterpart
    let shape: DecoderShape
    let embedding: Matrix                        // (vocab, dim); also the head's matrix
    let maskEmbedding: UnsafePointer<Float>      // (dim) the query stream's input
    let outputBias: UnsafePointer<Float>         // (vocab)
    let layers: [XLNetLayer]

    init(_ r: WeightReader) throws(ModelError) {
        typealias K = MetadataKey
        typealias N = XLNetWeights.Name
        let a = Self.architecture
        let dim = try r.count(K.embeddingLength(a)), heads = try r.count(K.headCount(a))
        let headDim = try r.count(K.keyLength(a), default: dim / heads), ff = try r.count(K.feedForwardLength(a))
        guard dim % 2 == 0 else { throw .config(key: K.embeddingLength(a), reason: "\(dim) is odd; the sinusoids come in halves") }
        guard !(try r.bool(K.causalAttention(a), default: false)) else {
            throw .unsupported("XLNet with attn_type 'uni'")
        }
        var clamp = -1
        if r.file.contains(K.clampLength(a)) {
            do { clamp = try r.file.int(K.clampLength(a)) } catch { throw .file(error) }
        }
        guard clamp <= 0 else { throw .unsupported("XLNet clamp_len \(clamp)") }
        guard !(try r.bool(K.sameLength(a), default: false)) else { throw .unsupported("XLNet same_length") }
        let vocab = try r.vocabRows(N.embedding, width: dim), qDim = heads * headDim
        var shape = DecoderShape(dim: dim, layers: try r.layerCount(K.blockCount(a)), heads: heads, kvHeads: heads,
                                 headDim: headDim, ff: ff, vocab: vocab, trainContext: 512, ropeDims: 0, learnedPositions: false)
        shape.recomputes = true
        self.shape = shape
        let eps = try r.positive(K.layerNormEpsilon(a), default: 1e-12)
        var layers: [XLNetLayer] = []
        for l in 0..<shape.layers {
            // Segment terms vanish without token types (transformers' seg_mat is None in generation).
            try r.unneeded(N.segmentBias(l), shape: [qDim])
            try r.unneeded(N.segmentEmbedding(l), shape: [qDim, 2])
        }
        for l in 0..<shape.layers {
            layers.append(XLNetLayer(
                q: try r.matrix(N.attnQ(l), rows: qDim, cols: dim), k: try r.matrix(N.attnK(l), rows: qDim, cols: dim),
                v: try r.matrix(N.attnV(l), rows: qDim, cols: dim), r: try r.matrix(N.attnR(l), rows: qDim, cols: dim),
                o: try r.matrix(N.attnOutput(l), rows: dim, cols: qDim),
                contentBias: try r.vector(N.contentBias(l), qDim), positionBias: try r.vector(N.positionBias(l), qDim),
                attnNorm: try Norm(r, { N.attnOutputNorm(l, $0) }, dim, .layer, eps: eps),
                ffn: FeedForward(up: try Linear(r, { N.ffnUp(l, $0) }, rows: ff, cols: dim), gate: nil,
                                 down: try Linear(r, { N.ffnDown(l, $0) }, rows: dim, cols: ff), activation: .gelu),
                outputNorm: try Norm(r, { N.layerOutputNorm(l, $0) }, dim, .layer, eps: eps)))
        }
        self.layers = layers
        embedding = try r.matrix(N.embedding, rows: vocab, cols: dim)
        maskEmbedding = try r.vector(N.maskEmbedding, dim)
        outputBias = try r.vector(N.outputBias, vocab)
    }

    var matrixTypes: Set<GGMLType> {
        Set(layers.flatMap { [$0.q.type, $0.k.type, $0.v.type, $0.r.type, $0.o.type, $0.ffn.up.w.type, $0.ffn.down.w.type] } + [embedding.type])
    }

    /// Recomputes the whole context (history[0..<start] then `tokens`). With logit rows of every position
    /// (allLogits): each position's content-stream logits, what XLNetLMHeadModel(ids).logits gives. Otherwise the
    /// query stream's logits at the position after the last token: the next token as generation predicts it.
    func forward(_ tokens: UnsafeBufferPointer<Int32>, start: Int, logitRows: Range<Int>, _ st: DecoderState) {
        let s = shape, b = st.buffers, x = XLNetBuffers(st), pool = st.pool, dim = s.dim, qDim = s.qDim
        let total = start + tokens.count
        embed(UnsafeBufferPointer(start: st.history, count: total), embedding, into: b.x)
        let query = logitRows.count == 1 && logitRows.lowerBound == tokens.count - 1 && !st.allLogits
        if query { x.g.update(from: maskEmbedding, count: dim) }
        // Relative positions: row p holds distance total − p, for p in 0..<2·total (distances total ... −total+1),
        // sin of d·f_k then cos of d·f_k, f_k = 10000^(−2k/dim), in float32 as torch computes them.
        let rows = 2 * total, half = dim / 2
        for p in 0..<rows {
            let d = Float(total - p)
            for k in 0..<half {
                let angle = d * (1 / powf(10000, Float(2 * k) / Float(dim)))
                x.positions[p * dim + k] = sinf(angle)
                x.positions[p * dim + half + k] = cosf(angle)
            }
        }
        let qkv = 3 * qDim
        for layer in layers {
            matMul(layer.r, x.positions, tokens: rows, into: x.relative, yStride: qDim, scratch: b.scratch, pool: pool)
            matMul(MatMulOutput(layer.q, into: b.qkv, yStride: qkv), MatMulOutput(layer.k, into: b.qkv + qDim, yStride: qkv),
                   MatMulOutput(layer.v, into: b.qkv + 2 * qDim, yStride: qkv), b.x, tokens: total,
                   scratch: b.scratch, pool: pool)
            if query {  // the query stream reads this layer's content keys and values, so it goes first
                matMul(layer.q, x.g, tokens: 1, into: x.gq, yStride: qDim, scratch: b.scratch, pool: pool)
                relativeAttention(layer, x.gq, position: total, keys: total, into: x.gAttn, st)
                postAttention(layer, x.gAttn, residual: x.g, rows: 1, st)
            }
            let job = XLNetAttentionJob(model: self, layer: layer, total: total, st: st)
            withUnsafePointer(to: job) { pool.run(context: $0) { c, t, n in c.load(as: XLNetAttentionJob.self).run(t, n) } }
            postAttention(layer, b.attn, residual: b.x, rows: total, st)
            feedForward(layer, b.x, rows: total, st)
            if query { feedForward(layer, x.g, rows: 1, st) }
        }
        if query {
            matMul(embedding, x.g, tokens: 1, into: b.logits, yStride: s.vocab, scratch: b.scratch, pool: pool)
        } else {
            matMul(embedding, b.x + (start + logitRows.lowerBound) * dim, tokens: logitRows.count, into: b.logits,
                   yStride: s.vocab, scratch: b.scratch, pool: pool)
        }
        addBias(outputBias, to: b.logits, rows: logitRows.count, cols: s.vocab, stride: s.vocab)
    }

    /// One row's attention, every head: query q at `position` over content keys 0..<keys, scored as
    /// (q + r_w)·k_j + (q + r_r)·r_{position − j}, scaled by 1/√head_dim.
    fileprivate func relativeAttention(_ layer: XLNetLayer, _ q: UnsafePointer<Float>, position: Int, keys: Int,
                                       into out: UnsafeMutablePointer<Float>, _ st: DecoderState, thread: Int = 0,
                                       heads: Range<Int>? = nil) {
        let s = shape, b = st.buffers, x = XLNetBuffers(st), hd = s.headDim, qkv = 3 * s.qDim
        let scores = b.scores + thread * st.context, total = keys
        let scale = 1 / Float(hd).squareRoot()
        let qc = x.queryScratch + thread * 2 * s.qDim, qp = qc + s.qDim
        for i in 0..<s.qDim {
            qc[i] = q[i] + layer.contentBias[i]
            qp[i] = q[i] + layer.positionBias[i]
        }
        for h in heads ?? 0..<s.heads {
            let o = h * hd
            for j in 0..<keys {
                let relative = x.relative + (total - (position - j)) * s.qDim + o  // row total − distance
                scores[j] = (dot(qc + o, b.qkv + j * qkv + s.qDim + o, hd) + dot(qp + o, relative, hd)) * scale
            }
            softmax(scores, keys)
            let dst = out + o
            dst.update(repeating: 0, count: hd)
            for j in 0..<keys { axpy(scores[j], b.qkv + j * qkv + 2 * s.qDim + o, dst, hd) }
        }
    }

    /// y = LayerNorm(y + attn·Oᵀ) for `rows` rows (no bias, as XLNet's post_attention).
    private func postAttention(_ layer: XLNetLayer, _ attn: UnsafePointer<Float>, residual y: UnsafeMutablePointer<Float>,
                               rows: Int, _ st: DecoderState) {
        residualNorm(Linear(layer.o), attn, rows: rows, x: y, out: st.buffers.out, norm: layer.attnNorm, st.compute)
    }

    /// y = LayerNorm(y + W2·gelu(W1·y + b1) + b2) for `rows` rows.
    private func feedForward(_ layer: XLNetLayer, _ y: UnsafeMutablePointer<Float>, rows: Int, _ st: DecoderState) {
        let b = st.buffers, c = st.compute
        let h = layer.ffn.hidden(y, rows: rows, b.hb, b.hb2, c)
        residualNorm(layer.ffn.down, h, rows: rows, x: y, out: b.out, norm: layer.outputNorm, c)
    }

    /// XLNet's own regions: the sinusoids of the distances (2·context, dim) and their keys (2·context, qDim); the
    /// query stream (dim), its query and attention output (qDim each); each thread's query plus each bias (2·qDim).
    func reserveBuffers(_ p: inout ArenaPlan, batch: Int, context: Int, threads: Int) -> [Int] {
        let s = shape
        return [p.floats("relative", 2 * context * s.dim), p.floats("relative", 2 * context * s.qDim),
                p.floats("query", s.dim), p.floats("query", s.qDim), p.floats("query", s.qDim),
                p.floats("query", threads * 2 * s.qDim)]
    }

    /// The relative positions' rows go through the products too.
    func productRows(batch: Int, context: Int) -> Int { 2 * context }

    /// Hugging Face XLNetLMHeadModel → GGUF "xlnet". The head's matrix is tied to token_embd and not written.
    @Sendable static func conversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        let a = architecture
        let dim = try c.count("d_model"), layers = try c.layers("n_layer"), heads = try c.count("n_head")
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
            (MetadataKey.layerNormEpsilon(a), .float32(try c.epsilon("layer_norm_eps", default: 1e-12))),
            (MetadataKey.causalAttention(a), .bool(attnType == "uni")),
            (MetadataKey.memoryLength(a), .uint32(UInt32(clamping: max(0, try c.int("mem_len", default: 0))))),
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

/// XLNet's regions of the session arena (reserveBuffers).
private struct XLNetBuffers {
    let positions, relative: UnsafeMutablePointer<Float>
    let g, gq, gAttn: UnsafeMutablePointer<Float>
    let queryScratch: UnsafeMutablePointer<Float>

    init(_ st: DecoderState) {
        (positions, relative, g, gq, gAttn, queryScratch) = (st.own(0), st.own(1), st.own(2), st.own(3), st.own(4), st.own(5))
    }
}

/// The content stream's attention, every (row, head) split over the pool: row i attends to every row.
private struct XLNetAttentionJob {
    unowned(unsafe) let model: XLNet
    let layer: XLNetLayer
    let total: Int
    let st: DecoderState

    func run(_ thread: Int, _ threads: Int) {
        let s = model.shape, b = st.buffers
        var item = thread
        while item < total * s.heads {
            let i = item / s.heads, h = item % s.heads
            model.relativeAttention(layer, b.qkv + i * 3 * s.qDim, position: i, keys: total, into: b.attn + i * s.qDim, st,
                                    thread: thread, heads: h..<h + 1)
            item += threads
        }
    }
}
