// What every bidirectional encoder shares (BERT, RoBERTa, DistilBERT, ALBERT): sizes, weights, task heads and
// the forward pass over packed sequences. Models/BERT.swift and Models/ALBERT.swift bind the weights from a file;
// their bodies differ only in data (ALBERT's embedding projection and shared layers), so one pass runs both.
// Follows transformers' modeling_bert.py: post-LN blocks, absolute positions, token types.

import Kernels
import Quant
import TensorFile
#if canImport(Glibc)
import Glibc
#endif

public struct EncoderShape: Sendable {
    /// Hidden width, layers run (ALBERT: steps over shared layers), heads, feed-forward width.
    public let dim, layers, heads, ff: Int
    public let vocab: Int
    /// Rows of the position table: the longest sequence the model takes.
    public let positions: Int
    /// Rows of the token type table (1 when the model has none).
    public let tokenTypes: Int
    /// Width of the embedding tables: dim, except ALBERT's factorized embedding.
    public let embeddingWidth: Int
    /// The LayerNorms' epsilon.
    public let normEps: Float
    public var headDim: Int { dim / heads }
}

/// How a sentence vector is made from the hidden states (llama.cpp's pooling_type values).
public enum Pooling: Int, Sendable {
    case none = 0, mean = 1, cls = 2, last = 3
}

struct EncoderWeights: @unchecked Sendable {  // views into the immutable mapping
    struct Layer {
        let q, k, v, o: Linear        // (dim, dim)
        let attnNorm: Norm            // after the attention residual
        let up: Linear                // (ff, dim)
        let down: Linear              // (dim, ff)
        let outputNorm: Norm          // after the feed-forward residual
    }
    let embedding: Matrix             // (vocab, E)
    let positions: Matrix             // (positions, E)
    let tokenTypes: Matrix?           // (types, E)
    let embeddingNorm: Norm           // (E)
    let projection: Linear?           // ALBERT: (dim, E)
    let layers: [Layer]               // stored layers
    let steps: [[Int]]                // the stored layers each step runs (ALBERT: a group's inner layers)
}

/// The heads a file may carry (formats/TENSORS-encoders.md); any subset.
struct EncoderHeads: @unchecked Sendable {
    struct MaskedLM {
        let dense: Linear             // (E, dim)
        let norm: Norm                // (E)
        let decoder: Matrix           // (vocab, E): token_embd when tied
        let bias: UnsafePointer<Float> // (vocab)
    }
    let pooler: Linear?               // (dim, dim), then poolerActivation, on the first token
    let poolerActivation: Activation
    let classifier: Linear?           // (labels, dim) on the pooled vector
    let nextSentence: Linear?         // (2, dim) on the pooled vector
    let sentenceOrder: Linear?        // (2, dim) on the pooled vector
    let tokenClassifier: Linear?      // (labels, dim) on every token
    let span: Linear?                 // (2, dim) on every token: start, end
    let maskedLM: MaskedLM?

    init(_ r: WeightReader, _ a: String, _ s: EncoderShape, embedding: Matrix) throws(ModelError) {
        typealias N = BERTWeights.Name
        let labels = try r.strings(MetadataKey.classifierOutputLabels(a))?.count
        func labelCount(_ name: String) throws(ModelError) -> Int {
            guard let shape = r.file.info(name)?.shape, shape.count == 2 else { throw .missingTensor(name) }
            if let labels, labels != shape[1] {
                throw .config(key: MetadataKey.classifierOutputLabels(a),
                              reason: "\(labels) labels, but '\(name)' has \(shape[1]) rows")
            }
            return shape[1]
        }
        pooler = try .optional(r, N.pooler, rows: s.dim, cols: s.dim, wideActivations: true)
        poolerActivation = try Activation(try r.string(MetadataKey.classifierActivation(a), default: "tanh"),
                                          key: MetadataKey.classifierActivation(a))
        classifier = r.has(N.classifier("weight"))
            ? try Linear(r, N.classifier, rows: try labelCount(N.classifier("weight")), cols: s.dim, wideActivations: true) : nil
        tokenClassifier = r.has(N.tokenClassifier("weight"))
            ? try Linear(r, N.tokenClassifier, rows: try labelCount(N.tokenClassifier("weight")), cols: s.dim,
                         wideActivations: true) : nil
        nextSentence = try .optional(r, N.nextSentence, rows: 2, cols: s.dim, wideActivations: true)
        sentenceOrder = try .optional(r, N.sentenceOrder, rows: 2, cols: s.dim, wideActivations: true)
        span = try .optional(r, N.span, rows: 2, cols: s.dim, wideActivations: true)
        for (head, name) in [(classifier, N.classifier("weight")), (nextSentence, N.nextSentence("weight")),
                             (sentenceOrder, N.sentenceOrder("weight"))] where head != nil && pooler == nil {
            throw .missingTensor("\(N.pooler("weight")) (the pooler '\(name)' reads)")
        }
        if r.has(N.mlmDense("weight")) {
            let e = s.embeddingWidth
            var decoder = r.has(N.output("weight")) ? try r.matrix(N.output("weight"), rows: s.vocab, cols: e) : embedding
            decoder.wideActivations = true
            maskedLM = MaskedLM(dense: try Linear(r, N.mlmDense, rows: e, cols: s.dim, wideActivations: true),
                                norm: try Norm(r, N.mlmNorm, e, .layer, eps: s.normEps),
                                decoder: decoder, bias: try r.vector(N.output("bias"), s.vocab))
        } else {
            maskedLM = nil
        }
    }

