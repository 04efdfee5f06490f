// An encoder-decoder session (T5, FLAN-T5, BART, Marian): one arena planned from the model's sizes, a source limit
// and a target context. `encode` runs the encoder once per source and keeps every decoder layer's cross-attention
// keys and values; `decode` appends target tokens, their self-attention keys and values going to a per-layer cache.
// Attention is split over the pool: the encoder's by head, the decoder's by (query row, head).

import Kernels
import Quant
#if canImport(Glibc)
import Glibc
#endif

/// What a Seq2SeqSession runs: an encoder-decoder family's sizes and passes (Models/T5.swift).
protocol EncoderDecoderNet: AnyObject, Sendable {
    var dim: Int { get }
    var vocab: Int { get }
    var decoderStart: Int32 { get }
    /// The widest attention projection, feed-forward layer and head of either stack.
    var maxInner: Int { get }
    var maxFF: Int { get }
    var maxHeadDim: Int { get }
    var decoderLayers: Int { get }
    /// Width of a decoder layer's cross-attention keys and values (and of its self-attention cache rows).
    var crossInner: Int { get }
    /// Positions either stack's table holds (BART's learned ones, Marian's sinusoids); nil for relative positions (T5).
    var positionLimit: Int? { get }
    var matrixTypes: Set<GGMLType> { get }
    /// The encoder over the `n` tokens in st.buffers.tokens: its output into st.buffers.encoded and every decoder
    /// layer's cross-attention keys and values into st.crossKeys/crossValues.
    func encode(_ n: Int, _ st: Seq2SeqState)
    /// The decoder over `tokens` (one per row of `rows`), attending to `source` encoded tokens; the logits of
    /// `logitRows` into `logits`, rows of vocab.
    func decode(_ tokens: UnsafeBufferPointer<Int32>, rows: TargetRows, source: Int, logitRows: Range<Int>,
                into logits: UnsafeMutablePointer<Float>, _ st: Seq2SeqState)
}

/// A stack's position biases (T5's) as lines over key − query: head h's bias for r = key − query is
/// lines[h·(2·reach + 1) + reach + r], r clamped to ±reach (past which T5's buckets no longer change).
struct PositionBias {
    let lines: UnsafePointer<Float>
    let reach: Int
}

/// Which key rows the query rows of an attention pass read.
enum KeySpan {
    /// The first n: the encoder's own rows, or the encoded source.
    case first(Int)
    /// Up to the query's position: a decoder's causal self-attention.
    case causal
}

/// One attention pass of the encoder-decoders over `rows` query rows and every head, split over the pool: query row t
/// (at rows.position(t), of beam rows.beam(t)), head h, takes softmax(q·k + bias) · v over its key rows into `out`.
/// Plain values only, so the pool's threads load it without reference counting.
struct AttentionPass {
    let q: UnsafePointer<Float>             // (rows, width): head h at h·headDim
    let out: UnsafeMutablePointer<Float>    // (rows, width)
    let width, heads, headDim: Int
    let rows: TargetRows
    /// Key row j is row j of slot 0, or of the slot its beam's table names.
    let keys, values: CacheRows
    /// Per-beam slot tables (beam b's at slots + b·rowsPerSlot), a slot being rowsPerSlot rows; nil: all in slot 0.
    let slots: UnsafePointer<Int32>?
    let rowsPerSlot: Int
    let span: KeySpan
    let bias: PositionBias?
    /// Each thread's scores: scoresPerThread floats from scores + thread·scoresPerThread.
    let scores: UnsafeMutablePointer<Float>
    let scoresPerThread: Int

