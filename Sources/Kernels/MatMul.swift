// Matrix multiplication with ggml-layout weights: y = x · Wᵀ for a batch of activation rows.
// Interim version: each weight row is dequantized to float and dotted with the float activations.
// The kernels work replaces it with int8 dot products over quantized activations, as ggml does.

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
/// on a pool of `threads` threads.
public func matMulScratchBytes(_ type: GGMLType, cols: Int, tokens: Int, threads: Int) -> Int {
    threads * cols * MemoryLayout<Float>.stride
}

/// y[t, r] = Σ_c W[r, c] · x[t, c] for t < tokens, r < w.rows.
/// x: (tokens, w.cols) floats, rows contiguous; y: (tokens, yStride) with yStride ≥ w.rows.
/// scratch: matMulScratchBytes(...) bytes, 64-byte aligned. Rows are split among the pool's threads.
public func matMul(_ w: Matrix, _ x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>,
                   yStride: Int, scratch: UnsafeMutableRawPointer, pool: ThreadPool) {
    pool.run { thread, threads in
        let row = (scratch + thread * w.cols * MemoryLayout<Float>.stride).assumingMemoryBound(to: Float.self)
        let chunk = (w.rows + threads - 1) / threads
        let start = min(w.rows, thread * chunk), end = min(w.rows, start + chunk)
        for r in start..<end {
            dequantizeRow(w.row(r), count: w.cols, as: w.type, into: row)
            for t in 0..<tokens {
                let xt = x + t * w.cols
                var sum: Float = 0
                for c in 0..<w.cols { sum += row[c] * xt[c] }
                y[t * yStride + r] = sum
            }
        }
    }
}
