// Fused products (q, k, v; gate, up) against one matMul per matrix: the same kernels over the same quantized
// activations, so the outputs must be bit-identical; F16 weights take the separate-calls fallback.

import Kernels
import Quant
import Testing

@Test(arguments: [GGMLType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .f16], [1, 5])
func fusedMatMulEqualsSeparateProducts(_ type: GGMLType, tokens: Int) throws {
    let cols = 64, rows = [40, 24, 24]
    var seed: UInt64 = 7
    func next() -> Float {
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: seed >> 11) % 2000) / 1000 - 1
    }
    let rowBytes = type.byteCount(elements: cols)!
    let weights = rows.map { r -> UnsafeMutableRawPointer in
        let p = UnsafeMutableRawPointer.allocate(byteCount: r * rowBytes, alignment: 64)
        let f = (0..<r * cols).map { _ in next() }
        f.withUnsafeBufferPointer { for i in 0..<r { quantizeRow($0.baseAddress! + i * cols, count: cols, as: type, into: p + i * rowBytes) } }
        return p
    }
    defer { weights.forEach { $0.deallocate() } }
    let m = (0..<3).map { Matrix(weights[$0], type: type, rows: rows[$0], cols: cols) }
    let x = (0..<tokens * cols).map { _ in next() }
    let stride = rows.reduce(0, +)
    let pool = try ThreadPool(threads: 2)
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(64, matMulScratchBytes(type, cols: cols, tokens: tokens, threads: 2)), alignment: 64)
    defer { scratch.deallocate() }
    var fused = [Float](repeating: .nan, count: tokens * stride), separate = fused
    x.withUnsafeBufferPointer { xp in
        fused.withUnsafeMutableBufferPointer { y in
            let y0 = y.baseAddress!
            matMul(MatMulOutput(m[0], into: y0, yStride: stride), MatMulOutput(m[1], into: y0 + 40, yStride: stride),
                   MatMulOutput(m[2], into: y0 + 64, yStride: stride), xp.baseAddress!, tokens: tokens, scratch: scratch, pool: pool)
        }
        separate.withUnsafeMutableBufferPointer { y in
            for (i, offset) in [0, 40, 64].enumerated() {
                matMul(m[i], xp.baseAddress!, tokens: tokens, into: y.baseAddress! + offset, yStride: stride, scratch: scratch, pool: pool)
            }
        }
    }
    #expect(fused == separate)
}