    func run(thread: Int, threads: Int) {
        let s = scores + thread * scoresPerThread
        var item = thread
        while item < rows.count * heads {
            let t = item / heads, h = item % heads, position = rows.position(t)
            let count: Int
            switch span {
            case let .first(n): count = n
            case .causal: count = position + 1
            }
            let table = slots.map { $0 + rows.beam(t) * rowsPerSlot }
            let qh = q + t * width + h * headDim, offset = h * headDim, o = out + t * width + h * headDim
            if table == nil, bias == nil {  // contiguous rows: the decoders' kernel (values summed in registers)
                attendHead(qh, keys: keys, values: values, rows: 0..<count, offset: offset, headDim: headDim, scale: 1,
                           scores: s, into: o)
                item += threads
                continue
            }
            @inline(__always) func row(_ j: Int) -> Int { (table.map { Int($0[j]) * rowsPerSlot } ?? 0) + j }
            for j in 0..<count { s[j] = keys.dot(qh, row: row(j), offset: offset, headDim) }
            if let bias {
                let reach = bias.reach, line = bias.lines + h * (2 * reach + 1) + reach
                for j in 0..<count { s[j] += line[min(max(j - position, -reach), reach)] }
            }
            softmax(s, count)
            o.update(repeating: 0, count: headDim)
            for j in 0..<count { values.axpy(s[j], row: row(j), offset: offset, into: o, headDim) }
            item += threads
        }
    }

    func run(_ pool: ThreadPool) {
        // A capture-free job on the stack: a closure handed to the pool would be boxed (a malloc per call).
        withUnsafePointer(to: self) { pool.run(context: $0) { c, thread, threads in
            c.load(as: AttentionPass.self).run(thread: thread, threads: threads)
        } }
    }
}

/// The encoder's self-attention: each head over the whole sequence at once (attendSequence: keys transposed once,
/// four queries per pass), the heads split over the pool. Queries, keys and values are rows of `width` floats.
struct SequencePass {
    let q, keys, values: UnsafePointer<Float>
    let out: UnsafeMutablePointer<Float>
    let width, heads, headDim, count: Int
    let bias: PositionBias?
    /// Each thread's scratch: scratchPerThread floats from scratch + thread·scratchPerThread.
    let scratch: UnsafeMutablePointer<Float>
    let scratchPerThread: Int

    func run(thread: Int, threads: Int) {
        var h = thread
        while h < heads {
            let at = h * headDim
            attendSequence(q: q + at, k: keys + at, v: values + at, stride: width, rows: count, headDim: headDim, scale: 1,
                           scratch: scratch + thread * scratchPerThread, out: out + at, outStride: width,
                           bias: bias.map { $0.lines + h * (2 * $0.reach + 1) + $0.reach }, biasReach: bias?.reach ?? 0)
            h += threads
        }
    }

    func run(_ pool: ThreadPool) {
        withUnsafePointer(to: self) { pool.run(context: $0) { c, thread, threads in
            c.load(as: SequencePass.self).run(thread: thread, threads: threads)
        } }
    }
}

public struct Seq2SeqOptions: Sendable {
    /// The longest source in tokens; 0: the model's context length.
    public var source = 0
    /// The longest target in tokens (the decoder start token included); 0: the model's context length.
    public var target = 0
    /// Beams of a beam search: each has its own self-attention cache (and a second one to reorder into).
    public var beams = 1
    /// Threads of the session's pool; 0: every online core.
    public var threads = 0
    /// Refuse to create a session whose arena is larger; nil: the machine's physical memory.
    public var memoryLimit: Int?
    /// `decode` returns the logits at every token it is given (room for `target` rows of the vocabulary);
    /// otherwise only at the last (generation needs no more, and `beams` rows for a beam step).
    public var allLogits = false
    /// Cross- and self-attention caches in half precision (llama.cpp's default f16) or float32.
    public var halfCache = true
    public init() {}
}

/// The target rows of one decoder call: positions start..<start+count of beam `beam`, or (beam nil) one row per
/// beam, row i being beam i, all at position `start`: a beam-search step, batched so each weight is read once.
struct TargetRows {
    let count, start: Int
    let beam: Int?

    func position(_ row: Int) -> Int { beam == nil ? start : start + row }
    func beam(_ row: Int) -> Int { beam ?? row }
}

/// Where a call's key and value projections go: row r at keys + r·stride.
struct CacheWrite {
    let keys, values: UnsafeMutablePointer<Float>
    let stride: Int
}

/// Pointers into the arena, for rows up to max(source, target).
struct Seq2SeqBuffers {
    let tokens: UnsafeMutablePointer<Int32>   // (source) the encoder's input
    let x, xb, out: UnsafeMutablePointer<Float>  // (rows, dim)
    let encoded: UnsafeMutablePointer<Float>  // (source, dim) the encoder's output
    let q, attn: UnsafeMutablePointer<Float>  // (rows, inner)
    let h1, h2: UnsafeMutablePointer<Float>   // (rows, ff)
    let scores: UnsafeMutablePointer<Float>   // (threads, scoresPerThread) an attention pass's scores or scratch
    let logits: UnsafeMutablePointer<Float>   // (target, vocab)
    let scratch: UnsafeMutableRawPointer
}

