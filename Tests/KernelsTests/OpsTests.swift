// The element-wise kernels against their scalar definitions, on lengths that are not multiples of 8.

import Foundation
import Kernels
import Testing

@Test func exp8IsWithinThreeUlpsOfExpf() {
    var worst: Float = 0
    var x: Float = -87
    while x < 88.5 {
        let v = exp8(SIMD8<Float>(repeating: x))[0]
        let e = expf(x)
        worst = max(worst, abs(v - e) / e.ulp)
        x += 0.0137
    }
    #expect(worst <= 3, "worst error \(worst) ulp")
    #expect(exp8(SIMD8(repeating: -200))[0] == 0 || exp8(SIMD8(repeating: -200))[0] < 1e-37)
    #expect(exp8(SIMD8(repeating: 0))[0] == 1)
}

@Test func softmaxSwiGLUAndGELUMatchTheirDefinitions() {
    let n = 29
    var x = (0..<n).map { Float($0) * 0.37 - 5 }
    let reference = x.map { Double($0) }
    let m = reference.max()!
    let sum = reference.map { exp($0 - m) }.reduce(0, +)
    softmax(&x, n)
    for i in 0..<n { #expect(abs(Double(x[i]) - exp(reference[i] - m) / sum) < 1e-7) }

    var g = (0..<n).map { Float($0) * 0.41 - 6 }
    let up = (0..<n).map { Float($0) * -0.13 + 1 }
    let g0 = g
    swiGLU(&g, up, n)
    for i in 0..<n {
        let want = Double(g0[i]) / (1 + exp(-Double(g0[i]))) * Double(up[i])
        #expect(abs(Double(g[i]) - want) < 1e-5 * max(1, abs(want)))
    }

    var h = (0..<n).map { Float($0) * 0.5 - 7 }
    let h0 = h
    geluTanh(&h, n)
    for i in 0..<n {
        let v = Double(h0[i])
        let want = 0.5 * v * (1 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)))
        #expect(abs(Double(h[i]) - want) < 1e-5 * max(1, abs(want)))
    }
}

