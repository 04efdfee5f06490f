// What every causal decoder shares: its sizes, the DecoderNet protocol the families conform to, the buffers and
// KV cache planned from them, and the pre-norm block (attention with RoPE, the cache and causal, optionally windowed
// attention; then the feed-forward network) that Llama, GPT-2 and CTRL are built from. The families
// (Models/Llama.swift, GPT2.swift, CTRL.swift, XLNet.swift) hold their weights and forward passes.

import Kernels
import Quant

/// The sizes a session plans its arena from.
public struct DecoderShape: Sendable {
    public let dim, layers, heads, kvHeads, headDim, ff, vocab: Int
    /// The context the model was trained with; learned position tables end there.
    public let trainContext: Int
    /// Rotary dimensions per head (0: no RoPE).
    public let ropeDims: Int
    /// RoPE's base frequency and position scale (linear scaling: 1/factor).
    public var ropeBase: Float = 10000, ropeScale: Float = 1
    /// Learned absolute positions cannot go past trainContext.
    public let learnedPositions: Bool
    /// Mixture of experts: `experts` feed-forward networks per layer, `expertsUsed` of them per token (0: dense).
    public var experts = 0, expertsUsed = 0
    /// Sliding-window attention: a position attends to itself and the window − 1 before it (nil: to all).
    public var window: Int?
    /// Recomputes the whole context at every step (XLNet's bidirectional content stream): no KV cache, one pass
    /// as wide as the context.
    public var recomputes = false

    public var qDim: Int { heads * headDim }
    public var kvDim: Int { kvHeads * headDim }
    /// One row of the fused q, k, v projections.
    var qkvDim: Int { qDim + 2 * kvDim }
}

/// What a Session runs: a causal decoder family's sizes and forward pass (Models/Llama.swift, GPT2.swift, ...), as
/// EncoderDecoderNet is for Seq2SeqSession. A family's own buffers (a mixture's routing, XLNet's relative positions)
/// are regions it reserves in the session's arena, not fields of the shared ones.
protocol DecoderNet: AnyObject, Sendable {
    var shape: DecoderShape { get }
    var matrixTypes: Set<GGMLType> { get }
    /// Reserves the family's own regions after the shared ones and returns their offsets, in the family's order
    /// (DecoderState.own hands them back).
    func reserveBuffers(_ p: inout ArenaPlan, batch: Int, context: Int, threads: Int) -> [Int]
    /// The most activation rows one matrix product takes: the batch, unless the family multiplies more.
    func productRows(batch: Int, context: Int) -> Int
    /// Evaluates `tokens` at positions start..<start+n, writing K and V into the cache, and the logits of batch
    /// rows `logitRows` into st.buffers.logits (one row of vocab each).
    func forward(_ tokens: UnsafeBufferPointer<Int32>, start: Int, logitRows: Range<Int>, _ st: DecoderState)
}

extension DecoderNet {
    func reserveBuffers(_ p: inout ArenaPlan, batch: Int, context: Int, threads: Int) -> [Int] { [] }
    func productRows(batch: Int, context: Int) -> Int { batch }
}

/// Pointers into the arena for one forward pass over up to `batch` tokens.
struct DecoderBuffers {
    let x: UnsafeMutablePointer<Float>        // (batch, dim) residual stream
    let xb: UnsafeMutablePointer<Float>       // (batch, dim) normed input of a block
    let qkv: UnsafeMutablePointer<Float>      // (batch, qDim + 2·kvDim) projections
    let attn: UnsafeMutablePointer<Float>     // (batch, qDim) attention output
    let out: UnsafeMutablePointer<Float>      // (batch, dim) block output before the residual add
    let hb, hb2: UnsafeMutablePointer<Float>  // (batch, ff) feed-forward hidden
    let scores: UnsafeMutablePointer<Float>   // (threads, context) attention scores
    let cos, sin: UnsafeMutablePointer<Float> // (batch, ropeDims/2) RoPE tables
    let logits: UnsafeMutablePointer<Float>   // (logitRows, vocab)
    let scratch: UnsafeMutableRawPointer      // quantized activations of the matrix products
}

/// Offsets of DecoderBuffers' regions and the cache, before the arena exists.
struct DecoderPlan {
    var arena = ArenaPlan()
    let x, xb, qkv, attn, out, hb, hb2, scores, cos, sin, logits, scratch: Int
    let own: [Int]              // the family's regions
    let keys, values: [Int]     // per layer
    let kvBytes: Int

