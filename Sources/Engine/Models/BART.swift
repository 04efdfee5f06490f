// BART and MarianMT encoder-decoders: weight names and Hugging Face conversion.
// Follows transformers' modeling_bart.py and modeling_marian.py. llama.cpp has neither: the names are its "t5"
// words for the same parts (enc./dec. stacks, attn_o, cross_attn_*) and its BERT words for post-LayerNorm blocks;
// the keys are llama.cpp's where it has one, else Swiftlet's (formats/TENSORS-seq2seq.md). Registered (both) in
// Registry.swift; the encoder-decoder session and attention passes are Seq2Seq.swift's.

import Kernels
import Quant
import TensorFile
#if canImport(Glibc)
import Glibc
#endif

public enum BARTWeights {
    public enum Name {  // the only place these strings are spelled
        public typealias S = Seq2SeqStack
        public static let embedding = "token_embd.weight"
        public static let output = "output.weight"
        public static let outputBias = "output.bias"
        /// BART's learned positions, row p for position p (Marian's are sinusoids, not stored).
        public static func positions(_ s: S) -> String { "\(s.rawValue).position_embd.weight" }
        public static func embeddingNorm(_ s: S, _ part: String) -> String { "\(s.rawValue).token_embd_norm.\(part)" }
        public static func attnQ(_ s: S, _ l: Int, _ part: String) -> String { "\(s.rawValue).blk.\(l).attn_q.\(part)" }
        public static func attnK(_ s: S, _ l: Int, _ part: String) -> String { "\(s.rawValue).blk.\(l).attn_k.\(part)" }
        public static func attnV(_ s: S, _ l: Int, _ part: String) -> String { "\(s.rawValue).blk.\(l).attn_v.\(part)" }
        public static func attnO(_ s: S, _ l: Int, _ part: String) -> String { "\(s.rawValue).blk.\(l).attn_o.\(part)" }
        public static func attnOutputNorm(_ s: S, _ l: Int, _ part: String) -> String {
            "\(s.rawValue).blk.\(l).attn_output_norm.\(part)"
        }
        public static func crossAttnQ(_ l: Int, _ part: String) -> String { "dec.blk.\(l).cross_attn_q.\(part)" }
        public static func crossAttnK(_ l: Int, _ part: String) -> String { "dec.blk.\(l).cross_attn_k.\(part)" }
        public static func crossAttnV(_ l: Int, _ part: String) -> String { "dec.blk.\(l).cross_attn_v.\(part)" }
        public static func crossAttnO(_ l: Int, _ part: String) -> String { "dec.blk.\(l).cross_attn_o.\(part)" }
        public static func crossAttnOutputNorm(_ l: Int, _ part: String) -> String { "dec.blk.\(l).cross_attn_output_norm.\(part)" }
        public static func ffnUp(_ s: S, _ l: Int, _ part: String) -> String { "\(s.rawValue).blk.\(l).ffn_up.\(part)" }
        public static func ffnDown(_ s: S, _ l: Int, _ part: String) -> String { "\(s.rawValue).blk.\(l).ffn_down.\(part)" }
        public static func layerOutputNorm(_ s: S, _ l: Int, _ part: String) -> String {
            "\(s.rawValue).blk.\(l).layer_output_norm.\(part)"
        }
    }
}

public enum BART {
    /// What tells BART and Marian apart in the checkpoint.
    enum Family {
        case bart    // learned positions with offset 2, a LayerNorm after the embeddings
        case marian  // sinusoidal positions computed at load, no embedding norm

        var architecture: String { self == .bart ? "bart" : "marian" }
    }

    static let entry = ArchitectureEntry(
        name: Family.bart.architecture, huggingFace: ["BartForConditionalGeneration"], conversion: conversion,
        load: { (r) throws(ModelError) in .seq2seq(try BARTModel(r, .bart)) }, keepsFloat: { $0.hasSuffix("position_embd.weight") })
    static let marianEntry = ArchitectureEntry(
        name: Family.marian.architecture, huggingFace: ["MarianMTModel"], conversion: marianConversion,
        load: { (r) throws(ModelError) in .seq2seq(try BARTModel(r, .marian)) })

