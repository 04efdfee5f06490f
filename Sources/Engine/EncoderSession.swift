// An encoder session: an arena planned for one pass over a fixed number of packed tokens, checked against the
// memory limit and allocated once. Each run packs whole sequences into it (attention never crosses from one to
// another, so a batch gives what one text at a time gives); the heads and pooling then read the hidden states.

import Kernels
#if canImport(Glibc)
import Glibc
#endif

/// One sequence: token ids and their token types (empty: all type 0).
public struct EncoderInput: Sendable {
    public var ids: [Int32]
    public var typeIds: [Int32]
    public init(ids: [Int32], typeIds: [Int32] = []) {
        self.ids = ids
        self.typeIds = typeIds
    }
}

public struct EncoderOptions: Sendable {
    /// Threads of the session's pool; 0: every online core.
    public var threads = 0
    /// Tokens per pass, packed from several sequences; 0: the model's longest input, at least 512.
    public var tokens = 0
    /// Refuse to create a session whose arena is larger; nil: the machine's physical memory.
    public var memoryLimit: Int?
    public init() {}
}

/// The heads on the pooled first token.
public enum SequenceHead: Sendable {
    case classifier, nextSentence, sentenceOrder
}

/// The heads on every token.
public enum TokenHead: Sendable {
    case tokenClassifier, span
}

public final class EncoderSession {
    public let model: Model
    public let encoder: Encoder
    /// Tokens one pass holds; no sequence can be longer than `encoder.shape.positions`.
    public let tokensPerPass: Int
    public let threads: Int
    public let plan: ArenaPlan
    private let arena: Arena
    private let layout: EncoderPlan
    private let b: EncoderBuffers
    private let pool: ThreadPool
    /// The rows of each sequence of the last run.
    public private(set) var sequences: [Range<Int>] = []

    public init(_ model: Model, _ options: EncoderOptions = EncoderOptions()) throws(ModelError) {
        guard let encoder = model.encoder else {
            throw .unsupported("'\(model.architecture)' in an encoder session (it is \(model.kind): use generate)")
        }
        let s = encoder.shape
        let rows = options.tokens > 0 ? options.tokens : max(512, s.positions)
        guard rows >= s.positions else {
            throw .invalidInput("\(rows) tokens per pass cannot hold one sequence of the model's \(s.positions) positions")
        }
        let threads = sessionThreads(options.threads)
        let h = encoder.heads
        let outputs = max(h.maskedLM == nil ? 0 : s.vocab, h.classifier?.w.rows ?? 0, h.tokenClassifier?.w.rows ?? 0)
        let p = EncoderPlan(s, rows: rows, longest: s.positions, threads: threads, outputs: outputs,
                            matrixTypes: encoder.matrixTypes)
        try checkMemory(p.arena, limit: options.memoryLimit, advice: "use fewer tokens per pass")
        arena = try Arena(p.arena)
        let a = arena.base
        func f(_ offset: Int) -> UnsafeMutablePointer<Float> { (a + offset).assumingMemoryBound(to: Float.self) }
        func i(_ offset: Int) -> UnsafeMutablePointer<Int32> { (a + offset).assumingMemoryBound(to: Int32.self) }
        b = EncoderBuffers(tokens: i(p.tokens), types: i(p.types), positions: i(p.positions), segments: i(p.segments),
                           x: f(p.x), xb: f(p.xb), qkv: f(p.qkv), attn: f(p.attn), out: f(p.out), ff: f(p.ff),
                           scores: f(p.scores), head: f(p.head), logits: f(p.logits), scratch: a + p.scratch)
        pool = try startPool(threads: threads)
        layout = p
        plan = p.arena
        self.model = model
        self.encoder = encoder
        self.threads = threads
        tokensPerPass = rows
    }

    /// "memory: arena 6.1 MiB (ff 3.0 MiB, qkv 2.3 MiB, att ...)".
    public var memorySummary: String { "memory: arena \(plan.summary()) for \(tokensPerPass) tokens per pass" }