struct Seq2SeqState {
    let buffers: Seq2SeqBuffers
    /// (rows, width) float32: the encoder's own keys and values, and every call's key and value projections on
    /// their way into the caches (converted there when they are half precision).
    let staging: CacheWrite
    let crossKeys, crossValues: [CacheRows]  // per decoder layer, source rows of width
    /// Per decoder layer, `beams` slots of `target` rows. Beam b writes the row of position p in slot b; all
    /// beams are at the same position, so a row once written is never overwritten, and a beam reads position j
    /// from the slot its slot table names. Reordering beams copies tables of ints, not rows of keys and values.
    let selfKeys, selfValues: [CacheRows]
    /// Two tables of (beams, target) slot numbers; `current` says which is in use (a reorder writes the other).
    let slotTables: (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>)
    let current: UnsafeMutablePointer<Int>
    let beams, target: Int
    let width: Int                                                // a cache row: crossInner
    let scoresPerThread: Int                                      // floats of buffers.scores per thread
    let pool: ThreadPool

    var compute: Compute { Compute(scratch: buffers.scratch, pool: pool) }

    /// Decoder layer `layer`'s cross-attention keys and values, k·encoded and v·encoded (+ biases) over the `n` encoded
    /// rows, staged, then into its cache: once per source.
    func storeCross(layer: Int, k: Linear, v: Linear, rows n: Int) {
        project(buffers.encoded, rows: n, Projection(k, into: staging.keys, stride: width),
                Projection(v, into: staging.values, stride: width), compute)
        for t in 0..<n {
            crossKeys[layer].store(staging.keys + t * width, row: t, width)
            crossValues[layer].store(staging.values + t * width, row: t, width)
        }
    }

    /// Beam `beam`'s slot per position (position j of slot s is row s·target + j of selfKeys[layer]); nil with one
    /// beam (its rows are all in slot 0).
    func slots(_ beam: Int) -> UnsafeMutablePointer<Int32>? {
        beams > 1 ? (current.pointee == 0 ? slotTables.0 : slotTables.1) + beam * target : nil
    }

    /// The query rows' projections and where their attention goes: (rows, heads·headDim) each.
    struct Queries {
        let q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>
        let heads, headDim: Int
    }

    private func pass(_ x: Queries, _ rows: TargetRows, keys: CacheRows, values: CacheRows, slots: UnsafePointer<Int32>?,
                      span: KeySpan, bias: PositionBias?) -> AttentionPass {
        AttentionPass(q: x.q, out: x.out, width: x.heads * x.headDim, heads: x.heads, headDim: x.headDim, rows: rows,
                      keys: keys, values: values, slots: slots, rowsPerSlot: target, span: span, bias: bias,
                      scores: buffers.scores, scoresPerThread: scoresPerThread)
    }

    /// The encoder's self-attention over its `n` rows, whose keys and values are staged.
    func encoderAttention(_ x: Queries, rows n: Int, bias: PositionBias? = nil) {
        SequencePass(q: x.q, keys: staging.keys, values: staging.values, out: x.out, width: width, heads: x.heads,
                     headDim: x.headDim, count: n, bias: bias, scratch: buffers.scores, scratchPerThread: scoresPerThread).run(pool)
    }

    /// Decoder layer `layer`'s causal self-attention of `rows`: their staged keys and values go into their beams'
    /// slots of the cache, then each beam reads its rows through its slot table.
    func decoderAttention(_ x: Queries, layer: Int, rows: TargetRows, bias: PositionBias? = nil) {
        for t in 0..<rows.count {
            let row = rows.beam(t) * target + rows.position(t)
            selfKeys[layer].store(staging.keys + t * width, row: row, width)
            selfValues[layer].store(staging.values + t * width, row: row, width)
        }
        pass(x, rows, keys: selfKeys[layer], values: selfValues[layer], slots: slots(0).map { UnsafePointer($0) },
             span: .causal, bias: bias).run(pool)
    }