    /// Hugging Face BartForConditionalGeneration → GGUF "bart".
    @Sendable static func conversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        try conversion(c, names, .bart)
    }

    /// Hugging Face MarianMTModel → GGUF "marian".
    @Sendable static func marianConversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        guard try c.bool("share_encoder_decoder_embeddings", default: true) else {
            throw .unsupported("a Marian model with separate source and target vocabularies (share_encoder_decoder_embeddings false)")
        }
        return try conversion(c, names, .marian)
    }

    static func conversion(_ c: HFConfig, _ names: Set<String>, _ family: Family) throws(ModelError) -> HFConversion {
        let a = family.architecture
        let dim = try c.count("d_model"), vocab = try c.count("vocab_size"), positions = try c.count("max_position_embeddings")
        if c.has("decoder_vocab_size"), try c.int("decoder_vocab_size") != vocab {
            throw .unsupported("a decoder_vocab_size other than vocab_size")
        }
        // Per stack: blocks, heads, FFN width.
        var shape: [Seq2SeqStack: (layers: Int, heads: Int, ff: Int)] = [:]
        for s in Seq2SeqStack.allCases {
            let half = s == .encoder ? "encoder" : "decoder"
            let heads = try c.count("\(half)_attention_heads")
            guard dim % heads == 0 else {
                throw .config(key: "\(half)_attention_heads", reason: "\(heads) does not divide d_model \(dim)")
            }
            shape[s] = (try c.layers("\(half)_layers"), heads, try c.count("\(half)_ffn_dim"))
        }
        guard c.has("decoder_start_token_id") else { throw .config(key: "decoder_start_token_id", reason: "missing") }
        let start = try c.tokenID("decoder_start_token_id", default: 0)
        let scale = try c.bool("scale_embedding", default: false) ? Float(Double(dim).squareRoot()) : 1

        let metadata: [(key: String, value: GGUFValue)] = [
            (MetadataKey.vocabSize(a), .uint32(UInt32(vocab))),
            (MetadataKey.contextLength(a), .uint32(UInt32(positions))),
            (MetadataKey.embeddingLength(a), .uint32(UInt32(dim))),
            (MetadataKey.blockCount(a), .uint32(UInt32(shape[.encoder]!.layers))),
            (MetadataKey.decoderBlockCount(a), .uint32(UInt32(shape[.decoder]!.layers))),
            (MetadataKey.feedForwardLength(a), .uint32(UInt32(shape[.encoder]!.ff))),
            (MetadataKey.decoderFeedForwardLength(a), .uint32(UInt32(shape[.decoder]!.ff))),
            (MetadataKey.headCount(a), .uint32(UInt32(shape[.encoder]!.heads))),
            (MetadataKey.decoderHeadCount(a), .uint32(UInt32(shape[.decoder]!.heads))),
            (MetadataKey.layerNormEpsilon(a), .float32(1e-5)),  // nn.LayerNorm's default; the config has none
            (MetadataKey.hiddenActivation(a), .string(c.string("activation_function") ?? "gelu")),
            (MetadataKey.embeddingScale(a), .float32(scale)),
            // transformers 5 runs both post-LayerNorm whatever an old config's normalize_before says.
            (MetadataKey.normalizeBefore(a), .bool(false)),
            (MetadataKey.decoderStartTokenID(a), .uint32(UInt32(start))),
        ]

        typealias N = BARTWeights.Name
        let embeddings = ["model.shared.weight", "model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight"]
        guard let embedding = embeddings.first(where: names.contains) else { throw .missingTensor("model.shared.weight") }
        var t = [TensorSource(N.embedding, from: embedding, shape: [vocab, dim])]
        func linear(_ name: (String) -> String, _ source: String, rows: Int, cols: Int) {
            t.append(TensorSource(name("weight"), from: source + ".weight", shape: [rows, cols]))
            t.append(TensorSource(name("bias"), from: source + ".bias", shape: [rows]))
        }
        func norm(_ name: (String) -> String, _ source: String) {
            t.append(TensorSource(name("weight"), from: source + ".weight", shape: [dim]))
            t.append(TensorSource(name("bias"), from: source + ".bias", shape: [dim]))
        }
        for s in Seq2SeqStack.allCases {
            let half = s == .encoder ? "encoder" : "decoder", p = "model.\(half).", ff = shape[s]!.ff
            if family == .bart {
                // Position p reads row p + 2; the two rows before are never read and are left out.
                t.append(TensorSource(N.positions(s), from: p + "embed_positions.weight", shape: [positions + 2, dim], .dropRows(2)))
                norm({ N.embeddingNorm(s, $0) }, p + "layernorm_embedding")
            }
            for l in 0..<shape[s]!.layers {
                let h = "\(p)layers.\(l)."
                linear({ N.attnQ(s, l, $0) }, h + "self_attn.q_proj", rows: dim, cols: dim)
                linear({ N.attnK(s, l, $0) }, h + "self_attn.k_proj", rows: dim, cols: dim)
                linear({ N.attnV(s, l, $0) }, h + "self_attn.v_proj", rows: dim, cols: dim)
                linear({ N.attnO(s, l, $0) }, h + "self_attn.out_proj", rows: dim, cols: dim)
                norm({ N.attnOutputNorm(s, l, $0) }, h + "self_attn_layer_norm")
                if s == .decoder {
                    linear({ N.crossAttnQ(l, $0) }, h + "encoder_attn.q_proj", rows: dim, cols: dim)
                    linear({ N.crossAttnK(l, $0) }, h + "encoder_attn.k_proj", rows: dim, cols: dim)
                    linear({ N.crossAttnV(l, $0) }, h + "encoder_attn.v_proj", rows: dim, cols: dim)
                    linear({ N.crossAttnO(l, $0) }, h + "encoder_attn.out_proj", rows: dim, cols: dim)
                    norm({ N.crossAttnOutputNorm(l, $0) }, h + "encoder_attn_layer_norm")
                }
                linear({ N.ffnUp(s, l, $0) }, h + "fc1", rows: ff, cols: dim)
                linear({ N.ffnDown(s, l, $0) }, h + "fc2", rows: dim, cols: ff)
                norm({ N.layerOutputNorm(s, l, $0) }, h + "final_layer_norm")
            }
        }
        // final_logits_bias is a buffer (1, vocab) added to the logits; checkpoints without one mean zeros.
        if names.contains("final_logits_bias") {
            t.append(TensorSource(N.outputBias, from: "final_logits_bias", shape: [1, vocab], .reshape([vocab])))
        }
        let tied = try c.bool("tie_word_embeddings", default: true)
        if !tied {
            guard names.contains("lm_head.weight") else { throw .missingTensor("lm_head.weight (tie_word_embeddings is false)") }
            t.append(TensorSource(N.output, from: "lm_head.weight", shape: [vocab, dim]))
        }
        return HFConversion(architecture: a, metadata: metadata, tensors: t) { name in
            (embeddings.contains(name) && name != embedding) || (tied && name == "lm_head.weight")
                || (family == .marian && name.hasSuffix(".embed_positions.weight"))  // older checkpoints store the sinusoids
        }
    }
}

