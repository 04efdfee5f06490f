// Matrix multiplication with ggml-layout weights: y = x · Wᵀ for a batch of activation rows.
//
// As in ggml: each weight type's kernels (KernelSet.swift) say what the activations become; for quantized weights
// they are quantized once per call into `scratch` (for the 32-element block types: blocks of the values of Q8_0
// with a float scale) and each weight block is dotted with them in integers (MatMulQuant.swift); float weights are
// dotted with the float activations (MatMulFloat.swift). Rows are split among the pool's threads; which kernel
// computes a (row, token) depends only on whether the batch has one token or more (groups of four tokens share
// each weight load), never on the thread count, so results are identical for any number of threads.

import Quant

/// A weight matrix as stored in the file: `rows` rows of `cols` elements in ggml blocks of `type`.
public struct Matrix: @unchecked Sendable {
    public let data: UnsafeRawPointer
    public let type: GGMLType
    public let rows: Int, cols: Int
    public let rowBytes: Int
    /// Quantized weights only: activations are quantized to 16 bits per 32-element block (scale kept in float)
    /// instead of ggml's 8 (scale rounded to f16), and multiplied by the generic set's Int16 kernels in every set.
    /// The activations' rounding all but disappears; decoders keep ggml's rounding, so their results compare
    /// with llama.cpp's.
    public var wideActivations = false
    /// Looked up once, at init, rather than per product: the kernels for 8-bit and for 16-bit activations.
    private let narrowKernels, wideKernels: MatMulKernels
    var kernels: MatMulKernels { wideActivations ? wideKernels : narrowKernels }

    /// - Precondition: `Matrix.canMultiply(type)` (loaders check it and name the tensor) and whole blocks per row.
    /// `set`: the kernel set to multiply with (tests run every set the CPU supports).
    public init(_ data: UnsafeRawPointer, type: GGMLType, rows: Int, cols: Int, set: KernelSet = .selected) {
        guard let narrow = set.kernels(for: type), let wide = set.kernels(for: type, wide: true) else {
            preconditionFailure("Matrix: no \(type.name) kernels in the \(set.name) set")
        }
        precondition(cols % type.blockSize == 0)
        self.data = data
        self.type = type
        self.rows = rows
        self.cols = cols
        rowBytes = type.byteCount(elements: cols)!
        narrowKernels = narrow
        wideKernels = wide
    }

    /// Whether this process's kernels multiply `type` weights: what a loader checks before making a Matrix.
    public static func canMultiply(_ type: GGMLType) -> Bool { KernelSet.selected.kernels(for: type) != nil }

    public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }
}

/// Bytes of scratch `matMul` needs for `tokens` activation rows of `cols` against weights of `type`,
/// on a pool of `threads` threads (the same for any thread count). 0 for float weights.
/// - Precondition: `Matrix.canMultiply(type)`.
public func matMulScratchBytes(_ type: GGMLType, cols: Int, tokens: Int, threads: Int,
                               set: KernelSet = .selected) -> Int {
    guard let narrow = set.kernels(for: type), let wide = set.kernels(for: type, wide: true) else {
        preconditionFailure("matMulScratchBytes: no \(type.name) kernels, so no Matrix of that type")
    }
    // Either activation format: whether the matrix takes 16-bit activations is not known here.
    return tokens * max(narrow.activations?.rowBytes(cols) ?? 0, wide.activations?.rowBytes(cols) ?? 0)
}

/// y[t, r] = Σ_c W[r, c] · x[t, c] for t < tokens, r < w.rows.
/// x: (tokens, w.cols) floats, rows contiguous; y: (tokens, yStride) with yStride ≥ w.rows.
/// scratch: matMulScratchBytes(...) bytes, 64-byte aligned for speed (4-byte aligned suffices).
/// Rows are split among the pool's threads.
public func matMul(_ w: Matrix, _ x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>,
                   yStride: Int, scratch: UnsafeMutableRawPointer, pool: ThreadPool) {
    precondition(yStride >= w.rows || tokens <= 1)
    guard tokens > 0, w.rows > 0 else { return }
    // The per-thread work goes to the pool as capture-free functions and a pointer to the arguments on
    // this stack: no allocation per call.
    let job = MatMulJob(w: w, x: x, tokens: tokens, y: y, yStride: yStride, scratch: scratch)
    quantizeActivations(job, pool)
    withUnsafePointer(to: job) { pool.run(context: $0, w.kernels.rows) }
}

