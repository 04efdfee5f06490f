// A session: one context of a model. Its arena (activations, scratch, logits, KV cache) is planned from the
// model's sizes and the context length, checked against the memory limit, and allocated once at creation.
// Evaluation appends tokens to what the cache holds; a shared prefix is reused, a full context can shift.

import Kernels
#if canImport(Glibc)
import Glibc
#endif

public struct SessionOptions: Sendable {
    /// Context length in tokens; 0: the model's own (its training context).
    public var context = 0
    /// KV cache in half precision (llama.cpp's default f16) or float32.
    public var halfCache = true
    /// Threads of the session's pool; 0: every online core.
    public var threads = 0
    /// Tokens per forward pass when evaluating a prompt (llama.cpp's n_ubatch).
    public var batch = 512
    /// Keep the logits of every evaluated position (logits, perplexity), not only the last.
    public var allLogits = false
    /// Refuse to create a session whose arena is larger; nil: the machine's physical memory.
    public var memoryLimit: Int?
    public init() {}
}

public final class Session {
    public let model: Model
    private let net: any DecoderNet
    public let shape: DecoderShape
    public let context: Int, batch: Int, threads: Int
    public let plan: ArenaPlan
    public let kvBytes: Int
    let allLogits: Bool
    private let arena: Arena
    private let state: DecoderState
    private let held: UnsafeMutablePointer<Int32>  // (context) the tokens whose K and V the cache holds
    public private(set) var count = 0

    public init(_ model: Model, _ options: SessionOptions = SessionOptions()) throws(ModelError) {
        guard let net = model.decoder else {
            if model.encoder == nil {
                throw .unsupported("'\(model.architecture)' in a decoder session (it is an encoder-decoder: use generate, "
                    + "logits --decoder-ids or bench; from Swift, a Seq2SeqSession)")
            }
            throw .unsupported("'\(model.architecture)' in a generation session (it is an encoder: use embed, fill-mask, "
                + "classify, ner, qa, nsp or logits)")
        }
        let s = net.shape
        let context = options.context == 0 ? s.trainContext : options.context
        guard context >= 1 else { throw .invalidInput("context \(context) must be at least 1") }
        if s.learnedPositions, context > s.trainContext {
            throw .invalidInput("context \(context) is longer than the \(s.trainContext) positions this model has learned")
        }
        guard options.batch >= 1 else { throw .invalidInput("batch \(options.batch) must be at least 1") }
        let threads = sessionThreads(options.threads)
        let batch = s.recomputes ? context : min(options.batch, context)
        // A sliding window over a longer context: the cache is a ring of the rows the window can still reach.
        let ringRows = s.window.map { $0 + batch - 1 } ?? context
        let layout = CacheLayout(rows: min(ringRows, context), ring: ringRows < context)
        let p = DecoderPlan(net, batch: batch, logitRows: options.allLogits ? batch : 1, context: context,
                            cacheRows: layout.rows, threads: threads, halfCache: options.halfCache)
        try checkMemory(p.arena, limit: options.memoryLimit, detail: "kv \(formatBytes(p.kvBytes))", advice: "use a shorter context")
        arena = try Arena(p.arena)
        let a = arena.base
        func f(_ offset: Int) -> UnsafeMutablePointer<Float> { (a + offset).assumingMemoryBound(to: Float.self) }
        let buffers = DecoderBuffers(x: f(p.x), xb: f(p.xb), qkv: f(p.qkv), attn: f(p.attn), out: f(p.out),
                                     hb: f(p.hb), hb2: f(p.hb2), scores: f(p.scores), cos: f(p.cos), sin: f(p.sin),
                                     logits: f(p.logits), scratch: a + p.scratch)
        let cache = KVCache(keys: p.keys.map { CacheRows(a + $0, half: options.halfCache, stride: s.kvDim) },
                            values: p.values.map { CacheRows(a + $0, half: options.halfCache, stride: s.kvDim) },
                            layout: layout)
        held = .allocate(capacity: context)
        state = DecoderState(shape: s, buffers: buffers, cache: cache, pool: try startPool(threads: threads), context: context,
                             history: held, allLogits: options.allLogits, arena: a, own: p.own)
        self.model = model
        self.net = net
        shape = s
        self.context = context
        self.batch = batch
        self.threads = threads
        plan = p.arena
        kvBytes = p.kvBytes
        allLogits = options.allLogits
    }

    deinit { held.deallocate() }

    var cache: KVCache { state.cache }

    /// The tokens the cache holds, in order.
    public var tokens: UnsafeBufferPointer<Int32> { UnsafeBufferPointer(start: held, count: count) }

    /// "memory: kv 22.5 MiB (30 layers × 1024 × 192 × K,V × f16) · arena 4.2 MiB (logits 192.0 KiB, ...)".
    public var memorySummary: String {
        let s = shape
        let type = state.cache.keys.first?.half ?? true ? "f16" : "f32", layout = state.cache.layout
        let rows = layout.ring ? "a ring of \(layout.rows) for the sliding window" : "\(context)"
        return "memory: kv \(formatBytes(kvBytes)) (\(s.layers) layers × \(rows) × \(s.kvDim) × K,V × \(type)) · "
            + "arena \(plan.summary(excluding: ["kv"]))"
    }

