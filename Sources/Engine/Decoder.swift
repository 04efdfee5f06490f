// What every causal decoder shares: its sizes, the buffers and KV cache planned from them, and the
// batched causal attention step. The families (Models/Llama.swift, Models/GPT2.swift) hold their weights
// and forward passes.

import Kernels
import Quant

/// The sizes a session plans its arena from.
public struct DecoderShape: Sendable {
    public let dim, layers, heads, kvHeads, headDim, ff, vocab: Int
    /// The context the model was trained with; learned position tables end there.
    public let trainContext: Int
    /// Rotary dimensions per head (0: no RoPE).
    public let ropeDims: Int
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
    let moe: ExpertBuffers                    // empty for dense models
    let xlnet: RelativeBuffers                // empty unless the model recomputes (XLNet)
}

/// XLNet's relative positions and query stream.
struct RelativeBuffers {
    let positions: UnsafeMutablePointer<Float>    // (2·context, dim) sinusoids of the distances
    let relative: UnsafeMutablePointer<Float>     // (2·context, qDim) their keys
    let g: UnsafeMutablePointer<Float>            // (dim) the query stream
    let gq, gAttn: UnsafeMutablePointer<Float>    // (qDim) its query and attention output
    let queryScratch: UnsafeMutablePointer<Float> // (threads, 2·qDim) a query plus each bias
}

/// What routing tokens to experts works in (MoE models; every region empty otherwise).
struct ExpertBuffers {
    let router: UnsafeMutablePointer<Float>   // (batch, experts) router logits, then probabilities
    let gathered: UnsafeMutablePointer<Float> // (batch, dim) the normed rows routed to one expert
    let output: UnsafeMutablePointer<Float>   // (batch, dim) that expert's outputs
    let chosen: UnsafeMutablePointer<Int32>   // (batch, expertsUsed) each token's experts
    let weights: UnsafeMutablePointer<Float>  // (batch, expertsUsed) and their renormalised weights
}

/// Offsets of DecoderBuffers' regions, before the arena exists.
struct DecoderPlan {
    var arena = ArenaPlan()
    let x, xb, qkv, attn, out, hb, hb2, scores, cos, sin, logits, scratch: Int
    let router, gathered, expertOutput, chosen, weights: Int
    let positions, relative, g, gq, gAttn, queryScratch: Int
    let keys, values: [Int]     // per layer
    let kvBytes: Int

    /// Cache rows: `context`, or with `cacheRows` fewer (a ring, for sliding-window models).
    init(_ s: DecoderShape, batch: Int, logitRows: Int, context: Int, cacheRows: Int, threads: Int, halfCache: Bool,
         matrixTypes: Set<GGMLType>) {
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
        var scratchBytes = 0
        // XLNet also multiplies the 2·context rows of its relative positions.
        let rows = s.recomputes ? 2 * context : batch
        for type in matrixTypes {
            for cols in [s.dim, s.qDim, s.ff] {
                scratchBytes = max(scratchBytes, matMulScratchBytes(type, cols: cols, tokens: rows, threads: threads))
            }
        }
        scratch = p.reserve("scratch", scratchBytes)
        let moe = s.experts > 0
        router = p.floats("moe", moe ? batch * s.experts : 0)
        gathered = p.floats("moe", moe ? batch * s.dim : 0)
        expertOutput = p.floats("moe", moe ? batch * s.dim : 0)
        chosen = p.reserve("moe", moe ? batch * s.expertsUsed * 4 : 0)
        weights = p.floats("moe", moe ? batch * s.expertsUsed : 0)
        let r = s.recomputes
        positions = p.floats("relative", r ? 2 * context * s.dim : 0)
        relative = p.floats("relative", r ? 2 * context * s.qDim : 0)
        g = p.floats("query", r ? s.dim : 0)
        gq = p.floats("query", r ? s.qDim : 0)
        gAttn = p.floats("query", r ? s.qDim : 0)
        queryScratch = p.floats("query", r ? threads * 2 * s.qDim : 0)
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
    let buffers: DecoderBuffers
    let cache: KVCache
    let pool: ThreadPool
    let context: Int
    /// Every token of the context, the ones being evaluated included.
    let history: UnsafeMutablePointer<Int32>
    /// Whether logits of every evaluated position are kept (else only the last).
    let allLogits: Bool
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

/// x[t] = the embedding row of tokens[t], dequantized.
func embed(_ tokens: UnsafeBufferPointer<Int32>, _ table: Matrix, into x: UnsafeMutablePointer<Float>) {
    for t in 0..<tokens.count {  // index loops: enumerated() allocates an iterator box in debug builds
        dequantizeRow(table.row(Int(tokens[t])), count: table.cols, as: table.type, into: x + t * table.cols)
    }
}

/// y[t] += bias for n rows of `cols`, rows `stride` apart.
func addBias(_ bias: UnsafePointer<Float>?, to y: UnsafeMutablePointer<Float>, rows n: Int, cols: Int, stride: Int) {
    guard let bias else { return }
    for t in 0..<n { add(bias, into: y + t * stride, cols) }
}
