// matMul against float64 references over the same dequantized weights, for every weight type, odd row
// counts, row lengths that are whole 32-blocks but not 256-blocks, batches of 1–17 tokens and 1–3 threads.

import Kernels
import Quant
import Testing

private let shapes: [(rows: Int, cols: Int)] = [(1, 96), (7, 96), (37, 576), (13, 1536)]
private let tokenCounts = [1, 2, 3, 5, 17]
/// Every kernel set this CPU runs, by name (SWIFTLET_CPU's values).
private let sets = KernelSet.supported.map(\.name)
private func set(_ name: String) -> KernelSet { KernelSet.all.first { $0.name == name }! }

/// One set of pools for the suite, whose tests therefore run one at a time (a pool takes one caller).
private let pools = [try! ThreadPool(threads: 1), try! ThreadPool(threads: 2), try! ThreadPool(threads: 3)]

/// Deterministic values in [-1, 1) with some large and some tiny rows of blocks, so scales vary.
private struct Numbers {
    var seed: UInt64
    mutating func next() -> Float {
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: seed >> 11) % 2000) / 1000 - 1
    }
    mutating func array(_ n: Int) -> [Float] {
        (0..<n).map { i in next() * (i % 64 < 32 ? 1 : 0.01) }
    }
}

/// A weight matrix in `type`'s blocks with its dequantized floats.
private final class Weights {
    let bytes: UnsafeMutableRawPointer
    let matrix: Matrix
    let dequantized: [Float]
    init(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64, set: KernelSet = .selected) {
        var numbers = Numbers(seed: seed)
        let values = numbers.array(rows * cols)
        let rowBytes = type.byteCount(elements: cols)!
        let b = UnsafeMutableRawPointer.allocate(byteCount: max(1, rows * rowBytes), alignment: 64)
        values.withUnsafeBufferPointer { v in
            for r in 0..<rows { quantizeRow(v.baseAddress! + r * cols, count: cols, as: type, into: b + r * rowBytes) }
        }
        var deq = [Float](repeating: 0, count: rows * cols)
        deq.withUnsafeMutableBufferPointer { d in
            for r in 0..<rows { dequantizeRow(b + r * rowBytes, count: cols, as: type, into: d.baseAddress! + r * cols) }
        }
        bytes = b
        dequantized = deq
        matrix = Matrix(b, type: type, rows: rows, cols: cols, set: set)
    }
    deinit { bytes.deallocate() }
}

/// Whether `type`'s products quantize the activations like Q8_0 (the table's dot type), not read them as floats.
private func pairsWithQ8_0(_ type: GGMLType) -> Bool { type.format.codec?.dotType == .q8_0 }

/// The activations the kernel multiplies with: for quantized weights x quantized like Q8_0 and back,
/// for float weights x itself.
private func effectiveActivations(_ x: [Float], cols: Int, weights type: GGMLType) -> [Float] {
    guard pairsWithQ8_0(type) else { return x }
    let tokens = x.count / cols
    let rowBytes = GGMLType.q8_0.byteCount(elements: cols)!
    let q = UnsafeMutableRawPointer.allocate(byteCount: rowBytes, alignment: 64)
    defer { q.deallocate() }
    var out = [Float](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBufferPointer { op in
            for t in 0..<tokens {
                quantizeRow(xp.baseAddress! + t * cols, count: cols, as: .q8_0, into: q)
                dequantizeRow(q, count: cols, as: .q8_0, into: op.baseAddress! + t * cols)
            }
        }
    }
    return out
}

private func runMatMul(_ w: Matrix, _ x: [Float], tokens: Int, pool: ThreadPool, yStride: Int? = nil) -> [Float] {
    let stride = yStride ?? w.rows
    let scratch = UnsafeMutableRawPointer.allocate(
        byteCount: max(1, matMulScratchBytes(w.type, cols: w.cols, tokens: tokens, threads: pool.threadCount, set: .generic)),
        alignment: 64)
    defer { scratch.deallocate() }
    var y = [Float](repeating: .nan, count: tokens * stride)
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
            matMul(w, xp.baseAddress!, tokens: tokens, into: yp.baseAddress!, yStride: stride, scratch: scratch, pool: pool)
        }
    }
    return y
}