    /// Cache rows: `context`, or with `cacheRows` fewer (a ring, for sliding-window models).
    init(_ net: any DecoderNet, batch: Int, logitRows: Int, context: Int, cacheRows: Int, threads: Int, halfCache: Bool) {
        let s = net.shape
        var p = ArenaPlan()
        x = p.floats("x", batch * s.dim)
        xb = p.floats("xb", batch * s.dim)
        qkv = p.floats("qkv", batch * s.qkvDim)
        attn = p.floats("attn", batch * s.qDim)
        out = p.floats("out", batch * s.dim)
        hb = p.floats("hb", batch * s.ff)
        hb2 = p.floats("hb2", batch * s.ff)
        scores = p.floats("att", threads * context)
        cos = p.floats("cos", batch * max(1, s.ropeDims / 2))
        sin = p.floats("sin", batch * max(1, s.ropeDims / 2))
        logits = p.floats("logits", logitRows * s.vocab)
        scratch = p.reserve("scratch", matMulScratchBytes(net.matrixTypes, widths: [s.dim, s.qDim, s.ff],
                                                          rows: net.productRows(batch: batch, context: context),
                                                          threads: threads))
        own = net.reserveBuffers(&p, batch: batch, context: context, threads: threads)
        let rowBytes = s.recomputes ? 0 : s.kvDim * (halfCache ? 2 : 4)
        var k: [Int] = [], v: [Int] = []
        for _ in 0..<s.layers {
            k.append(p.reserve("kv", cacheRows * rowBytes))
            v.append(p.reserve("kv", cacheRows * rowBytes))
        }
        keys = k
        values = v
        kvBytes = 2 * s.layers * cacheRows * rowBytes
        arena = p
    }
}

/// Keys and values of every layer, rows placed as `layout` says.
struct KVCache {
    let keys: [CacheRows], values: [CacheRows]
    let layout: CacheLayout
}

/// Where positions live in a KV cache of `rows` rows: position p in row p, or in a ring (a sliding-window model
/// whose context is longer than its window plus a batch) in row p mod rows. A ring of window + batch − 1 rows
/// holds, while a batch is written, every position its queries still attend to.
struct CacheLayout {
    let rows: Int
    let ring: Bool

    @inline(__always) func row(_ position: Int) -> Int { ring ? position % rows : position }

    /// The rows of positions first..<end (end − first ≤ rows): one range, or two where the ring wraps.
    func rows(_ first: Int, _ end: Int) -> (Range<Int>, Range<Int>) {
        guard ring else { return (first..<end, 0..<0) }
        let a = first % rows, n = end - first
        return a + n <= rows ? (a..<a + n, 0..<0) : (a..<rows, 0..<a + n - rows)
    }
}

/// What a forward pass works in: the session's buffers, cache and pool.
struct DecoderState {
    let shape: DecoderShape
    let buffers: DecoderBuffers
    let cache: KVCache
    let pool: ThreadPool
    let context: Int
    /// Every token of the context, the ones being evaluated included.
    let history: UnsafeMutablePointer<Int32>
    /// Whether logits of every evaluated position are kept (else only the last).
    let allLogits: Bool
    /// The arena and the family's own regions in it (DecoderNet.reserveBuffers' offsets).
    let arena: UnsafeMutableRawPointer
    let own: [Int]

    var compute: Compute { Compute(scratch: buffers.scratch, pool: pool) }

    /// The family's region i as floats.
    func own(_ i: Int) -> UnsafeMutablePointer<Float> { (arena + own[i]).assumingMemoryBound(to: Float.self) }
}

/// Causal attention for `n` query rows at positions start..<start+n, every head, split over the pool:
/// query row t attends cache rows 0...start+t (with a sliding window, the last `window` of them). GQA: query head h reads KV head h / (heads / kvHeads).
func causalAttention(_ s: DecoderShape, layer: Int, n: Int, start: Int, cache: KVCache, b: DecoderBuffers,
                     context: Int, pool: ThreadPool) {
    let job = AttentionJob(s: s, n: n, start: start, context: context, keys: cache.keys[layer],
                           values: cache.values[layer], cache: cache.layout, b: b)
    // A capture-free job on the stack: a closure handed to the pool would be boxed (a malloc per call).
    withUnsafePointer(to: job) { pool.run(context: $0) { raw, thread, threads in
        raw.load(as: AttentionJob.self).run(thread: thread, threads: threads)
    } }
}

/// What every thread of causalAttention needs; plain values only, so loading it copies no references.
private struct AttentionJob {
    let s: DecoderShape
    let n, start, context: Int
    let keys, values: CacheRows
    let cache: CacheLayout
    let b: DecoderBuffers

    func run(thread: Int, threads: Int) {
        let scale = 1 / Float(s.headDim).squareRoot()
        let group = s.heads / s.kvHeads
        let scores = b.scores + thread * context
        var item = thread
        while item < n * s.heads {
            let t = item / s.heads, h = item % s.heads
            let end = start + t + 1, first = s.window.map { max(0, end - $0) } ?? 0
            let (rows, wrapped) = cache.rows(first, end)
            attendHead(b.qkv + t * s.qkvDim + h * s.headDim, keys: keys, values: values, rows: rows, then: wrapped,
                       offset: (h / group) * s.headDim, headDim: s.headDim, scale: scale, scores: scores,
                       into: b.attn + t * s.qDim + h * s.headDim)
            item += threads
        }
    }
}

