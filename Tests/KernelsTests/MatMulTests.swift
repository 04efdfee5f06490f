// matMul against a float computation over the same dequantized weights.

import Kernels
import Quant
import Testing

@Test(arguments: [GGMLType.f32, .f16, .q8_0, .q4_0, .q4_1])
func matMulMatchesDequantizedFloat(_ type: GGMLType) {
    let rows = 37, cols = 96, tokens = 3
    var seed: UInt64 = 42
    func next() -> Float {
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: seed >> 11) % 2000) / 1000 - 1
    }
    let wf = (0..<rows * cols).map { _ in next() }
    let x = (0..<tokens * cols).map { _ in next() }
    let rowBytes = type.byteCount(elements: cols)!
    let wq = UnsafeMutableRawPointer.allocate(byteCount: rows * rowBytes, alignment: 64)
    defer { wq.deallocate() }
    wf.withUnsafeBufferPointer { w in
        for r in 0..<rows { quantizeRow(w.baseAddress! + r * cols, count: cols, as: type, into: wq + r * rowBytes) }
    }
    var deq = [Float](repeating: 0, count: rows * cols)
    deq.withUnsafeMutableBufferPointer { d in
        for r in 0..<rows { dequantizeRow(wq + r * rowBytes, count: cols, as: type, into: d.baseAddress! + r * cols) }
    }
    let pool = ThreadPool(threads: 2)
    let m = Matrix(wq, type: type, rows: rows, cols: cols)
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: matMulScratchBytes(type, cols: cols, tokens: tokens, threads: 2), alignment: 64)
    defer { scratch.deallocate() }
    var y = [Float](repeating: .nan, count: tokens * rows)
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
            matMul(m, xp.baseAddress!, tokens: tokens, into: yp.baseAddress!, yStride: rows, scratch: scratch, pool: pool)
        }
    }
    var maxDiff: Float = 0
    for t in 0..<tokens {
        for r in 0..<rows {
            var s: Double = 0
            for c in 0..<cols { s += Double(deq[r * cols + c]) * Double(x[t * cols + c]) }
            maxDiff = max(maxDiff, abs(Float(s) - y[t * rows + r]))
        }
    }
    // Float weights exactly as dequantized, float activations: only summation order differs (~1e-5 at cols 96).
    #expect(maxDiff < 1e-4, "\(type.name): max |Δ| \(maxDiff)")
}