/// One output of a fused product: y[t, r] = Σ_c W[r, c] · x[t, c], rows of y `yStride` apart.
public struct MatMulOutput {
    public let w: Matrix
    public let y: UnsafeMutablePointer<Float>
    public let yStride: Int

    public init(_ w: Matrix, into y: UnsafeMutablePointer<Float>, yStride: Int) {
        self.w = w
        self.y = y
        self.yStride = yStride
    }
}

/// Two or three products of the same activations (Llama's q, k and v; gate and up): when the weights share
/// a quantized type and row length, the activations are quantized once and one dispatch computes every
/// output, otherwise each is a separate matMul. Arguments as for matMul.
public func matMul(_ a: MatMulOutput, _ b: MatMulOutput, _ c: MatMulOutput?, _ x: UnsafePointer<Float>,
                   tokens: Int, scratch: UnsafeMutableRawPointer, pool: ThreadPool) {
    let type = a.w.type, cols = a.w.cols
    let quantized = a.w.kernels.activations != nil   // float weights have no quantizing to share
    let wide = a.w.wideActivations
    let fusable = quantized && b.w.type == type && b.w.cols == cols && b.w.wideActivations == wide
        && (c.map { $0.w.type == type && $0.w.cols == cols && $0.w.wideActivations == wide } ?? true) && tokens > 0
    guard fusable else {
        matMul(a.w, x, tokens: tokens, into: a.y, yStride: a.yStride, scratch: scratch, pool: pool)
        matMul(b.w, x, tokens: tokens, into: b.y, yStride: b.yStride, scratch: scratch, pool: pool)
        if let c { matMul(c.w, x, tokens: tokens, into: c.y, yStride: c.yStride, scratch: scratch, pool: pool) }
        return
    }
    func job(_ o: MatMulOutput) -> MatMulJob {
        precondition(o.yStride >= o.w.rows || tokens <= 1)
        return MatMulJob(w: o.w, x: x, tokens: tokens, y: o.y, yStride: o.yStride, scratch: scratch)
    }
    let fused = FusedJob(a: job(a), b: job(b), c: job(c ?? b), count: c == nil ? 2 : 3, rows: a.w.kernels.rows)
    quantizeActivations(fused.a, pool)
    withUnsafePointer(to: fused) { pool.run(context: $0) { c, t, n in fusedShare(c, t, n) } }
}

// MARK: driver

/// What every thread of a matMul needs, on the caller's stack (ThreadPool.run(context:_:)).
struct MatMulJob {
    let w: Matrix
    let x: UnsafePointer<Float>
    let tokens: Int
    let y: UnsafeMutablePointer<Float>
    let yStride: Int
    /// Each token's quantized activations, `activationBytes` apart (unused by float weights).
    let scratch: UnsafeMutableRawPointer
    let activationBytes: Int

    init(w: Matrix, x: UnsafePointer<Float>, tokens: Int, y: UnsafeMutablePointer<Float>, yStride: Int,
         scratch: UnsafeMutableRawPointer) {
        self.w = w
        self.x = x
        self.tokens = tokens
        self.y = y
        self.yStride = yStride
        self.scratch = scratch
        activationBytes = w.kernels.activations?.rowBytes(w.cols) ?? 0
    }

    /// Token t's quantized activations.
    @inline(__always) func activations(_ t: Int) -> UnsafeRawPointer { UnsafeRawPointer(scratch + t * activationBytes) }
}

/// Quantizes job.x into job.scratch with the weights' activation kernels, if they have any: on this thread when
/// it is little work (below a dispatch's cost), else split.
func quantizeActivations(_ job: MatMulJob, _ pool: ThreadPool) {
    guard job.w.kernels.activations != nil else { return }
    withUnsafePointer(to: job) { context in
        if job.tokens * job.w.cols <= 8192 || pool.threadCount == 1 {
            quantizeShare(context, 0, 1)
        } else {
            pool.run(context: context) { context, thread, threads in quantizeShare(context, thread, threads) }
        }
    }
}

/// Quantizes this thread's share of the tokens into scratch.
func quantizeShare(_ context: UnsafeRawPointer, _ thread: Int, _ threads: Int) {
    let job = context.load(as: MatMulJob.self)
    guard let a = job.w.kernels.activations else { return }
    for t in rowShare(job.tokens, thread: thread, threads: threads, granule: 1) {
        a.quantize(job.x + t * job.w.cols, job.w.cols, job.w.wideActivations, job.scratch + t * job.activationBytes)
    }
}