    /// Decoder layer `layer`'s cross-attention of `rows` over the `source` encoded tokens.
    func crossAttention(_ x: Queries, layer: Int, rows: TargetRows, source: Int) {
        pass(x, rows, keys: crossKeys[layer], values: crossValues[layer], slots: nil, span: .first(source), bias: nil).run(pool)
    }
}

public final class Seq2SeqSession {
    public let model: Model
    let net: any EncoderDecoderNet
    public let sourceLimit: Int, targetLimit: Int
    /// Beams this session can search with.
    public let beams: Int
    public let threads: Int
    /// Whether `decode` gives the logits at every token (Seq2SeqOptions.allLogits).
    public let allLogits: Bool
    /// Whether the caches hold half-precision rows (Seq2SeqOptions.halfCache).
    public let halfCache: Bool
    public let plan: ArenaPlan
    private let arena: Arena
    private let state: Seq2SeqState
    private let current: UnsafeMutablePointer<Int>
    /// Tokens of the current source, and target tokens the decoder cache holds.
    public private(set) var sourceCount = 0, targetCount = 0

    public init(_ model: Model, _ options: Seq2SeqOptions = Seq2SeqOptions()) throws(ModelError) {
        guard case let .seq2seq(net) = model.family else {
            throw .unsupported("'\(model.architecture)' in an encoder-decoder session (it is \(model.kind))")
        }
        let positions = try model.contextLength()
        let source = options.source > 0 ? options.source : positions, target = options.target > 0 ? options.target : positions
        if let limit = net.positionLimit {
            guard source <= limit else { throw .invalidInput("a source limit of \(source) tokens is more than the model's \(limit) positions") }
            guard target <= limit else { throw .invalidInput("a target limit of \(target) tokens is more than the model's \(limit) positions") }
        }
        let threads = sessionThreads(options.threads)
        let beams = max(1, options.beams)
        let rows = max(source, target, beams), inner = net.maxInner, cross = net.crossInner
        var p = ArenaPlan()
        let tokens = p.reserve("ids", source * 4)
        let x = p.floats("x", rows * net.dim), xb = p.floats("xb", rows * net.dim), out = p.floats("out", rows * net.dim)
        let encoded = p.floats("encoded", source * net.dim)
        let q = p.floats("q", rows * inner), attn = p.floats("attn", rows * inner)
        let h1 = p.floats("ff", rows * net.maxFF), h2 = p.floats("ff", rows * net.maxFF)
        // A thread's scores of one query over every key row, or attendSequence's scratch over the source.
        let scoresPerThread = max(rows, attendSequenceScratch(rows: source, headDim: net.maxHeadDim))
        let scores = p.floats("att", threads * scoresPerThread)
        let logits = p.floats("logits", (options.allLogits ? max(target, beams) : beams) * net.vocab)
        let scratch = p.reserve("scratch", matMulScratchBytes(net.matrixTypes, widths: [net.dim, inner, net.maxFF], rows: rows,
                                                              threads: threads))
        // Cannot fail for a file: T5 and BART define both widths as one (inner, d_model); a family that did not
        // would need staging at each width.
        precondition(inner == cross, "staged keys and values are rows of one width")
        let staged = (p.floats("staged kv", rows * cross), p.floats("staged kv", rows * cross))
        let element = options.halfCache ? 2 : 4
        let crossKV = (0..<net.decoderLayers).map { _ in
            (p.reserve("cross kv", source * cross * element), p.reserve("cross kv", source * cross * element))
        }
        let own = (0..<net.decoderLayers).map { _ in
            (p.reserve("kv", beams * target * cross * element), p.reserve("kv", beams * target * cross * element))
        }
        let slotTables = (p.reserve("slots", beams * target * 4), p.reserve("slots", beams * target * 4))
        try checkMemory(p, limit: options.memoryLimit)
        arena = try Arena(p)
        let a = arena.base
        func f(_ offset: Int) -> UnsafeMutablePointer<Float> { (a + offset).assumingMemoryBound(to: Float.self) }
        let b = Seq2SeqBuffers(tokens: (a + tokens).assumingMemoryBound(to: Int32.self), x: f(x), xb: f(xb), out: f(out),
                               encoded: f(encoded), q: f(q), attn: f(attn), h1: f(h1), h2: f(h2), scores: f(scores),
                               logits: f(logits), scratch: a + scratch)
        current = .allocate(capacity: 1)
        current.pointee = 0
        func cacheRows(_ offset: Int) -> CacheRows { CacheRows(a + offset, half: options.halfCache, stride: cross) }
        state = Seq2SeqState(buffers: b, staging: CacheWrite(keys: f(staged.0), values: f(staged.1), stride: cross),
                             crossKeys: crossKV.map { cacheRows($0.0) }, crossValues: crossKV.map { cacheRows($0.1) },
                             selfKeys: own.map { cacheRows($0.0) }, selfValues: own.map { cacheRows($0.1) },
                             slotTables: ((a + slotTables.0).assumingMemoryBound(to: Int32.self),
                                          (a + slotTables.1).assumingMemoryBound(to: Int32.self)),
                             current: current, beams: beams, target: target, width: cross,
                             scoresPerThread: scoresPerThread, pool: try startPool(threads: threads))
        self.beams = beams
        self.threads = threads
        allLogits = options.allLogits
        halfCache = options.halfCache
        plan = p
        self.model = model
        self.net = net
        sourceLimit = source
        targetLimit = target
    }

