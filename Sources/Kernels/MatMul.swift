// Matrix multiplication with ggml-layout weights: y = x · Wᵀ for a batch of activation rows.
//
// As in ggml: for quantized weights the activations are quantized once per call into `scratch` (32-element
// blocks of int8 values with a float scale, the values of Q8_0), and each weight block is dotted with them in
// integers (MatMulQuant.swift); float weights are dotted with the float activations (MatMulFloat.swift).
// Rows are split among the pool's threads; which kernel computes a (row, token) depends only on the token's
// place in the batch (groups of four tokens share each weight load), never on the thread count, so results
// are identical for any number of threads.

import Quant

/// A weight matrix as stored in the file: `rows` rows of `cols` elements in ggml blocks of `type`.
public struct Matrix: @unchecked Sendable {
    public let data: UnsafeRawPointer
    public let type: GGMLType
    public let rows: Int, cols: Int
    public let rowBytes: Int

    public init(_ data: UnsafeRawPointer, type: GGMLType, rows: Int, cols: Int) {
        precondition(type.isComputable && cols % type.blockSize == 0)
        self.data = data
        self.type = type
        self.rows = rows
        self.cols = cols
        rowBytes = type.byteCount(elements: cols)!
    }

    public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }
}

/// Bytes of scratch `matMul` needs for `tokens` activation rows of `cols` against weights of `type`,
/// on a pool of `threads` threads (the same for any thread count). 0 for float weights.
public func matMulScratchBytes(_ type: GGMLType, cols: Int, tokens: Int, threads: Int) -> Int {
    switch type {
    case .q8_0, .q4_0, .q4_1: tokens * QuantizedActivations.rowBytes(cols: cols)
    default: 0
    }
}

/// y[t, r] = Σ_c W[r, c] · x[t, c] for t < tokens, r < w.rows.
/// x: (tokens, w.cols) floats, rows contiguous; y: (tokens, yStride) with yStride ≥ w.rows.
/// scratch: matMulScratchBytes(...) bytes, 64-byte aligned for speed (4-byte aligned suffices).
/// Rows are split among the pool's threads.
public func matMul(_ w: Matrix, _ x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>,
                   yStride: Int, scratch: UnsafeMutableRawPointer, pool: ThreadPool) {
    precondition(yStride >= w.rows || tokens <= 1)
    guard tokens > 0, w.rows > 0 else { return }
    switch w.type {
    case .q8_0: matMulQuantized(Q8_0Block.self, w, x, tokens: tokens, y, yStride: yStride, scratch, pool)
    case .q4_0: matMulQuantized(Q4_0Block.self, w, x, tokens: tokens, y, yStride: yStride, scratch, pool)
    case .q4_1: matMulQuantized(Q4_1Block.self, w, x, tokens: tokens, y, yStride: yStride, scratch, pool)
    case .f32: matMulFloat(F32Row.self, w, x, tokens: tokens, y, yStride: yStride, pool)
    case .f16: matMulFloat(F16Row.self, w, x, tokens: tokens, y, yStride: yStride, pool)
    case .bf16: matMulFloat(BF16Row.self, w, x, tokens: tokens, y, yStride: yStride, pool)
    default: preconditionFailure("matMul: \(w.type.name) weights are not supported")
    }
}

/// This thread's share of `rows`, split in whole groups of `granule` rows.
@inline(__always)
func rowShare(_ rows: Int, thread: Int, threads: Int, granule: Int = 4) -> Range<Int> {
    let groups = (rows + granule - 1) / granule
    let lo = groups * thread / threads, hi = groups * (thread + 1) / threads
    return min(rows, lo * granule)..<min(rows, hi * granule)
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