    var matrices: [Matrix] {
        [pooler?.w, classifier?.w, nextSentence?.w, sentenceOrder?.w, tokenClassifier?.w, span?.w,
         maskedLM?.dense.w, maskedLM?.decoder].compactMap { $0 }
    }
}

/// A loaded encoder: weights, heads and what its metadata says about pooling and labels.
public final class Encoder: Sendable {
    public let shape: EncoderShape
    let activation: Activation
    let w: EncoderWeights
    let heads: EncoderHeads
    /// Sentence vectors: the pooling sentence-transformers configured (none when the file does not say).
    public let pooling: Pooling
    /// sentence-transformers' Normalize module: sentence vectors are L2-normalized.
    public let normalize: Bool
    /// The longest input in tokens, specials included: sentence-transformers' max_seq_length, else the
    /// position table's length.
    public let maxTokens: Int
    /// Labels of the sequence or token classifier, by id.
    public let labels: [String]

    init(_ r: WeightReader, architecture a: String, shape: EncoderShape, weights: EncoderWeights) throws(ModelError) {
        typealias K = MetadataKey
        self.shape = shape
        w = weights
        activation = try Activation(try r.string(K.hiddenActivation(a), default: "gelu"), key: K.hiddenActivation(a))
        heads = try EncoderHeads(r, a, shape, embedding: weights.embedding)
        let pool = try r.count(K.poolingType(a), in: 0...3, default: 0)
        pooling = Pooling(rawValue: pool) ?? .none
        normalize = try r.bool(K.sentenceNormalize(a), default: false)
        maxTokens = min(shape.positions, try r.count(K.sentenceMaxSeqLength(a), default: shape.positions))
        labels = try r.strings(K.classifierOutputLabels(a)) ?? []
    }

    public func hasHead(_ head: SequenceHead) -> Bool {
        heads.pooler != nil && {
            switch head {
            case .classifier: heads.classifier != nil
            case .nextSentence: heads.nextSentence != nil
            case .sentenceOrder: heads.sentenceOrder != nil
            }
        }()
    }

    public func hasHead(_ head: TokenHead) -> Bool {
        switch head {
        case .tokenClassifier: heads.tokenClassifier != nil
        case .span: heads.span != nil
        }
    }

    public var hasMaskedLM: Bool { heads.maskedLM != nil }

    var matrixTypes: Set<GGMLType> {
        Set(w.layers.flatMap { [$0.q.w.type, $0.k.w.type, $0.v.w.type, $0.o.w.type, $0.up.w.type, $0.down.w.type] }
            + (w.projection.map { [$0.w.type] } ?? []) + heads.matrices.map(\.type))
    }

    /// Hidden states of the packed sequences in b.x (rows `dim` apart): tokens[t] at position positions[t]; sequence
    /// i holds rows segments[2i]..<segments[2i + 1], none longer than `longest`. `eachLayer(i, x)` sees the
    /// embedding output (i = 0) and every step's.
    func forward(_ n: Int, sequences: Int, longest: Int, _ b: EncoderBuffers, pool: ThreadPool,
                 eachLayer: ((Int, UnsafePointer<Float>) -> Void)?) {
        let s = shape, e = s.embeddingWidth, dim = s.dim
        // Embeddings into xb (width E), normed into x, or ALBERT's projection of them into x.
        for t in 0..<n {
            let row = b.xb + t * e
            dequantizeRow(w.embedding.row(Int(b.tokens[t])), count: e, as: w.embedding.type, into: row)
            dequantizeRow(w.positions.row(Int(b.positions[t])), count: e, as: w.positions.type, into: b.out)
            add(b.out, into: row, e)
            if let types = w.tokenTypes {
                dequantizeRow(types.row(Int(b.types[t])), count: e, as: types.type, into: b.out)
                add(b.out, into: row, e)
            }
            w.embeddingNorm(row, into: w.projection == nil ? b.x + t * dim : row)
        }
        w.projection?(b.xb, rows: n, into: b.x, stride: dim, Compute(scratch: b.scratch, pool: pool))
        eachLayer?(0, b.x)
        for step in 0..<w.steps.count {
            for l in w.steps[step] { block(w.layers[l], n, sequences: sequences, longest: longest, b, pool: pool) }
            eachLayer?(step + 1, b.x)
        }
    }