struct BARTAttention: @unchecked Sendable {  // views into the immutable mapping
    let q, k, v, o: Linear              // (dim, dim)
    let norm: Norm                      // after the residual
}

struct BARTLayer: @unchecked Sendable {
    let attention: BARTAttention
    let cross: BARTAttention?           // the decoder's
    let up, down: Linear                // (ff, dim), (dim, ff)
    let outputNorm: Norm
}

/// BART and Marian: post-LayerNorm blocks with biases, attention scaled by 1/√head_dim, learned (BART) or sinusoidal
/// (Marian) positions, a LayerNorm after BART's embeddings, a tied head plus final_logits_bias.
public final class BARTModel: EncoderDecoderNet, @unchecked Sendable {
    let family: BART.Family
    let dim, vocab, encoderHeads, decoderHeads, encoderFF, decoderFF: Int
    let embeddingScale: Float
    let activation: Activation
    let decoderStart: Int32
    let embedding, output: Matrix
    let outputBias: UnsafePointer<Float>?
    /// (positions, dim): BART's learned tables; nil for Marian's sinusoids.
    let encoderPositions, decoderPositions: UnsafePointer<Float>?
    /// Marian's sinusoids are computed per token from these (angle j/2 of position p is p / divisors[j/2]): a table
    /// of context_length rows built at load would cost what the file's metadata asks, before a session is checked.
    let divisors: [Double]
    let encoderNorm, decoderNorm: Norm?
    let encoder, decoder: [BARTLayer]
    let positions: Int