@Test func normsMatchTheirDefinitions() {
    let n = 37
    let x = (0..<n).map { sin(Float($0)) * 3 + 0.5 }
    let w = (0..<n).map { 1 + Float($0) / 100 }
    let b = (0..<n).map { Float($0) / 50 - 0.3 }
    var out = [Float](repeating: 0, count: n)
    rmsNorm(x, weight: w, n, eps: 1e-5, into: &out)
    let ms = x.map { Double($0) * Double($0) }.reduce(0, +) / Double(n)
    for i in 0..<n { #expect(abs(Double(out[i]) - Double(x[i]) / (ms + 1e-5).squareRoot() * Double(w[i])) < 1e-5) }
    layerNorm(x, weight: w, bias: b, n, eps: 1e-5, into: &out)
    let mean = x.map(Double.init).reduce(0, +) / Double(n)
    let variance = x.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / Double(n)
    for i in 0..<n {
        let want = (Double(x[i]) - mean) / (variance + 1e-5).squareRoot() * Double(w[i]) + Double(b[i])
        #expect(abs(Double(out[i]) - want) < 1e-5)
    }
}

@Test func ropeByMinusDUndoesRopeByD() {
    let dims = 16, heads = 3
    var x = (0..<dims * heads).map { Float($0) * 0.1 - 2 }
    let x0 = x
    var c = [Float](repeating: 0, count: dims / 2), s = c
    ropeTable(position: 37, dims: dims, base: 12345, scale: 1, cos: &c, sin: &s)
    rope(&x, heads: heads, headDim: dims, dims: dims, cos: c, sin: s)
    #expect(x != x0)
    ropeTable(position: -37, dims: dims, base: 12345, scale: 1, cos: &c, sin: &s)
    rope(&x, heads: heads, headDim: dims, dims: dims, cos: c, sin: s)
    for i in 0..<x.count { #expect(abs(x[i] - x0[i]) < 1e-5) }
}

// Head sizes 24 (tail lanes only) and 72 (two 32-lane passes and a tail).
@Test(arguments: [false, true], [24, 72])
func attendHeadMatchesSoftmaxWeightedSum(_ half: Bool, headDim: Int) {
    let rows = 13, stride = 2 * headDim, offset = headDim
    let bytes = rows * stride * (half ? 2 : 4)
    let kBase = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    let vBase = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    defer { kBase.deallocate(); vBase.deallocate() }
    let keys = CacheRows(kBase, half: half, stride: stride), values = CacheRows(vBase, half: half, stride: stride)
    var k = [[Float]](), v = [[Float]]()
    for r in 0..<rows {
        // Values exactly representable in f16, so both cache types hold the same numbers.
        let kr = (0..<stride).map { Float((r * 7 + $0 * 3) % 17 - 8) / 8 }
        let vr = (0..<stride).map { Float((r * 5 + $0) % 13 - 6) / 4 }
        keys.store(kr, row: r, stride)
        values.store(vr, row: r, stride)
        k.append(kr)
        v.append(vr)
    }
    let q = (0..<headDim).map { Float($0 % 5) / 5 - 0.4 }
    var scores = [Float](repeating: 0, count: rows), out = [Float](repeating: 0, count: headDim)
    attendHead(q, keys: keys, values: values, rows: 2..<rows, offset: offset, headDim: headDim, scale: 0.3,
               scores: &scores, into: &out)
    let s = (2..<rows).map { r in 0.3 * (0..<headDim).map { Double(q[$0]) * Double(k[r][offset + $0]) }.reduce(0, +) }
    let m = s.max()!
    let e = s.map { exp($0 - m) }, total = e.reduce(0, +)
    for d in 0..<headDim {
        let want = (2..<rows).map { e[$0 - 2] / total * Double(v[$0][offset + d]) }.reduce(0, +)
        #expect(abs(Double(out[d]) - want) < 1e-5)
    }
}

@Test func geluErfMatchesItsDefinition() {
    let n = 37
    let input = (0..<n).map { Float($0) * 0.45 - 8 }
    var x = input
    let reference = x.map { 0.5 * Double($0) * (1 + erf(Double($0) / 2.0.squareRoot())) }
    geluErf(&x, n)
    // Abramowitz-Stegun's erf is within 1.5e-7, scaled by x/2 in gelu, plus float rounding of the result.
    for i in 0..<n {
        let bound = 0.5 * abs(Double(input[i])) * 1.5e-7 + 1.2e-7 * max(1, abs(reference[i]))
        #expect(abs(Double(x[i]) - reference[i]) < bound, "x[\(i)]")
    }
}

/// Whole-sequence attention against its definition in float64, for head sizes that exercise the 16-, 8- and
/// odd-width paths and sequence lengths around the 4-query blocks, with and without a relative-position bias line
/// (reach 3, so most of the longer sequences' pairs are clamped).
@Test(arguments: [9, 16, 24, 32, 40], [false, true])
func attendSequenceMatchesItsDefinition(headDim hd: Int, biased: Bool) {
    let reach = 3, line = (0...2 * reach).map { Float(cos(Double($0) * 1.3)) }
    func bias(_ r: Int) -> Double { biased ? Double(line[min(max(r, -reach), reach) + reach]) : 0 }
    for n in [1, 3, 4, 5, 17] {
        let stride = 3 * hd + 5  // q, k, v side by side in padded rows, as the encoder's projections are
        let rows = (0..<n * stride).map { Float(sin(Double($0) * 0.731)) }
        var out = [Float](repeating: .nan, count: n * (hd + 2))
        var scratch = [Float](repeating: .nan, count: attendSequenceScratch(rows: n, headDim: hd))
        let scale = 1 / Float(hd).squareRoot()
        rows.withUnsafeBufferPointer { r in
            line.withUnsafeBufferPointer { l in
                attendSequence(q: r.baseAddress!, k: r.baseAddress! + hd, v: r.baseAddress! + 2 * hd, stride: stride, rows: n,
                               headDim: hd, scale: scale, scratch: &scratch, out: &out, outStride: hd + 2,
                               bias: biased ? l.baseAddress! + reach : nil, biasReach: reach)
            }
        }
        for t in 0..<n {
            let s = (0..<n).map { j in
                (0..<hd).reduce(0.0) { $0 + Double(rows[t * stride + $1]) * Double(rows[j * stride + hd + $1]) } * Double(scale) + bias(j - t)
            }
            let m = s.max()!, e = s.map { exp($0 - m) }, sum = e.reduce(0, +)
            for d in 0..<hd {
                let want = (0..<n).reduce(0.0) { $0 + e[$1] / sum * Double(rows[$1 * stride + 2 * hd + d]) }
                #expect(abs(Double(out[t * (hd + 2) + d]) - want) < 1e-5, "n \(n) t \(t) d \(d)")
            }
        }
    }
}
