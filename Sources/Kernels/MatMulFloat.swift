// Dot products of F32, F16 and BF16 weight rows with float activations.
//
// Weights are converted 8 at a time to floats (F16: vcvtph2ps; BF16: vpmovzxwd + vpslld) and multiplied
// into 8 float lanes with vfmadd231ps; a row's last cols % 8 elements are added one by one after the lanes
// are summed. As for quantized weights, the thread count never changes a result.

import Quant

/// A row format of float weights.
protocol FloatRow {
    static var elementBytes: Int { get }
    /// Elements i..<i+8 of the row at p.
    static func load8(_ p: UnsafeRawPointer, _ i: Int) -> SIMD8<Float>
    static func load1(_ p: UnsafeRawPointer, _ i: Int) -> Float
}

enum F32Row: FloatRow {
    static var elementBytes: Int { 4 }
    @inline(__always) static func load8(_ p: UnsafeRawPointer, _ i: Int) -> SIMD8<Float> {
        p.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
    }
    @inline(__always) static func load1(_ p: UnsafeRawPointer, _ i: Int) -> Float {
        p.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
    }
}

enum F16Row: FloatRow {
    static var elementBytes: Int { 2 }
    // vcvtph2ps ymm, mem
    @inline(__always) static func load8(_ p: UnsafeRawPointer, _ i: Int) -> SIMD8<Float> {
        floats(p.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<Float16>.self))
    }
    @inline(__always) static func load1(_ p: UnsafeRawPointer, _ i: Int) -> Float {
        floatFromF16(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
    }
}

enum BF16Row: FloatRow {
    static var elementBytes: Int { 2 }
    // vpmovzxwd ymm, mem; vpslld $16
    @inline(__always) static func load8(_ p: UnsafeRawPointer, _ i: Int) -> SIMD8<Float> {
        let h = p.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self)
        var u = SIMD8<UInt32>()
        for j in 0..<8 { u[j] = UInt32(h[j]) }
        return SIMD8<Float>(bitPattern: u &<< 16)
    }
    @inline(__always) static func load1(_ p: UnsafeRawPointer, _ i: Int) -> Float {
        floatFromBF16(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
    }
}

/// One row, one token: two accumulators (alternate 8-element steps) so consecutive FMAs do not wait on
/// each other; rows one at a time, which streams from memory best (see MatMulQuant.swift).
// Loop body: 2× (weight load/convert, vfmadd231ps ymm, mem); no calls.
@inline(never)
func dotRow<R: FloatRow>(_: R.Type, _ w: UnsafeRawPointer, cols: Int, _ x: UnsafePointer<Float>) -> Float {
    let xs = UnsafeRawPointer(x)
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
    var c = 0
    while c + 16 <= cols {
        a0 = a0.addingProduct(R.load8(w, c), xs.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self))
        a1 = a1.addingProduct(R.load8(w, c + 8), xs.loadUnaligned(fromByteOffset: 4 * c + 32, as: SIMD8<Float>.self))
        c += 16
    }
    if c + 8 <= cols {
        a0 = a0.addingProduct(R.load8(w, c), xs.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self))
        c += 8
    }
    var sum = horizontalSum(a0 + a1)
    while c < cols { sum = sum.addingProduct(R.load1(w, c), x[c]); c += 1 }
    return sum
}

/// One row, four tokens: each weight vector is converted once for four tokens.
// Loop body: weight load/convert, 4× vfmadd231ps ymm, mem, no calls.
@inline(never)
func dotRow4Tokens<R: FloatRow>(_: R.Type, _ w: UnsafeRawPointer, cols: Int, _ t0: UnsafePointer<Float>,
                                _ t1: UnsafePointer<Float>, _ t2: UnsafePointer<Float>, _ t3: UnsafePointer<Float>)
    -> SIMD4<Float> {
    let x0 = UnsafeRawPointer(t0), x1 = UnsafeRawPointer(t1), x2 = UnsafeRawPointer(t2), x3 = UnsafeRawPointer(t3)
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    var c = 0
    while c + 8 <= cols {
        let v = R.load8(w, c)
        a0 = a0.addingProduct(v, x0.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self))
        a1 = a1.addingProduct(v, x1.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self))
        a2 = a2.addingProduct(v, x2.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self))
        a3 = a3.addingProduct(v, x3.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self))
        c += 8
    }
    var s = SIMD4(horizontalSum(a0), horizontalSum(a1), horizontalSum(a2), horizontalSum(a3))
    while c < cols {
        let v = R.load1(w, c)
        s[0] = s[0].addingProduct(v, t0[c])
        s[1] = s[1].addingProduct(v, t1[c])
        s[2] = s[2].addingProduct(v, t2[c])
        s[3] = s[3].addingProduct(v, t3[c])
        c += 1
    }
    return s
}

/// This thread's share of the rows, all tokens: a KernelSet entry's `rows` for a float type.
@inline(__always)
func floatShare<R: FloatRow>(_: R.Type, _ context: UnsafeRawPointer, _ thread: Int, _ threads: Int) {
    let job = context.load(as: MatMulJob.self)
    let w = job.w, x = job.x, cols = w.cols
    let share = rowShare(w.rows, thread: thread, threads: threads)
    forEachTile(share, tokens: job.tokens, rowBytes: w.rowBytes, into: job.y, yStride: job.yStride,
                one: { r, t in dotRow(R.self, w.row(r), cols: cols, x + t * cols) },
                four: { r, t, last in
                    dotRow4Tokens(R.self, w.row(r), cols: cols, x + t * cols, x + min(t + 1, last) * cols,
                                  x + min(t + 2, last) * cols, x + min(t + 3, last) * cols)
                })
}