    /// Checks one sequence: ids in the vocabulary, types in the type table, no longer than the positions.
    public func check(_ input: EncoderInput) throws(ModelError) {
        let s = encoder.shape
        guard !input.ids.isEmpty else { throw .invalidInput("an encoder input with no tokens") }
        guard input.ids.count <= s.positions else {
            throw .invalidInput("\(input.ids.count) tokens, more than the model's \(s.positions) positions")
        }
        try checkTokenIDs(input.ids, vocab: s.vocab)
        guard input.typeIds.isEmpty || input.typeIds.count == input.ids.count else {
            throw .invalidInput("\(input.typeIds.count) token types for \(input.ids.count) tokens")
        }
        for (i, t) in input.typeIds.enumerated() where t < 0 || Int(t) >= s.tokenTypes {
            throw .invalidInput("token type \(t) at index \(i): the model has \(s.tokenTypes) token type(s)")
        }
    }

    /// Runs the body over `inputs`, packed into one pass (at most tokensPerPass tokens in all). Hidden states
    /// stay until the next run; `eachLayer(i, rows)` sees the embedding output (i = 0) and each layer's.
    public func run(_ inputs: [EncoderInput], eachLayer: ((Int, UnsafeBufferPointer<Float>) -> Void)? = nil)
        throws(ModelError) {
        var n = 0
        for input in inputs {
            try check(input)
            n += input.ids.count
        }
        guard n <= tokensPerPass else {
            throw .invalidInput("\(n) tokens do not fit in one pass of \(tokensPerPass)")
        }
        guard n > 0 else { throw .invalidInput("nothing to encode: no sequences") }
        sequences.removeAll(keepingCapacity: true)
        var row = 0, longest = 0
        for (i, input) in inputs.enumerated() {
            let count = input.ids.count
            for j in 0..<count {
                b.tokens[row + j] = input.ids[j]
                b.types[row + j] = input.typeIds.isEmpty ? 0 : input.typeIds[j]
                b.positions[row + j] = Int32(j)
            }
            b.segments[2 * i] = Int32(row)
            b.segments[2 * i + 1] = Int32(row + count)
            sequences.append(row..<row + count)
            row += count
            longest = max(longest, count)
        }
        let dim = encoder.shape.dim
        encoder.forward(n, sequences: inputs.count, longest: longest, b, pool: pool, eachLayer: eachLayer.map { hook in
            { i, x in hook(i, UnsafeBufferPointer(start: x, count: n * dim)) }
        })
    }

    /// The final hidden states of sequence `s` of the last run: (tokens, dim), row-major.
    public func hidden(_ s: Int) -> UnsafeBufferPointer<Float> {
        let dim = encoder.shape.dim, rows = sequences[s]
        return UnsafeBufferPointer(start: b.x + rows.lowerBound * dim, count: rows.count * dim)
    }

    /// Sequence `s`'s vector: its hidden states pooled (mean over every token, the first, or the last), then
    /// optionally scaled to unit length (as sentence-transformers' Normalize: x / max(‖x‖, 1e-12)).
    public func embedding(_ s: Int, pooling: Pooling, normalize: Bool) -> [Float] {
        let dim = encoder.shape.dim, rows = sequences[s]
        var v = [Float](repeating: 0, count: dim)
        switch pooling {
        case .mean, .none:
            for r in rows { for i in 0..<dim { v[i] += b.x[r * dim + i] } }
            let scale = 1 / Float(rows.count)
            for i in 0..<dim { v[i] *= scale }
        case .cls:
            for i in 0..<dim { v[i] = b.x[rows.lowerBound * dim + i] }
        case .last:
            for i in 0..<dim { v[i] = b.x[(rows.upperBound - 1) * dim + i] }
        }
        if normalize {
            var sum: Float = 0
            for x in v { sum += x * x }
            let scale = 1 / max(sum.squareRoot(), 1e-12)
            for i in 0..<dim { v[i] *= scale }
        }
        return v
    }