    var maxInner: Int { dim }
    var maxFF: Int { max(encoderFF, decoderFF) }
    var maxHeadDim: Int { dim / min(encoderHeads, decoderHeads) }
    var decoderLayers: Int { decoder.count }
    var crossInner: Int { dim }
    var positionLimit: Int? { positions }

    init(_ r: WeightReader, _ family: BART.Family) throws(ModelError) {
        typealias K = MetadataKey
        typealias N = BARTWeights.Name
        let a = family.architecture
        self.family = family
        let dim = try r.count(K.embeddingLength(a)), vocab = try r.count(K.vocabSize(a))
        let positions = try r.count(K.contextLength(a))
        (self.dim, self.vocab, self.positions) = (dim, vocab, positions)
        encoderHeads = try r.count(K.headCount(a))
        decoderHeads = try r.count(K.decoderHeadCount(a), default: encoderHeads)
        let encoderFF = try r.count(K.feedForwardLength(a)), decoderFF = try r.count(K.decoderFeedForwardLength(a), default: encoderFF)
        (self.encoderFF, self.decoderFF) = (encoderFF, decoderFF)
        guard dim % encoderHeads == 0, dim % decoderHeads == 0 else {
            throw .config(key: K.headCount(a), reason: "\(encoderHeads) and \(decoderHeads) heads for a width of \(dim)")
        }
        guard !(try r.bool(K.normalizeBefore(a), default: false)) else { throw .unsupported("pre-LayerNorm \(a) (normalize_before)") }
        let eps = try r.positive(K.layerNormEpsilon(a), default: 1e-5)
        embeddingScale = try r.float(K.embeddingScale(a), default: 1)
        activation = try Activation(try r.string(K.hiddenActivation(a), default: "gelu"), key: K.hiddenActivation(a))
        decoderStart = Int32(try r.count(K.decoderStartTokenID(a), in: 0...(1 << 24), default: 0))
        func attention(_ name: (String) -> String, _ q: (String) -> String, _ k: (String) -> String, _ v: (String) -> String,
                       _ o: (String) -> String) throws(ModelError) -> BARTAttention {
            BARTAttention(q: try Linear(r, q, rows: dim, cols: dim, wideActivations: true), k: try Linear(r, k, rows: dim, cols: dim, wideActivations: true),
                          v: try Linear(r, v, rows: dim, cols: dim, wideActivations: true), o: try Linear(r, o, rows: dim, cols: dim, wideActivations: true),
                          norm: try Norm(r, name, dim, .layer, eps: eps))
        }
        func layer(_ s: Seq2SeqStack, _ l: Int) throws(ModelError) -> BARTLayer {
            let ff = s == .encoder ? encoderFF : decoderFF
            return BARTLayer(
                attention: try attention({ N.attnOutputNorm(s, l, $0) }, { N.attnQ(s, l, $0) }, { N.attnK(s, l, $0) },
                                         { N.attnV(s, l, $0) }, { N.attnO(s, l, $0) }),
                cross: s == .decoder
                    ? try attention({ N.crossAttnOutputNorm(l, $0) }, { N.crossAttnQ(l, $0) }, { N.crossAttnK(l, $0) },
                                    { N.crossAttnV(l, $0) }, { N.crossAttnO(l, $0) }) : nil,
                up: try Linear(r, { N.ffnUp(s, l, $0) }, rows: ff, cols: dim, wideActivations: true),
                down: try Linear(r, { N.ffnDown(s, l, $0) }, rows: dim, cols: ff, wideActivations: true),
                outputNorm: try Norm(r, { N.layerOutputNorm(s, l, $0) }, dim, .layer, eps: eps))
        }
        encoder = try (0..<(try r.layerCount(K.blockCount(a)))).map { (l) throws(ModelError) in try layer(.encoder, l) }
        decoder = try (0..<(try r.layerCount(K.decoderBlockCount(a)))).map { (l) throws(ModelError) in try layer(.decoder, l) }
        embedding = try r.matrix(N.embedding, rows: vocab, cols: dim)
        var head = r.has(N.output) ? try r.matrix(N.output, rows: vocab, cols: dim) : embedding
        head.wideActivations = true
        output = head
        outputBias = try r.optionalVector(N.outputBias, vocab)
        if family == .bart {
            encoderNorm = try Norm(r, { N.embeddingNorm(.encoder, $0) }, dim, .layer, eps: eps)
            decoderNorm = try Norm(r, { N.embeddingNorm(.decoder, $0) }, dim, .layer, eps: eps)
            func table(_ s: Seq2SeqStack) throws(ModelError) -> UnsafePointer<Float> {
                let m = try r.matrix(N.positions(s), rows: positions, cols: dim)
                guard m.type == .f32 else { throw .unsupported("\(N.positions(s)) of type \(m.type) (F32 is read)") }
                return UnsafePointer(m.data.assumingMemoryBound(to: Float.self))
            }
            encoderPositions = try table(.encoder)
            decoderPositions = try table(.decoder)
            divisors = []
        } else {
            encoderNorm = nil
            decoderNorm = nil
            encoderPositions = nil
            decoderPositions = nil
            divisors = (0..<(dim + 1) / 2).map { pow(10000, Double(2 * $0) / Double(dim)) }
        }
    }

