// CTRL decoder (Salesforce CTRL): weights, forward pass and Hugging Face conversion.
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

struct CTRLLayer: @unchecked Sendable {  // views into the immutable mapping
    let attnNormW, attnNormB, ffnNormW, ffnNormB: UnsafePointer<Float>  // (dim)
    let wq, wk, wv, wo: Matrix                                         // (dim, dim)
    let bq, bk, bv, bo: UnsafePointer<Float>                           // (dim)
    let up: Matrix, upBias: UnsafePointer<Float>                       // (ff, dim), (ff)
    let down: Matrix, downBias: UnsafePointer<Float>                   // (dim, ff), (dim)
}

public final class CTRL: @unchecked Sendable {  // weights are views into the immutable mapping
    static let architecture = "ctrl"
    let shape: DecoderShape
    let normEps: Float
    let embedding: Matrix                  // (vocab, dim); also the head's matrix
    let outputNormW, outputNormB: UnsafePointer<Float>
    let output: Matrix                     // token_embd unless output.weight exists
    let outputBias: UnsafePointer<Float>   // (vocab)
    let layers: [CTRLLayer]
    /// (positions, dim) sinusoids: sin of the even-indexed angles, then cos of the odd-indexed ones, as
    /// modeling_ctrl.py's positional_encoding lays them out.
    let positions: [Float]

    init(_ r: WeightReader) throws(ModelError) {
        typealias K = MetadataKey
        typealias N = CTRLWeights.Name
        let a = Self.architecture
        let dim = try r.count(K.embeddingLength(a)), heads = try r.count(K.headCount(a))
        guard dim % heads == 0, dim % 2 == 0 else {
            throw .config(key: K.headCount(a), reason: "\(heads) heads and the width \(dim) (must divide it, and be even)")
        }
        let table = r.file.info(N.embedding).map { $0.shape } ?? []
        guard table.count == 2 else { throw .missingTensor(N.embedding) }
        let vocab = table[1], context = try r.count(K.contextLength(a)), ff = try r.count(K.feedForwardLength(a))
        shape = DecoderShape(dim: dim, layers: try r.count(K.blockCount(a)), heads: heads, kvHeads: heads, headDim: dim / heads,
                             ff: ff, vocab: vocab, trainContext: context, ropeDims: 0, learnedPositions: true)
        normEps = try r.float(K.layerNormEpsilon(a), default: 1e-6)
        var layers: [CTRLLayer] = []
        for l in 0..<shape.layers {
            layers.append(CTRLLayer(
                attnNormW: try r.vector(N.attnNorm(l, "weight"), dim), attnNormB: try r.vector(N.attnNorm(l, "bias"), dim),
                ffnNormW: try r.vector(N.ffnNorm(l, "weight"), dim), ffnNormB: try r.vector(N.ffnNorm(l, "bias"), dim),
                wq: try r.matrix(N.attnQ(l, "weight"), rows: dim, cols: dim), wk: try r.matrix(N.attnK(l, "weight"), rows: dim, cols: dim),
                wv: try r.matrix(N.attnV(l, "weight"), rows: dim, cols: dim),
                wo: try r.matrix(N.attnOutput(l, "weight"), rows: dim, cols: dim),
                bq: try r.vector(N.attnQ(l, "bias"), dim), bk: try r.vector(N.attnK(l, "bias"), dim),
                bv: try r.vector(N.attnV(l, "bias"), dim), bo: try r.vector(N.attnOutput(l, "bias"), dim),
                up: try r.matrix(N.ffnUp(l, "weight"), rows: ff, cols: dim), upBias: try r.vector(N.ffnUp(l, "bias"), ff),
                down: try r.matrix(N.ffnDown(l, "weight"), rows: dim, cols: ff), downBias: try r.vector(N.ffnDown(l, "bias"), dim)))
        }
        self.layers = layers
        embedding = try r.matrix(N.embedding, rows: vocab, cols: dim)
        output = r.has(N.output("weight")) ? try r.matrix(N.output("weight"), rows: vocab, cols: dim) : embedding
        outputBias = try r.vector(N.output("bias"), vocab)
        outputNormW = try r.vector(N.outputNorm("weight"), dim)
        outputNormB = try r.vector(N.outputNorm("bias"), dim)
        // In float32, as modeling_ctrl.py builds them (torch.float); angle 2i+1 has angle 2i's rate.
        var p = [Float](repeating: 0, count: context * dim)
        let half = dim / 2
        for pos in 0..<context {
            for i in 0..<half {
                let angle = Float(pos) * (1 / powf(10000, Float(2 * i) / Float(dim)))
                p[pos * dim + i] = sinf(angle)
                p[pos * dim + half + i] = cosf(angle)
            }
        }
        positions = p
    }

    var matrixTypes: Set<GGMLType> {
        Set(layers.flatMap { [$0.wq.type, $0.wk.type, $0.wv.type, $0.wo.type, $0.up.type, $0.down.type] } + [output.type])
    }