    /// The logits of a head on sequence `s`'s pooled first token: the classifier's labels, or [is next, is random]
    /// (BERT's next-sentence head), or ALBERT's sentence-order pair.
    public func sequenceLogits(_ s: Int, _ head: SequenceHead) throws(ModelError) -> [Float] {
        let h = encoder.heads, dim = encoder.shape.dim
        let linear: Linear?, name: String
        switch head {
        case .classifier: (linear, name) = (h.classifier, "sequence classification")
        case .nextSentence: (linear, name) = (h.nextSentence, "next-sentence prediction")
        case .sentenceOrder: (linear, name) = (h.sentenceOrder, "sentence-order prediction")
        }
        guard let linear, let pooler = h.pooler else { throw .unsupported("\(name): this model has no such head") }
        apply(pooler, b.x + sequences[s].lowerBound * dim, rows: 1, into: b.head, stride: dim)
        h.poolerActivation.apply(b.head, dim)
        apply(linear, b.head, rows: 1, into: b.logits, stride: layout.logitCols)
        return Array(UnsafeBufferPointer(start: b.logits, count: linear.w.rows))
    }

    /// A head's outputs for every token of sequence `s`: (tokens, labels) for the token classifier, (tokens, 2)
    /// start and end logits for question answering; row-major.
    public func tokenLogits(_ s: Int, _ head: TokenHead) throws(ModelError) -> [Float] {
        let h = encoder.heads, dim = encoder.shape.dim, rows = sequences[s]
        let linear: Linear?, name: String
        switch head {
        case .tokenClassifier: (linear, name) = (h.tokenClassifier, "token classification")
        case .span: (linear, name) = (h.span, "question answering")
        }
        guard let linear else { throw .unsupported("\(name): this model has no such head") }
        let cols = linear.w.rows
        var out: [Float] = []
        out.reserveCapacity(rows.count * cols)
        var r = rows.lowerBound
        while r < rows.upperBound {
            let k = min(layout.headRows, rows.upperBound - r)
            apply(linear, b.x + r * dim, rows: k, into: b.logits, stride: layout.logitCols)
            for t in 0..<k { out += UnsafeBufferPointer(start: b.logits + t * layout.logitCols, count: cols) }
            r += k
        }
        return out
    }

    /// Masked-LM logits (vocab wide) at the given token indices of sequence `s`, handed to `each(index, logits)`.
    public func maskedLM(_ s: Int, at indices: [Int], each: (Int, UnsafeBufferPointer<Float>) -> Void) throws(ModelError) {
        guard let m = encoder.heads.maskedLM else { throw .unsupported("fill-mask: this model has no masked-LM head") }
        let dim = encoder.shape.dim, e = encoder.shape.embeddingWidth, vocab = encoder.shape.vocab
        let rows = sequences[s]
        for i in indices where !rows.indices.contains(i) {
            throw .invalidInput("token index \(i) is outside the sequence of \(rows.count)")
        }
        var done = 0
        while done < indices.count {
            let k = min(layout.headRows, indices.count - done)
            // Gather the rows (attn is free after the pass), then dense, activation, norm, decoder.
            for j in 0..<k { (b.attn + j * dim).update(from: b.x + (rows.lowerBound + indices[done + j]) * dim, count: dim) }
            apply(m.dense, b.attn, rows: k, into: b.head, stride: e)
            encoder.activation.apply(b.head, k * e)
            for j in 0..<k {
                m.norm(b.head + j * e, into: b.head + j * e)
            }
            matMul(m.decoder, b.head, tokens: k, into: b.logits, yStride: layout.logitCols, scratch: b.scratch, pool: pool)
            for j in 0..<k {
                let row = b.logits + j * layout.logitCols
                add(m.bias, into: row, vocab)
                each(indices[done + j], UnsafeBufferPointer(start: row, count: vocab))
            }
            done += k
        }
    }

    /// y = x·Wᵀ + b for `rows` rows of x, `stride` apart in y.
    private func apply(_ l: Linear, _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, stride: Int) {
        matMul(l.w, x, tokens: rows, into: y, yStride: stride, scratch: b.scratch, pool: pool)
        addBias(l.b, to: y, rows: rows, cols: l.w.rows, stride: stride)
    }
}