    deinit { current.deallocate() }

    /// The decoder's first token.
    public var decoderStart: Int32 { net.decoderStart }

    /// Runs the encoder over `source` and keeps the decoder's cross-attention keys and values; forgets the target.
    public func encode(_ source: [Int32]) throws(ModelError) {
        guard !source.isEmpty else { throw .invalidInput("the source is empty (no tokens to translate)") }
        guard source.count <= sourceLimit else {
            throw .invalidInput("the source has \(source.count) tokens, more than the limit of \(sourceLimit)")
        }
        try checkTokenIDs(source, vocab: net.vocab)
        for (i, id) in source.enumerated() { state.buffers.tokens[i] = id }
        net.encode(source.count, state)
        sourceCount = source.count
        targetCount = 0
    }

    /// The encoder's output for the current source: (tokens, dim), row-major.
    public var encoded: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: state.buffers.encoded, count: sourceCount * net.dim)
    }

    /// Bytes of the cross-attention and self-attention caches.
    public var cacheBytes: Int {
        2 * net.decoderLayers * (sourceLimit + beams * targetLimit) * net.crossInner * (halfCache ? 2 : 4)
    }

    /// "memory: cache 1.5 MiB (6 layers × (32 source + 4 beams × 64 target) × 512 × K,V × f16) · arena 2.1 MiB (...)".
    public var memorySummary: String {
        let rows = beams > 1 ? "\(beams) beams × \(targetLimit) target" : "\(targetLimit) target"
        return "memory: cache \(formatBytes(cacheBytes)) (\(net.decoderLayers) layers × (\(sourceLimit) source + \(rows)) × "
            + "\(net.crossInner) × K,V × \(halfCache ? "f16" : "f32")) · arena \(plan.summary(excluding: ["cross kv", "kv"]))"
    }

    /// Appends `ids` to the target and returns the logits at every one of them (rows of vocab; with `allLogits`
    /// off, at the last one only), valid until the next call.
    public func decode(_ ids: [Int32]) throws(ModelError) -> UnsafeMutableBufferPointer<Float> {
        guard sourceCount > 0 else { throw .invalidInput("no source: encode one first") }
        guard !ids.isEmpty else { throw .invalidInput("nothing to decode: no tokens") }
        guard targetCount + ids.count <= targetLimit else {
            throw .contextFull("\(targetCount + ids.count) target tokens do not fit the limit of \(targetLimit)")
        }
        try checkTokenIDs(ids, vocab: net.vocab)
        if let slots = state.slots(0) { (slots + targetCount).update(repeating: 0, count: ids.count) }
        let logitRows = allLogits ? 0..<ids.count : ids.count - 1..<ids.count
        ids.withUnsafeBufferPointer { p in
            net.decode(p, rows: TargetRows(count: ids.count, start: targetCount, beam: 0), source: sourceCount,
                       logitRows: logitRows, into: state.buffers.logits, state)
        }
        targetCount += ids.count
        return UnsafeMutableBufferPointer(start: state.buffers.logits, count: logitRows.count * net.vocab)
    }

    /// Decoding from the decoder start token with `sampler` (llama.cpp's chain; temperature 0 is the argmax): up to
    /// `maxTokens` new tokens, ending after an end-of-generation token (masked with `ignoreEOS`), at the target limit,
    /// or when `onToken` returns false. The result's ids are the new tokens (not the start token).
    public func generate(maxTokens: Int, sampler: inout Sampler, ignoreEOS: Bool = false,
                         onToken: (Int32) -> Bool) throws(ModelError) -> GenerateResult {
        var r = GenerateResult()
        let tokenizer = model.tokenizer
        let t0 = monotonicMs()
        var logits = try decode([decoderStart])
        r.promptTokens = sourceCount
        let t1 = monotonicMs()
        r.promptMs = t1 - t0
        var target = [decoderStart]
        let maxLength = min(1 + maxTokens, targetLimit)
        while r.ids.count < maxTokens {
            try checkLogits(UnsafeBufferPointer(logits), "the logits at target position \(target.count)")
            // Masked before the processors, as transformers' min_new_tokens is: a forced end token still ends.
            if ignoreEOS { for id in tokenizer.endOfGeneration { logits[Int(id)] = -.infinity } }
            model.generation.process(logits.baseAddress!, vocab: net.vocab, target: target, maxLength: maxLength,
                                     eos: tokenizer.eos)
            let next = sampler.sample(logits)
            sampler.accept(next)
            r.ids.append(next)
            target.append(next)
            if !onToken(next) { r.stop = .stopped; break }
            if tokenizer.isEndOfGeneration(next) { r.stop = .eos; break }
            if r.ids.count == maxTokens { r.stop = .length; break }
            guard targetCount < targetLimit else { r.stop = .context; break }
            logits = try decode([next])
        }
        r.genMs = monotonicMs() - t1
        return r
    }

    /// Greedy decoding from the decoder start token with the model's logits processors: up to `maxTokens` new
    /// tokens, ending after the end token. Returns the target, the start token first (transformers' generate output).
    public func greedy(maxTokens: Int) throws(ModelError) -> [Int32] {
        var target = [decoderStart]
        var logits = try decode(target)
        let eos = model.tokenizer.eos, maxLength = min(1 + maxTokens, targetLimit)
        for _ in 0..<maxTokens {
            model.generation.process(logits.baseAddress!, vocab: net.vocab, target: target, maxLength: maxLength, eos: eos)
            var best = 0
            for i in 1..<net.vocab where logits[i] > logits[best] { best = i }
            target.append(Int32(best))
            if Int32(best) == eos || targetCount >= targetLimit { break }
            logits = try decode([Int32(best)])
        }
        return target
    }

    /// Beam search as transformers' generate runs it: every step each running beam's log-softmax, the model's
    /// logits processors, plus its score; the best 2·beams candidates; those ending in the end token (or at the
    /// length limit) among the best `beams` become finished hypotheses scored sum / length^lengthPenalty, the best
    /// `beams` of the rest run on, their caches reordered. It stops when every candidate ends, when no running beam
    /// can still beat the worst finished one, or, with `earlyStopping`, once `beams` hypotheses have finished.
    /// `ignoreEOS` masks the end tokens before the processors (a forced end token still ends).
    /// Returns the finished hypotheses, best first, each target with the start token first (as transformers'
    /// sequences).
    public func beamSearch(maxTokens: Int, lengthPenalty: Float = 1, earlyStopping: Bool = false,
                           ignoreEOS: Bool = false) throws(ModelError) -> [Hypothesis] {
        guard sourceCount > 0 else { throw .invalidInput("no source: encode one first") }
        guard beams > 1 else { throw .invalidInput("a beam search needs a session made for 2 or more beams") }
        let b = beams, v = net.vocab, eosToken = model.tokenizer.eos, eos = eosToken.map(Int.init) ?? -1
        let maxLength = min(1 + maxTokens, targetLimit)
        var running = [[Int32]](repeating: [decoderStart], count: b)
        var runningScores = [Float](repeating: -1e9, count: b)
        runningScores[0] = 0
        var finished = [Hypothesis](repeating: Hypothesis(ids: [], score: -1e9), count: b)
        var isFinished = [Bool](repeating: false, count: b)
        var improvable = true
        var length = 1
        current.pointee = 0
        targetCount = 0
        while true {
            let logits = state.buffers.logits
            // Every beam's last token in one call: row i is beam i, writing position length − 1 in its own slot.
            for beam in 0..<b { state.slots(beam)![length - 1] = Int32(beam) }
            running.map { $0[length - 1] }.withUnsafeBufferPointer { tokens in
                net.decode(tokens, rows: TargetRows(count: b, start: length - 1, beam: nil), source: sourceCount,
                           logitRows: 0..<b, into: logits, state)
            }
            targetCount = length
            // The best 2·beams (score, beam, token), ties to the lower flat index, as torch.topk.
            var candidates: [(score: Float, beam: Int, token: Int)] = []
            for beam in 0..<b {
                let row = logits + beam * v
                try checkLogits(UnsafeBufferPointer(start: row, count: v), "beam \(beam)'s logits at target position \(length)")
                logSoftmax(row, v)
                if ignoreEOS { for id in model.tokenizer.endOfGeneration { row[Int(id)] = -.infinity } }
                model.generation.process(row, vocab: v, target: running[beam], maxLength: maxLength, eos: eosToken)
                for i in 0..<v {
                    let score = row[i] + runningScores[beam]
                    if candidates.count < 2 * b || score > candidates[candidates.count - 1].score {
                        var k = candidates.count
                        candidates.append((score, beam, i))
                        while k > 0, candidates[k - 1].score < score { candidates.swapAt(k, k - 1); k -= 1 }
                        if candidates.count > 2 * b { candidates.removeLast() }
                    }
                }
            }
            let ends = candidates.map { $0.token == eos || length + 1 >= maxLength }
            // Finished: candidates that end among the best `beams`, merged with those before, best `beams` kept.
            let norm = powf(Float(length), lengthPenalty)
            let full = earlyStopping && isFinished.allSatisfy { $0 }
            var merged = finished.enumerated().map { (score: $0.element.score, hypothesis: $0.element, done: isFinished[$0.offset]) }
            for (k, c) in candidates.enumerated() {
                var score = c.score / norm
                if full || !improvable || !(ends[k] && k < b) { score -= 1e9 }
                merged.append((score, Hypothesis(ids: running[c.beam] + [Int32(c.token)], score: score), ends[k] && k < b))
            }
            let order = merged.indices.sorted { merged[$0].score != merged[$1].score ? merged[$0].score > merged[$1].score : $0 < $1 }
            finished = order.prefix(b).map { var h = merged[$0].hypothesis; h.score = merged[$0].score; return h }
            isFinished = order.prefix(b).map { merged[$0].done }
            // Running: the best `beams` candidates that do not end; their caches move to their new slots.
            let alive = candidates.indices.sorted {
                let a = candidates[$0].score - (ends[$0] ? 1e9 : 0), c = candidates[$1].score - (ends[$1] ? 1e9 : 0)
                return a != c ? a > c : $0 < $1
            }.prefix(b)
            let parents = alive.map { candidates[$0].beam }
            running = alive.map { running[candidates[$0].beam] + [Int32(candidates[$0].token)] }
            runningScores = alive.map { candidates[$0].score - (ends[$0] ? 1e9 : 0) }
            reorder(parents, rows: length)
            length += 1
            let best = runningScores[0] / powf(Float(length - 1), lengthPenalty)
            let worst = finished.map(\.score).min() ?? -1e9
            improvable = improvable && isFinished.indices.contains { best > (isFinished[$0] ? worst : -1e9) }
            if !improvable || ends.allSatisfy({ $0 }) || (earlyStopping && isFinished.allSatisfy { $0 }) { break }
        }
        return finished
    }

    /// Beam i takes beam parents[i]'s slot table (its first `rows` positions), written into the other table.
    private func reorder(_ parents: [Int], rows: Int) {
        let from = state.slots(0)!, to = current.pointee == 0 ? state.slotTables.1 : state.slotTables.0
        for (beam, parent) in parents.enumerated() {
            (to + beam * targetLimit).update(from: from + parent * targetLimit, count: rows)
        }
        current.pointee = 1 - current.pointee
    }
}

/// A finished beam: the target (start token first) and its length-penalised score.
public struct Hypothesis: Sendable, Equatable {
    public var ids: [Int32]
    public var score: Float
}
