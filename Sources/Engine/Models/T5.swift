// T5 and FLAN-T5 encoder-decoders: weights, forward pass and Hugging Face conversion.
// Follows transformers' modeling_t5.py; names and keys are llama.cpp's "t5" (conversion/t5.py T5Model, gguf-py
// tensor_mapping.py, src/models/t5.cpp), plus Swiftlet's keys for what llama.cpp hard-codes or leaves out
// (formats/TENSORS-seq2seq.md). Pre-RMS-norm blocks without biases, no 1/√d in attention, and position biases
// from relative-position buckets (block 0's table, shared by its stack; none in cross-attention). Registered in
// Registry.swift; the encoder-decoder session and attention passes are Seq2Seq.swift's.

import Kernels
import Quant
import TensorFile
#if canImport(Glibc)
import Glibc
#endif

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
        /// A cross-attention bucket table some checkpoints carry: transformers never uses it, nor llama.cpp's graph.
        public static func crossAttnRelBias(_ l: Int) -> String { "dec.blk.\(l).cross_attn_rel_b.weight" }
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

struct T5Layer: @unchecked Sendable {  // views into the immutable mapping
    let attnNorm: Norm
    let q, k, v: Linear                 // (inner, dim)
    let o: Linear                       // (dim, inner)
    let crossNorm: Norm?
    let cq, ck, cv, co: Linear?         // the decoder's cross-attention
    let ffnNorm: Norm
    let ffn: FeedForward                // gated (wi_0, wi_1) or plain; no biases
}

public final class T5: EncoderDecoderNet, @unchecked Sendable {  // weights are views into the immutable mapping
    static let architecture = "t5"
    static let entry = ArchitectureEntry(
        name: architecture, huggingFace: ["T5ForConditionalGeneration"], conversion: conversion,
        load: { (r) throws(ModelError) in .seq2seq(try T5(r)) },
        keepsFloat: { $0.hasSuffix("attn_rel_b.weight") })  // the relative position biases
    let dim, heads, headDim, ff, vocab, buckets, maxDistance: Int
    var maxInner: Int { inner }
    var maxFF: Int { ff }
    var maxHeadDim: Int { headDim }
    var decoderLayers: Int { decoder.count }
    var crossInner: Int { inner }
    var positionLimit: Int? { nil }
    /// d_model^-0.5 before a tied head (T5 v1.0), 1 otherwise.
    let logitScale: Float
    public let decoderStart: Int32
    let embedding, output: Matrix
    let encoderNorm, decoderNorm: Norm
    /// Each stack's position biases by key − query, built once from its (buckets, heads) table.
    let encoderBias, decoderBias: PositionBias
    private let biasLines: UnsafeMutablePointer<Float>  // owned: both stacks' lines
    let encoder, decoder: [T5Layer]
    var inner: Int { heads * headDim }