/// Writes the k and v parts of `n` projection rows into the cache at positions start..<start+n.
func storeKV(_ s: DecoderShape, layer: Int, n: Int, start: Int, cache: KVCache, b: DecoderBuffers) {
    for t in 0..<n {
        let row = b.qkv + t * s.qkvDim
        cache.keys[layer].store(row + s.qDim, row: cache.layout.row(start + t), s.kvDim)
        cache.values[layer].store(row + s.qDim + s.kvDim, row: cache.layout.row(start + t), s.kvDim)
    }
}

/// The RoPE tables of positions start..<start+n into b.cos, b.sin (nothing without RoPE).
func fillRopeTables(start: Int, n: Int, _ s: DecoderShape, _ b: DecoderBuffers) {
    guard s.ropeDims > 0 else { return }
    let half = s.ropeDims / 2
    for t in 0..<n {
        ropeTable(position: start + t, dims: s.ropeDims, base: s.ropeBase, scale: s.ropeScale,
                  cos: b.cos + t * half, sin: b.sin + t * half)
    }
}

/// A decoder layer's self-attention: q, k, v (separate, or one fused matrix as GPT-2's), RoPE when the shape has
/// it, the cache, causal attention (windowed when the shape says), the output projection.
struct SelfAttention: @unchecked Sendable {
    enum QKV {
        case separate(q: Linear, k: Linear, v: Linear)
        case fused(Linear)                       // (qDim + 2·kvDim, dim)
    }
    let qkv: QKV
    let o: Linear                                // (dim, qDim)

    var matrixTypes: [GGMLType] {
        switch qkv {
        case let .separate(q, k, v): [q.w.type, k.w.type, v.w.type, o.w.type]
        case let .fused(m): [m.w.type, o.w.type]
        }
    }

    /// b.out = attention over n normed rows of `x` at positions start..<start+n (layer l's cache).
    func callAsFunction(_ x: UnsafePointer<Float>, layer l: Int, n: Int, start: Int, _ st: DecoderState) {
        let s = st.shape, b = st.buffers, c = st.compute, stride = s.qkvDim
        switch qkv {
        case let .separate(q, k, v):
            project(x, rows: n, Projection(q, into: b.qkv, stride: stride), Projection(k, into: b.qkv + s.qDim, stride: stride),
                    Projection(v, into: b.qkv + s.qDim + s.kvDim, stride: stride), c)
        case let .fused(m):
            m(x, rows: n, into: b.qkv, stride: stride, c)
        }
        if s.ropeDims > 0 {
            let half = s.ropeDims / 2
            for t in 0..<n {
                let row = b.qkv + t * stride, cos = b.cos + t * half, sin = b.sin + t * half
                rope(row, heads: s.heads, headDim: s.headDim, dims: s.ropeDims, cos: cos, sin: sin)
                rope(row + s.qDim, heads: s.kvHeads, headDim: s.headDim, dims: s.ropeDims, cos: cos, sin: sin)
            }
        }
        storeKV(s, layer: l, n: n, start: start, cache: st.cache, b: b)
        causalAttention(s, layer: l, n: n, start: start, cache: st.cache, b: b, context: st.context, pool: st.pool)
        o(b.attn, rows: n, into: b.out, stride: s.dim, c)
    }
}

/// A pre-norm decoder layer (llama.cpp's usual block): x += attention(norm(x)); x += ffn(norm(x)).
struct PreNormLayer: @unchecked Sendable {
    let attnNorm: Norm
    let attention: SelfAttention
    let ffnNorm: Norm
    let ffn: FeedForward

    var matrixTypes: [GGMLType] { attention.matrixTypes + [ffn.up.w.type, ffn.down.w.type] + (ffn.gate.map { [$0.w.type] } ?? []) }

    /// The attention half: x += attention(attnNorm(x)).
    func attend(layer l: Int, n: Int, start: Int, _ st: DecoderState) {
        let b = st.buffers, dim = st.shape.dim
        attnNorm(b.x, rows: n, into: b.xb)
        attention(b.xb, layer: l, n: n, start: start, st)
        add(b.out, into: b.x, n * dim)
    }

    /// Both halves.
    func callAsFunction(layer l: Int, n: Int, start: Int, _ st: DecoderState) {
        let b = st.buffers, dim = st.shape.dim
        attend(layer: l, n: n, start: start, st)
        ffnNorm(b.x, rows: n, into: b.xb)
        ffn(b.xb, rows: n, b.hb, b.hb2, into: b.out, stride: dim, st.compute)
        add(b.out, into: b.x, n * dim)
    }
}

/// The logits of batch rows `logitRows`: the final norm, then the head (+ its bias) into b.logits.
func logitsHead(norm: Norm, output: Linear, logitRows: Range<Int>, _ st: DecoderState) {
    let b = st.buffers, s = st.shape
    norm(b.x, rows: logitRows, into: b.xb)
    output(b.xb + logitRows.lowerBound * s.dim, rows: logitRows.count, into: b.logits, stride: s.vocab, st.compute)
}