    /// Evaluates `tokens` at positions start..<start+n (as Llama.forward does).
    func forward(_ tokens: UnsafeBufferPointer<Int32>, start: Int, logitRows: Range<Int>, _ st: DecoderState) {
        let s = shape, b = st.buffers, pool = st.pool, n = tokens.count, dim = s.dim, qkv = s.qkvDim
        embed(tokens, embedding, into: b.x)
        let scale = Float(dim).squareRoot()
        positions.withUnsafeBufferPointer { p in
            for t in 0..<n {
                let x = b.x + t * dim, row = p.baseAddress! + (start + t) * dim
                for i in 0..<dim { x[i] = x[i] * scale + row[i] }
            }
        }
        for l in 0..<layers.count {
            let layer = layers[l]
            for t in 0..<n {
                layerNorm(b.x + t * dim, weight: layer.attnNormW, bias: layer.attnNormB, dim, eps: 1e-6, into: b.xb + t * dim)
            }
            matMul(MatMulOutput(layer.wq, into: b.qkv, yStride: qkv), MatMulOutput(layer.wk, into: b.qkv + dim, yStride: qkv),
                   MatMulOutput(layer.wv, into: b.qkv + 2 * dim, yStride: qkv), b.xb, tokens: n, scratch: b.scratch, pool: pool)
            addBias(layer.bq, to: b.qkv, rows: n, cols: dim, stride: qkv)
            addBias(layer.bk, to: b.qkv + dim, rows: n, cols: dim, stride: qkv)
            addBias(layer.bv, to: b.qkv + 2 * dim, rows: n, cols: dim, stride: qkv)
            storeKV(s, layer: l, n: n, start: start, cache: st.cache, b: b)
            causalAttention(s, layer: l, n: n, start: start, cache: st.cache, b: b, context: st.context, pool: pool)
            matMul(layer.wo, b.attn, tokens: n, into: b.out, yStride: dim, scratch: b.scratch, pool: pool)
            addBias(layer.bo, to: b.out, rows: n, cols: dim, stride: dim)
            add(b.out, into: b.x, n * dim)

            for t in 0..<n {
                layerNorm(b.x + t * dim, weight: layer.ffnNormW, bias: layer.ffnNormB, dim, eps: 1e-6, into: b.xb + t * dim)
            }
            matMul(layer.up, b.xb, tokens: n, into: b.hb, yStride: s.ff, scratch: b.scratch, pool: pool)
            addBias(layer.upBias, to: b.hb, rows: n, cols: s.ff, stride: s.ff)
            relu(b.hb, n * s.ff)
            matMul(layer.down, b.hb, tokens: n, into: b.out, yStride: dim, scratch: b.scratch, pool: pool)
            addBias(layer.downBias, to: b.out, rows: n, cols: dim, stride: dim)
            add(b.out, into: b.x, n * dim)
        }
        for t in logitRows {
            layerNorm(b.x + t * dim, weight: outputNormW, bias: outputNormB, dim, eps: normEps, into: b.xb + t * dim)
        }
        matMul(output, b.xb + logitRows.lowerBound * dim, tokens: logitRows.count, into: b.logits, yStride: s.vocab,
               scratch: b.scratch, pool: pool)
        addBias(outputBias, to: b.logits, rows: logitRows.count, cols: s.vocab, stride: s.vocab)
    }

    /// Hugging Face CTRLLMHeadModel → GGUF "ctrl". Pre-LayerNorm blocks with ReLU FFNs; positions are sinusoids
    /// computed at load, and the embedding is scaled by √n_embd at run time, so neither is stored.
    @Sendable static func conversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        let a = architecture
        let dim = try c.count("n_embd"), layers = try c.count("n_layer"), heads = try c.count("n_head")
        let vocab = try c.count("vocab_size"), positions = try c.count("n_positions"), ff = try c.count("dff")
        guard dim % heads == 0 else { throw .config(key: "n_head", reason: "\(heads) does not divide n_embd \(dim)") }
        guard dim % 2 == 0 else { throw .config(key: "n_embd", reason: "\(dim) is odd; the sinusoids come in sin/cos halves") }
        // Block norms are built with ε = 1e-6 whatever the config says; only the final norm reads
        // layer_norm_epsilon. One key holds both, so it must be 1e-6.
        let eps = try c.double("layer_norm_epsilon", default: 1e-6)
        guard eps == 1e-6 else { throw .unsupported("CTRL layer_norm_epsilon \(eps) (block norms always use 1e-6)") }

        let metadata: [(key: String, value: GGUFValue)] = [
            (MetadataKey.vocabSize(a), .uint32(UInt32(vocab))),
            (MetadataKey.contextLength(a), .uint32(UInt32(positions))),
            (MetadataKey.embeddingLength(a), .uint32(UInt32(dim))),
            (MetadataKey.blockCount(a), .uint32(UInt32(layers))),
            (MetadataKey.feedForwardLength(a), .uint32(UInt32(ff))),
            (MetadataKey.headCount(a), .uint32(UInt32(heads))),
            (MetadataKey.layerNormEpsilon(a), .float32(Float(eps))),
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