    init(_ r: WeightReader) throws(ModelError) {
        typealias K = MetadataKey
        typealias N = T5Weights.Name
        let a = Self.architecture
        let dim = try r.count(K.embeddingLength(a)), heads = try r.count(K.headCount(a))
        let headDim = try r.count(K.keyLength(a), default: dim / heads), ff = try r.count(K.feedForwardLength(a))
        (self.dim, self.heads, self.headDim, self.ff) = (dim, heads, headDim, ff)
        buckets = try r.count(K.relativeBucketsCount(a), in: 4...(1 << 16), default: 32)
        // Past max_distance the buckets stop changing (so the bias lines end there) when it exceeds the exact half.
        maxDistance = try r.count(K.relativeMaxDistance(a), in: buckets / 2 + 1...(1 << 16), default: 128)
        let eps = try r.positive(K.layerNormRMSEpsilon(a), default: 1e-6)
        // Files from llama.cpp's converter carry neither key. As transformers runs them: a tied head (no output
        // tensor, T5 v1.0) is scaled by d_model^-0.5 (llama.cpp does not scale, which leaves the argmax alone but not
        // the probabilities); a gated FFN (T5 v1.1, FLAN-T5) is gelu_new, as llama.cpp's LLM_FFN_GELU, else ReLU.
        logitScale = try r.float(K.logitScale(a), default: r.has(N.output) ? 1 : 1 / Float(dim).squareRoot())
        let gated = r.has(N.ffnGate(.encoder, 0)) || r.has(N.ffnGate(.decoder, 0))
        let activation = try Activation(try r.string(K.hiddenActivation(a), default: gated ? "gelu_new" : "relu"),
                                        key: K.hiddenActivation(a))
        decoderStart = Int32(try r.count(K.decoderStartTokenID(a), in: 0...(1 << 24), default: 0))
        guard let table = r.file.info(N.embedding)?.shape, table.count == 2 else { throw .missingTensor(N.embedding) }
        let vocab = table[1], buckets = self.buckets
        self.vocab = vocab
        let inner = heads * headDim
        // 16-bit activations for every product (Matrix.wideActivations): T5's hidden states carry outliers that
        // ggml's 8-bit blocks round away (Q8_0 logits moved by a fifth of their range on the tiny fixtures).
        func matrix(_ name: String, rows: Int, cols: Int) throws(ModelError) -> Matrix {
            var m = try r.matrix(name, rows: rows, cols: cols)
            m.wideActivations = true
            return m
        }
        func linear(_ name: String, rows: Int, cols: Int) throws(ModelError) -> Linear {
            Linear(try matrix(name, rows: rows, cols: cols))
        }
        func layer(_ s: Seq2SeqStack, _ l: Int) throws(ModelError) -> T5Layer {
            let cross = s == .decoder
            let gated = r.has(N.ffnGate(s, l))
            return T5Layer(
                attnNorm: try Norm(rms: r, N.attnNorm(s, l), dim, eps: eps),
                q: try linear(N.attnQ(s, l), rows: inner, cols: dim), k: try linear(N.attnK(s, l), rows: inner, cols: dim),
                v: try linear(N.attnV(s, l), rows: inner, cols: dim), o: try linear(N.attnO(s, l), rows: dim, cols: inner),
                crossNorm: cross ? try Norm(rms: r, N.crossAttnNorm(l), dim, eps: eps) : nil,
                cq: cross ? try linear(N.crossAttnQ(l), rows: inner, cols: dim) : nil,
                ck: cross ? try linear(N.crossAttnK(l), rows: inner, cols: dim) : nil,
                cv: cross ? try linear(N.crossAttnV(l), rows: inner, cols: dim) : nil,
                co: cross ? try linear(N.crossAttnO(l), rows: dim, cols: inner) : nil,
                ffnNorm: try Norm(rms: r, N.ffnNorm(s, l), dim, eps: eps),
                ffn: FeedForward(up: try linear(N.ffnUp(s, l), rows: ff, cols: dim),
                                 gate: gated ? try linear(N.ffnGate(s, l), rows: ff, cols: dim) : nil,
                                 down: try linear(N.ffnDown(s, l), rows: dim, cols: ff), activation: activation))
        }
        encoder = try (0..<(try r.layerCount(K.blockCount(a)))).map { (l) throws(ModelError) in try layer(.encoder, l) }
        decoder = try (0..<(try r.layerCount(K.decoderBlockCount(a)))).map { (l) throws(ModelError) in try layer(.decoder, l) }
        embedding = try matrix(N.embedding, rows: vocab, cols: dim)
        output = r.has(N.output) ? try matrix(N.output, rows: vocab, cols: dim) : embedding
        encoderNorm = try Norm(rms: r, N.outputNorm(.encoder), dim, eps: eps)
        decoderNorm = try Norm(rms: r, N.outputNorm(.decoder), dim, eps: eps)
        if r.has(N.crossAttnRelBias(0)) { try r.unneeded(N.crossAttnRelBias(0), shape: [heads, buckets]) }
        let encoderTable = try r.matrix(N.attnRelBias(.encoder, 0), rows: buckets, cols: heads)
        let decoderTable = try r.matrix(N.attnRelBias(.decoder, 0), rows: buckets, cols: heads)
        guard encoderTable.type == .f32, decoderTable.type == .f32 else {
            throw .unsupported("tensor '\(N.attnRelBias(.encoder, 0))': type \(encoderTable.type.name) (expected F32)")
        }
        let reach = maxDistance, line = 2 * reach + 1
        // T5 has 128 × at most 64 heads; the bound keeps a file's keys from sizing a table past what any model needs.
        guard heads * line <= 1 << 22 else {
            throw .config(key: K.relativeMaxDistance(a), reason: "\(maxDistance) with \(heads) heads needs \(heads * line) "
                + "bias floats per stack (at most \(1 << 22))")
        }
        biasLines = .allocate(capacity: 2 * heads * line)
        for (s, table) in [encoderTable, decoderTable].enumerated() {
            let values = table.data.assumingMemoryBound(to: Float.self)
            for h in 0..<heads {
                for r in -reach...reach {
                    let bucket = Self.bucket(r, bidirectional: s == 0, buckets: buckets, maxDistance: maxDistance)
                    biasLines[(s * heads + h) * line + reach + r] = values[bucket * heads + h]
                }
            }
        }
        encoderBias = PositionBias(lines: biasLines, reach: reach)
        decoderBias = PositionBias(lines: biasLines + heads * line, reach: reach)
    }

    deinit { biasLines.deallocate() }

    var matrixTypes: Set<GGMLType> {
        Set((encoder + decoder).flatMap { l in
            [l.q, l.k, l.v, l.o, l.ffn.up, l.ffn.down] + [l.cq, l.ck, l.cv, l.co, l.ffn.gate].compactMap { $0 }
        }.map(\.w.type) + [output.type])
    }

    /// transformers' _relative_position_bucket for key position − query position.
    static func bucket(_ relative: Int, bidirectional: Bool, buckets: Int, maxDistance: Int) -> Int {
        var n = buckets, result = 0, r = relative
        if bidirectional {
            n /= 2
            if r > 0 { result += n }
            r = abs(r)
        } else {
            r = -min(r, 0)
        }
        let exact = n / 2
        if r < exact { return result + r }
        let large = exact + Int(logf(Float(r) / Float(exact)) / logf(Float(maxDistance) / Float(exact)) * Float(n - exact))
        return result + min(large, n - 1)
    }