    /// One post-LN block over n packed tokens: attention, then the feed-forward network.
    private func block(_ layer: EncoderWeights.Layer, _ n: Int, sequences: Int, longest: Int, _ b: EncoderBuffers,
                       pool: ThreadPool) {
        let dim = shape.dim, qkv = 3 * dim, c = Compute(scratch: b.scratch, pool: pool)
        project(b.x, rows: n, Projection(layer.q, into: b.qkv, stride: qkv), Projection(layer.k, into: b.qkv + dim, stride: qkv),
                Projection(layer.v, into: b.qkv + 2 * dim, stride: qkv), c)
        bidirectionalAttention(shape, sequences: sequences, longest: longest, b: b, pool: pool)
        residualNorm(layer.o, b.attn, rows: n, x: b.x, out: b.out, norm: layer.attnNorm, c)
        let ffn = FeedForward(up: layer.up, gate: nil, down: layer.down, activation: activation)
        residualNorm(layer.down, ffn.hidden(b.x, rows: n, b.ff, b.ff, c), rows: n, x: b.x, out: b.out, norm: layer.outputNorm, c)
    }
}

/// Pointers into an encoder session's arena for one pass over up to `rows` packed tokens.
struct EncoderBuffers {
    let tokens, types, positions: UnsafeMutablePointer<Int32>  // (rows) inputs
    let segments: UnsafeMutablePointer<Int32>  // (rows, 2) each sequence's first and past-the-end row
    let x: UnsafeMutablePointer<Float>         // (rows, dim) hidden states
    let xb: UnsafeMutablePointer<Float>        // (rows, E) embeddings before the norm
    let qkv: UnsafeMutablePointer<Float>       // (rows, 3·dim)
    let attn: UnsafeMutablePointer<Float>      // (rows, dim)
    let out: UnsafeMutablePointer<Float>       // (rows, max(dim, E)) block output before the residual
    let ff: UnsafeMutablePointer<Float>        // (rows, ff)
    let scores: UnsafeMutablePointer<Float>    // (threads, attendSequenceScratch) attention scratch
    let head: UnsafeMutablePointer<Float>      // (headRows, max(dim, E)) a head's hidden layer
    let logits: UnsafeMutablePointer<Float>    // (headRows, max(vocab, labels, 2))
    let scratch: UnsafeMutableRawPointer
}

/// Region sizes of EncoderBuffers, before the arena exists.
struct EncoderPlan {
    var arena = ArenaPlan()
    let tokens, types, positions, segments, x, xb, qkv, attn, out, ff, scores, head, logits, scratch: Int
    /// Rows a head computes at once (masked-LM logits are vocab wide).
    let headRows: Int
    let logitCols: Int

    init(_ s: EncoderShape, rows: Int, longest: Int, threads: Int, outputs: Int, matrixTypes: Set<GGMLType>) {
        var p = ArenaPlan()
        let wide = max(s.dim, s.embeddingWidth)
        tokens = p.reserve("ids", rows * 4)
        types = p.reserve("ids", rows * 4)
        positions = p.reserve("ids", rows * 4)
        segments = p.reserve("ids", rows * 8)
        x = p.floats("x", rows * s.dim)
        xb = p.floats("xb", rows * s.embeddingWidth)
        qkv = p.floats("qkv", rows * 3 * s.dim)
        attn = p.floats("attn", rows * s.dim)
        out = p.floats("out", rows * wide)
        ff = p.floats("ff", rows * s.ff)
        scores = p.floats("att", threads * attendSequenceScratch(rows: longest, headDim: s.headDim))
        headRows = min(rows, 32)
        logitCols = max(outputs, 2)
        head = p.floats("head", headRows * wide)
        logits = p.floats("logits", headRows * logitCols)
        var scratchBytes = 0
        for type in matrixTypes {
            for cols in [s.dim, s.embeddingWidth, s.ff] {
                scratchBytes = max(scratchBytes, matMulScratchBytes(type, cols: cols, tokens: rows, threads: threads))
            }
        }
        scratch = p.reserve("scratch", scratchBytes)
        arena = p
    }
}

/// Every head of every sequence attends over that sequence's rows, split over the pool by (sequence, head).
func bidirectionalAttention(_ s: EncoderShape, sequences: Int, longest: Int, b: EncoderBuffers, pool: ThreadPool) {
    let job = BidirectionalJob(s: s, sequences: sequences, scratch: attendSequenceScratch(rows: longest, headDim: s.headDim), b: b)
    withUnsafePointer(to: job) { pool.run(context: $0) { raw, thread, threads in
        raw.load(as: BidirectionalJob.self).run(thread: thread, threads: threads)
    } }
}

private struct BidirectionalJob {
    let s: EncoderShape
    let sequences, scratch: Int
    let b: EncoderBuffers

    func run(thread: Int, threads: Int) {
        let dim = s.dim, hd = s.headDim, stride = 3 * dim
        let scale = 1 / Float(hd).squareRoot()
        var item = thread
        while item < sequences * s.heads {
            let i = item / s.heads, h = item % s.heads
            let first = Int(b.segments[2 * i]), end = Int(b.segments[2 * i + 1])
            let q = b.qkv + first * stride + h * hd
            attendSequence(q: q, k: q + dim, v: q + 2 * dim, stride: stride, rows: end - first, headDim: hd, scale: scale,
                           scratch: b.scores + thread * scratch, out: b.attn + first * dim + h * hd, outStride: dim)
            item += threads
        }
    }
}