/// Products of the same quantized activations with two or three matrices of one type and row length.
struct FusedJob {
    let a, b, c: MatMulJob
    let count: Int
    let rows: ThreadPool.Job
}

/// This thread's share of the rows of every matrix of a fused job.
func fusedShare(_ context: UnsafeRawPointer, _ thread: Int, _ threads: Int) {
    let f = context.load(as: FusedJob.self)
    withUnsafePointer(to: f.a) { f.rows($0, thread, threads) }
    withUnsafePointer(to: f.b) { f.rows($0, thread, threads) }
    if f.count == 3 { withUnsafePointer(to: f.c) { f.rows($0, thread, threads) } }
}

/// This thread's share of `rows`, split in whole groups of `granule` rows.
@inline(__always)
func rowShare(_ rows: Int, thread: Int, threads: Int, granule: Int = 4) -> Range<Int> {
    let groups = (rows + granule - 1) / granule
    let lo = groups * thread / threads, hi = groups * (thread + 1) / threads
    return min(rows, lo * granule)..<min(rows, hi * granule)
}

/// A thread's share of a product, rows × tokens, into y: one token at a time for generation; for batches,
/// tiles of rows that stay in L2 while the tokens pass over them four at a time. `one(r, t)` gives row r's dot
/// with token t, `four(r, t, last)` with tokens t...t+3, each index capped at `last`. Float and quantized weights
/// share it. Every token of a batch goes through `four` (a token's result does not depend on its lane), so a
/// token's result is the same in any batch of two or more: the last tokens are taken as the batch's last four
/// again (rewriting identical values), or, in a batch of two or three, with the last one repeated.
@inline(__always)
func forEachTile(_ share: Range<Int>, tokens: Int, rowBytes: Int, into y: UnsafeMutablePointer<Float>, yStride: Int,
                 one: (_ row: Int, _ token: Int) -> Float,
                 four: (_ row: Int, _ token: Int, _ last: Int) -> SIMD4<Float>) {
    if tokens == 1 {
        for r in share { y[r] = one(r, 0) }
        return
    }
    let tile = tileRows(rowBytes: rowBytes)
    var r0 = share.lowerBound
    while r0 < share.upperBound {
        let rows = r0..<min(share.upperBound, r0 + tile)
        var t = 0
        while t < tokens {
            if t + 4 > tokens { t = max(0, tokens - 4) }
            let yt = y + t * yStride, count = min(4, tokens - t)
            for r in rows {
                let v = four(r, t, tokens - 1)
                yt[r] = v[0]
                yt[yStride + r] = v[1]
                if count > 2 { yt[2 * yStride + r] = v[2] }
                if count > 3 { yt[3 * yStride + r] = v[3] }
            }
            t += 4
        }
        r0 = rows.upperBound
    }
}

/// Rows per tile when several tokens are multiplied: a tile of weights (about 192 KiB) stays in L2 while
/// every group of tokens passes over it.
@inline(__always)
func tileRows(rowBytes: Int) -> Int { max(4, (192 * 1024 / rowBytes) & ~3) }

// MARK: SIMD helpers (each compiles to the instruction named, with -target-cpu haswell)

/// Sum of the 8 lanes: vextractf128, vaddps, vshufpd/vmovshdup, vaddps, vaddss.
@inline(__always)
func horizontalSum(_ v: SIMD8<Float>) -> Float {
    let h = v.lowHalf + v.highHalf
    let q = h.lowHalf + h.highHalf
    return q[0] + q[1]
}

/// Sum of the 8 lanes in integers.
@inline(__always)
func horizontalSum(_ v: SIMD8<Int32>) -> Int32 {
    let h = v.lowHalf &+ v.highHalf
    let q = h.lowHalf &+ h.highHalf
    return q[0] &+ q[1]
}

/// f16 to float, vcvtph2ps. Written out lane by lane: the generic SIMD conversion initializer is not always
/// inlined (a call per block in the hot loop).
@inline(__always)
func floats(_ h: SIMD8<Float16>) -> SIMD8<Float> {
    SIMD8(Float(h[0]), Float(h[1]), Float(h[2]), Float(h[3]), Float(h[4]), Float(h[5]), Float(h[6]), Float(h[7]))
}

@inline(__always)
func floats(_ h: SIMD4<Float16>) -> SIMD4<Float> { SIMD4(Float(h[0]), Float(h[1]), Float(h[2]), Float(h[3])) }