    /// Hugging Face T5ForConditionalGeneration (T5 and T5 v1.1 / FLAN-T5) → GGUF "t5".
    @Sendable static func conversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        let a = architecture
        let dim = try c.count("d_model"), headDim = try c.count("d_kv"), heads = try c.count("num_heads")
        let ff = try c.count("d_ff"), vocab = try c.count("vocab_size"), layers = try c.layers("num_layers")
        let decoderLayers = c.has("num_decoder_layers") ? try c.layers("num_decoder_layers") : layers
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
        let eps = try c.epsilon("layer_norm_epsilon", default: 1e-6)
        guard c.has("decoder_start_token_id") else {
            throw .config(key: "decoder_start_token_id", reason: "missing (llama.cpp's converter requires it too)")
        }
        let start = try c.tokenID("decoder_start_token_id", default: 0)

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

extension T5 {
    /// The encoder over `n` source tokens in b.tokens: final hidden states into b.encoded, then every decoder
    /// layer's cross-attention keys and values into the session's cross cache.
    func encode(_ n: Int, _ st: Seq2SeqState) {
        let b = st.buffers
        embed(UnsafeBufferPointer(start: b.tokens, count: n), embedding, into: b.x)
        for layer in encoder {
            selfAttention(layer, rows: n, st) { st.encoderAttention($0, rows: n, bias: encoderBias) }
            feedForward(layer, n, st)
        }
        encoderNorm(b.x, rows: n, into: b.encoded)
        for (l, layer) in decoder.enumerated() { st.storeCross(layer: l, k: layer.ck!, v: layer.cv!, rows: n) }
    }

    /// The decoder over the target `rows` (their K and V appended to their beams' self caches), attending to
    /// `source` encoded tokens; logits of rows `logitRows` into `logits`.
    func decode(_ tokens: UnsafeBufferPointer<Int32>, rows: TargetRows, source: Int, logitRows: Range<Int>,
                into logits: UnsafeMutablePointer<Float>, _ st: Seq2SeqState) {
        let b = st.buffers, c = st.compute, n = tokens.count
        embed(tokens, embedding, into: b.x)
        for (l, layer) in decoder.enumerated() {
            selfAttention(layer, rows: n, st) {
                st.decoderAttention($0, layer: l, rows: rows, bias: decoderBias)
            }
            // Cross-attention: no position bias.
            layer.crossNorm!(b.x, rows: n, into: b.xb)
            layer.cq!(b.xb, rows: n, into: b.q, stride: inner, c)
            st.crossAttention(queries(b), layer: l, rows: rows, source: source)
            layer.co!(b.attn, rows: n, into: b.out, stride: dim, c)
            add(b.out, into: b.x, n * dim)
            feedForward(layer, n, st)
        }
        for t in logitRows {
            decoderNorm(b.x + t * dim, into: b.xb + t * dim)
            for i in 0..<dim { b.xb[t * dim + i] *= logitScale }
        }
        matMul(output, b.xb + logitRows.lowerBound * dim, tokens: logitRows.count, into: logits, yStride: vocab,
               scratch: b.scratch, pool: c.pool)
    }

    /// x += O · attention(RMSNorm(x)) over `rows` rows: keys and values staged, then `attend` (the encoder's
    /// bidirectional pass or the decoder's causal one, with the stack's position biases; T5 does not scale).
    private func selfAttention(_ layer: T5Layer, rows n: Int, _ st: Seq2SeqState, attend: (Seq2SeqState.Queries) -> Void) {
        let b = st.buffers, c = st.compute, kv = st.staging
        layer.attnNorm(b.x, rows: n, into: b.xb)
        project(b.xb, rows: n, Projection(layer.q, into: b.q, stride: inner), Projection(layer.k, into: kv.keys, stride: kv.stride),
                Projection(layer.v, into: kv.values, stride: kv.stride), c)
        attend(queries(b))
        layer.o(b.attn, rows: n, into: b.out, stride: dim, c)
        add(b.out, into: b.x, n * dim)
    }

    /// Queries in b.q, their attention into b.attn.
    private func queries(_ b: Seq2SeqBuffers) -> Seq2SeqState.Queries {
        Seq2SeqState.Queries(q: b.q, out: b.attn, heads: heads, headDim: headDim)
    }

    /// x += down · act(gate·RMSNorm(x)) ⊙ (up·RMSNorm(x)), or down · act(up·RMSNorm(x)) without a gate.
    private func feedForward(_ layer: T5Layer, _ n: Int, _ st: Seq2SeqState) {
        let b = st.buffers
        layer.ffnNorm(b.x, rows: n, into: b.xb)
        layer.ffn(b.xb, rows: n, b.h1, b.h2, into: b.out, stride: dim, st.compute)
        add(b.out, into: b.x, n * dim)
    }
}