    var matrixTypes: Set<GGMLType> {
        var types: Set<GGMLType> = [output.type]
        for l in encoder + decoder {
            for a in [l.attention] + (l.cross.map { [$0] } ?? []) { types.formUnion([a.q.w.type, a.k.w.type, a.v.w.type, a.o.w.type]) }
            types.formUnion([l.up.w.type, l.down.w.type])
        }
        return types
    }

    /// x[t] = LayerNorm(scale · E[token] + P[position(t)]) (no norm for Marian).
    private func embed(_ tokens: UnsafeBufferPointer<Int32>, position: (Int) -> Int, table: UnsafePointer<Float>?, norm: Norm?,
                       _ b: Seq2SeqBuffers) {
        Engine.embed(tokens, embedding, into: b.x)
        for t in 0..<tokens.count {
            let x = b.x + t * dim
            if let table {
                let p = table + position(t) * dim
                for i in 0..<dim { x[i] = x[i] * embeddingScale + p[i] }
            } else {
                // In double, then rounded, as the numpy table modeling_marian.py builds: the even-indexed angles'
                // sines first (ceil(dim/2) of them), then the odd-indexed angles' cosines.
                let p = Double(position(t)), sines = (dim + 1) / 2
                for j in 0..<dim {
                    let angle = p / divisors[j / 2]
                    if j % 2 == 0 {
                        x[j / 2] = x[j / 2] * embeddingScale + Float(sin(angle))
                    } else {
                        x[sines + j / 2] = x[sines + j / 2] * embeddingScale + Float(cos(angle))
                    }
                }
            }
            norm?(x, into: x)
        }
    }