    /// Arena bytes besides the KV cache.
    public var arenaBytes: Int { plan.bytes - kvBytes }

    /// Forgets the context.
    public func reset() { count = 0 }

    /// Keeps the first n tokens of the context, forgetting the rest.
    public func truncate(to n: Int) { count = min(count, max(0, n)) }

    /// Truncates the context to its longest common prefix with `ids`, leaving at least the last id to be
    /// evaluated (its logits are needed); returns how many of `ids` the cache already holds.
    @discardableResult
    public func reusePrefix(of ids: UnsafeBufferPointer<Int32>) -> Int {
        var n = 0
        while n < count, n < ids.count - 1, held[n] == ids[n] { n += 1 }
        // A ring no longer holds positions before count − rows: evaluating from n needs n's window still there.
        let layout = state.cache.layout
        if layout.ring, let w = shape.window, max(0, n - w + 1) < count - layout.rows { n = 0 }
        count = n
        return n
    }

    /// llama.cpp's context shift: drops half of the tokens after the first `keep`, moving the rest down and
    /// re-rotating their cached keys to their new positions. Returns how many were dropped: none with a ring
    /// cache, whose memory does not grow with the context (give it a longer one instead).
    @discardableResult
    public func shift(keep: Int) -> Int {
        let keep = min(max(0, keep), count)
        let discard = (count - keep) / 2
        guard discard > 0, !state.cache.layout.ring else { return 0 }
        let s = shape, b = state.buffers, moved = count - keep - discard
        if s.recomputes {  // no cache: the tokens are all there is
            (held + keep).update(from: held + keep + discard, count: moved)
            count -= discard
            return discard
        }
        if s.ropeDims > 0 {
            // R(p − d) = R(−d)·R(p): one rotation by −discard brings every moved key to its new position.
            ropeTable(position: -discard, dims: s.ropeDims, base: s.ropeBase, scale: s.ropeScale, cos: b.cos, sin: b.sin)
            for keys in state.cache.keys {
                for row in keep + discard..<count {
                    keys.load(row: row, into: b.qkv, s.kvDim)
                    rope(b.qkv, heads: s.kvHeads, headDim: s.headDim, dims: s.ropeDims, cos: b.cos, sin: b.sin)
                    keys.store(b.qkv, row: row, s.kvDim)
                }
            }
        }
        for l in 0..<s.layers {
            state.cache.keys[l].moveRows(from: keep + discard, to: keep, count: moved)
            state.cache.values[l].moveRows(from: keep + discard, to: keep, count: moved)
        }
        (held + keep).update(from: held + keep + discard, count: moved)
        count -= discard
        return discard
    }

    /// Every id must index the vocabulary.
    public func checkVocabulary(_ ids: UnsafeBufferPointer<Int32>) throws(ModelError) {
        try checkTokenIDs(ids, vocab: shape.vocab)
    }

    /// A prompt `generate` can start from: known ids, fitting the context.
    public func checkPrompt(_ prompt: [Int32]) throws(ModelError) {
        guard !prompt.isEmpty else { throw .invalidInput("the prompt is empty (no tokens to continue)") }
        try prompt.withUnsafeBufferPointer { (p) throws(ModelError) in try checkVocabulary(p) }
        guard prompt.count <= context else {
            throw .contextFull("the prompt has \(prompt.count) tokens, more than the context of \(context)")
        }
    }

    /// Appends `ids` to the context and evaluates them in batches. Returns the logits after the last id;
    /// with allLogits, `eachRow(i, logits, hidden)` also sees the logits and the final (normed) hidden state
    /// after every id i.
    @discardableResult
    public func evaluate(_ ids: UnsafeBufferPointer<Int32>,
                         eachRow: ((Int, UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>) -> Void)? = nil)
        throws(ModelError) -> UnsafeMutableBufferPointer<Float> {
        let vocab = shape.vocab
        try checkVocabulary(ids)
        guard count + ids.count <= context else {
            throw .contextFull("\(count + ids.count) tokens do not fit in the context of \(context) "
                + "(\(count) held, \(ids.count) new)")
        }
        guard !ids.isEmpty else { throw .invalidInput("nothing to evaluate: no tokens") }
        var done = 0
        while done < ids.count {
            let n = min(batch, ids.count - done)
            let chunk = UnsafeBufferPointer(rebasing: ids[done..<done + n])
            let rows = allLogits ? 0..<n : n - 1..<n
            (held + count).update(from: chunk.baseAddress!, count: n)  // before the pass: XLNet reads the whole context
            net.forward(chunk, start: count, logitRows: rows, state)
            count += n
            if let eachRow {
                let b = state.buffers, dim = shape.dim
                for r in rows {
                    eachRow(done + r, UnsafeBufferPointer(start: b.logits + (r - rows.lowerBound) * vocab, count: vocab),
                            UnsafeBufferPointer(start: b.xb + r * dim, count: dim))
                }
            }
            done += n
        }
        let last = allLogits ? (ids.count - 1 - (ids.count - 1) / batch * batch) : 0
        return UnsafeMutableBufferPointer(start: state.buffers.logits + last * vocab, count: vocab)
    }
}