@Suite(.serialized) struct MatMulTests {

@Test(arguments: [GGMLType.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1], sets)
func matMulMatchesFloat64OverTheSameValues(_ type: GGMLType, _ setName: String) {
    for (shapeIndex, shape) in shapes.enumerated() {
        let w = Weights(type, rows: shape.rows, cols: shape.cols, seed: 7 + UInt64(shapeIndex), set: set(setName))
        for tokens in tokenCounts {
            var numbers = Numbers(seed: 1000 + UInt64(tokens))
            let x = numbers.array(tokens * shape.cols)
            let xe = effectiveActivations(x, cols: shape.cols, weights: type)
            let first = runMatMul(w.matrix, x, tokens: tokens, pool: pools[0])
            for pool in pools.dropFirst() {
                let y = runMatMul(w.matrix, x, tokens: tokens, pool: pool)
                // The split of rows among threads must not change a single bit.
                #expect(y == first, "\(setName) \(type.name) \(shape) tokens \(tokens): \(pool.threadCount) threads differ from 1")
            }
            var worst = 0.0
            for t in 0..<tokens {
                for r in 0..<shape.rows {
                    var exact = 0.0, magnitude = 0.0
                    for c in 0..<shape.cols {
                        let p = Double(w.dequantized[r * shape.cols + c]) * Double(xe[t * shape.cols + c])
                        exact += p
                        magnitude += abs(p)
                    }
                    let error = abs(Double(first[t * shape.rows + r]) - exact)
                    worst = max(worst, error / max(magnitude, 1e-30))
                }
            }
            // Same weights, same activations: quantized kernels sum exact integer block dots, and the only
            // rounding is float32's (≈6e-8 per operation) in scaling and accumulating one float per block and
            // lane (cols/256 + 5 roundings deep at most; Q4_1's and Q5_1's dequantized d·q + m is itself a rounding).
            // Float kernels accumulate cols/8 fused multiply-adds per lane. 1e-5 of Σ|w·x| is ≥ 20× these.
            #expect(worst <= 1e-5, "\(setName) \(type.name) \(shape) tokens \(tokens): error \(worst) of Σ|w·x|")
        }
    }
}

/// Against the float activations themselves: for float weights this is the same check; for quantized
/// weights the activation rounding adds at most d/2 per element (d = amax/127, its block's scale) plus
/// 127·|d − f16(d)| ≤ 127·2⁻¹¹·d for the scale kept in f16, so the bound is Σ_c |w_c|·0.563·d_block(c)
/// plus the float rounding above.
@Test(arguments: [GGMLType.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1], sets)
func matMulMatchesFloatActivations(_ type: GGMLType, _ setName: String) {
    let quantized = pairsWithQ8_0(type)
    for (shapeIndex, shape) in shapes.enumerated() {
        let w = Weights(type, rows: shape.rows, cols: shape.cols, seed: 70 + UInt64(shapeIndex), set: set(setName))
        for tokens in [1, 5] {
            var numbers = Numbers(seed: 2000 + UInt64(tokens))
            let x = numbers.array(tokens * shape.cols)
            let y = runMatMul(w.matrix, x, tokens: tokens, pool: pools[1])
            for t in 0..<tokens {
                for r in 0..<shape.rows {
                    var exact = 0.0, magnitude = 0.0, bound = 0.0
                    for b in 0..<shape.cols / 32 {
                        var amax: Float = 0
                        for c in b * 32..<(b + 1) * 32 { amax = max(amax, abs(x[t * shape.cols + c])) }
                        let halfStep = quantized ? Double(amax) / 127 * (0.5 + 127.0 / 2048) : 0
                        for c in b * 32..<(b + 1) * 32 {
                            let wc = Double(w.dequantized[r * shape.cols + c]), xc = Double(x[t * shape.cols + c])
                            exact += wc * xc
                            magnitude += abs(wc * xc)
                            bound += abs(wc) * halfStep
                        }
                    }
                    let error = abs(Double(y[t * shape.rows + r]) - exact)
                    #expect(error <= bound + 1e-5 * magnitude,
                            "\(setName) \(type.name) \(shape) t \(t) r \(r): error \(error), bound \(bound + 1e-5 * magnitude)")
                }
            }
        }
    }
}

/// A token's results barely depend on the batch it is in (a group of four tokens sums its blocks in another
/// order than a lone token: float32 rounding, ≤ 1e-5 of Σ|w·x| as above), and rows beyond w.rows in a wider
/// yStride are left alone.
@Test(arguments: [GGMLType.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1], sets)
func batchedEqualsOneTokenAtATime(_ type: GGMLType, _ setName: String) {
    let rows = 37, cols = 576, tokens = 17
    let w = Weights(type, rows: rows, cols: cols, seed: 99, set: set(setName))
    var numbers = Numbers(seed: 5)
    let x = numbers.array(tokens * cols)
    let batched = runMatMul(w.matrix, x, tokens: tokens, pool: pools[1], yStride: rows + 3)
    for t in 0..<tokens {
        let single = runMatMul(w.matrix, Array(x[t * cols..<(t + 1) * cols]), tokens: 1, pool: pools[2])
        for r in 0..<rows {
            var magnitude = 0.0
            for c in 0..<cols { magnitude += abs(Double(w.dequantized[r * cols + c]) * Double(x[t * cols + c])) }
            let difference = Double(abs(batched[t * (rows + 3) + r] - single[r]))
            #expect(difference <= 1e-5 * magnitude, "\(setName) \(type.name) token \(t) row \(r): \(difference)")
        }
        #expect(batched[t * (rows + 3) + rows..<(t + 1) * (rows + 3)].allSatisfy { $0.isNaN })
    }
}

/// The sets against each other: the same activations and weights, so only float32 rounding in a different order
/// separates them (≤ 1e-5 of Σ|w·x|, as above); wide matrices (16-bit activations) take the same kernels in every set.
@Test(arguments: [GGMLType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1], [false, true])
func everySetAgreesWithGeneric(_ type: GGMLType, _ wide: Bool) {
    let rows = 37, cols = 576
    for setName in sets where setName != "generic" {
        let reference = Weights(type, rows: rows, cols: cols, seed: 31, set: .generic)
        let other = Weights(type, rows: rows, cols: cols, seed: 31, set: set(setName))
        var a = reference.matrix, b = other.matrix
        a.wideActivations = wide
        b.wideActivations = wide
        for tokens in [1, 6] {
            var numbers = Numbers(seed: 77 + UInt64(tokens))
            let x = numbers.array(tokens * cols)
            let ya = runMatMul(a, x, tokens: tokens, pool: pools[1]), yb = runMatMul(b, x, tokens: tokens, pool: pools[1])
            if wide { #expect(ya == yb, "\(setName) \(type.name): wide matrices must run the generic kernels") }
            for t in 0..<tokens {
                for r in 0..<rows {
                    var magnitude = 0.0
                    for c in 0..<cols { magnitude += abs(Double(reference.dequantized[r * cols + c]) * Double(x[t * cols + c])) }
                    let difference = Double(abs(ya[t * rows + r] - yb[t * rows + r]))
                    #expect(difference <= 1e-5 * magnitude, "\(setName) \(type.name) token \(t) row \(r): \(difference)")
                }
            }
        }
    }
}

}