    func encode(_ n: Int, _ st: Seq2SeqState) {
        let b = st.buffers
        embed(UnsafeBufferPointer(start: b.tokens, count: n), position: { $0 }, table: encoderPositions, norm: encoderNorm, b)
        for layer in encoder {
            attention(layer.attention, rows: n, selfAttention: true, heads: encoderHeads, st) { st.encoderAttention($0, rows: n) }
            feedForward(layer, n, st)
        }
        b.encoded.update(from: b.x, count: n * dim)
        for (l, layer) in decoder.enumerated() { st.storeCross(layer: l, k: layer.cross!.k, v: layer.cross!.v, rows: n) }
    }

    func decode(_ tokens: UnsafeBufferPointer<Int32>, rows: TargetRows, source: Int, logitRows: Range<Int>,
                into logits: UnsafeMutablePointer<Float>, _ st: Seq2SeqState) {
        let b = st.buffers, n = tokens.count
        embed(tokens, position: rows.position, table: decoderPositions, norm: decoderNorm, b)
        for (l, layer) in decoder.enumerated() {
            attention(layer.attention, rows: n, selfAttention: true, heads: decoderHeads, st) {
                st.decoderAttention($0, layer: l, rows: rows)
            }
            attention(layer.cross!, rows: n, selfAttention: false, heads: decoderHeads, st) {
                st.crossAttention($0, layer: l, rows: rows, source: source)
            }
            feedForward(layer, n, st)
        }
        matMul(output, b.x + logitRows.lowerBound * dim, tokens: logitRows.count, into: logits, yStride: vocab,
               scratch: b.scratch, pool: st.pool)
        addBias(outputBias, to: logits, rows: logitRows.count, cols: vocab, stride: vocab)
    }

    /// x = LayerNorm(x + O·attention(x)) over `rows` rows: with `selfAttention`, their keys and values staged
    /// (cross-attention's are the encoder's), then `attend` (the encoder's pass, the decoder's causal one or the
    /// cross-attention) with queries scaled by 1/√head_dim.
    private func attention(_ a: BARTAttention, rows n: Int, selfAttention: Bool, heads: Int, _ st: Seq2SeqState,
                           attend: (Seq2SeqState.Queries) -> Void) {
        let b = st.buffers, hd = dim / heads, scale = 1 / Float(hd).squareRoot()
        if selfAttention {
            let write = st.staging
            project(b.x, rows: n, Projection(a.q, into: b.q, stride: dim), Projection(a.k, into: write.keys, stride: write.stride),
                    Projection(a.v, into: write.values, stride: write.stride), st.compute)
        } else {
            a.q(b.x, rows: n, into: b.q, stride: dim, st.compute)
        }
        for i in 0..<n * dim { b.q[i] *= scale }
        attend(Seq2SeqState.Queries(q: b.q, out: b.attn, heads: heads, headDim: hd))
        residualNorm(a.o, b.attn, rows: n, x: b.x, out: b.out, norm: a.norm, st.compute)
    }

    /// x = LayerNorm(x + down·act(up·x)).
    private func feedForward(_ layer: BARTLayer, _ n: Int, _ st: Seq2SeqState) {
        let b = st.buffers, c = st.compute
        let h = FeedForward(up: layer.up, gate: nil, down: layer.down, activation: activation).hidden(b.x, rows: n, b.h1, b.h2, c)
        residualNorm(layer.down, h, rows: n, x: b.x, out: b.out, norm: layer.outputNorm, c)
    }
}
