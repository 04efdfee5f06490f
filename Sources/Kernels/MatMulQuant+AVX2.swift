// The `avx2` kernel set's integer dot products: Q5_0 and Q5_1 weights with 8-bit activations through vpmaddubsw
// (unsigned × signed bytes, summed in pairs into Int16) and vpmaddwd by ones (pairs into Int32), as ggml's
// arch/x86/quants.c does; LLVM does not form vpmaddubsw from Swift's generic SIMD by itself. Here they beat the
// generic set's Int16 kernels (whose 5-bit unpack costs more): pp128 232 → 242 and 198 → 234 t/s, tg32 72 → 115 for
// Q5_0 on SmolLM2-135M, 2 threads. The same kernels for Q8_0 (with the sign trick), Q4_0 and Q4_1 measured no faster
// than generic on this AMD EPYC (both paths occupy its one vector-multiply pipe), so those types use generic's.
//
// Activations (Q8_0Bytes): each 32-element block quantized exactly as the generic set's (d = amax/127 rounded to
// f16, q = round(x/d)), stored as Int8, with d and s = d·Σq (exact in a Float) per block.
// Weights: their bare values (0...31) multiplied, and their minimum times s added: Q5_0's is −16·d, Q5_1's its m.
// Products stay far from Int16 saturation (w ≤ 31, |x| ≤ 127: two products ≤ 7 874).
//
// Matrices with 16-bit activations (Matrix.wideActivations) take the generic set's kernels.

#if arch(x86_64)
import _Builtin_intrinsics.intel
import Quant

// MARK: activations

/// One token's 8-bit activations in scratch, `rowBytes(cols:)` apart: Int8 q[cols] | Float d[cols/32] | Float s[cols/32].
enum Q8_0Bytes {
    static func rowBytes(cols: Int) -> Int { (cols + 8 * (cols / 32) + 63) & ~63 }
}

/// Quantizes one row of `cols` floats (a multiple of 32) into `out` (Q8_0Bytes layout), as ggml's Q8_0: to ±127,
/// the scale rounded to f16. `wide` never reaches here (wide matrices use the generic set).
@inline(never)
func quantizeActivationBytes(_ x: UnsafePointer<Float>, cols: Int, into out: UnsafeMutableRawPointer) {
    let blocks = cols / 32
    let d = (out + cols).assumingMemoryBound(to: Float.self)
    let s = d + blocks
    for b in 0..<blocks {
        let block = quantizeBlock(UnsafeRawPointer(x + 32 * b), wide: false)
        let q = out + 32 * b
        q.storeBytes(of: narrowBytes(block.q.0), as: SIMD8<Int8>.self)
        q.storeBytes(of: narrowBytes(block.q.1), toByteOffset: 8, as: SIMD8<Int8>.self)
        q.storeBytes(of: narrowBytes(block.q.2), toByteOffset: 16, as: SIMD8<Int8>.self)
        q.storeBytes(of: narrowBytes(block.q.3), toByteOffset: 24, as: SIMD8<Int8>.self)
        d[b] = block.d
        s[b] = block.s
    }
}

@inline(__always) func narrowBytes(_ v: SIMD8<Int32>) -> SIMD8<Int8> {
    SIMD8<Int8>(Int8(truncatingIfNeeded: v[0]), Int8(truncatingIfNeeded: v[1]), Int8(truncatingIfNeeded: v[2]),
                Int8(truncatingIfNeeded: v[3]), Int8(truncatingIfNeeded: v[4]), Int8(truncatingIfNeeded: v[5]),
                Int8(truncatingIfNeeded: v[6]), Int8(truncatingIfNeeded: v[7]))
}

/// Pointers into one token's 8-bit activations.
struct ActivationBytes {
    let q: UnsafeRawPointer               // Int8 values
    let d: UnsafePointer<Float>, s: UnsafePointer<Float>
    @inline(__always) init(_ base: UnsafeRawPointer, cols: Int) {
        q = base
        d = (base + cols).assumingMemoryBound(to: Float.self)
        s = d + cols / 32
    }
}

// MARK: weight blocks

/// A 32-element weight block as 32 bytes for vpmaddubsw, its scale and its minimum's factor.
protocol ByteBlock {
    static var bytes: Int { get }
    /// The 32 values, in element order.
    static func values(_ p: UnsafeRawPointer) -> __m256i
    /// d and m/8 in all 8 lanes, m the minimum that multiplies Σx, loaded as the generic set's
    /// scaleAndMinimum loads them (a lone f16 load would become a vpinsrw into an accumulator).
    static func scale(_ p: UnsafeRawPointer) -> (d: SIMD8<Float>, m8: SIMD8<Float>)
}

enum Q5_0ByteBlock: ByteBlock {
    static var bytes: Int { 22 }
    @inline(__always) static func values(_ p: UnsafeRawPointer) -> __m256i { fiveBitBytes(p + 6, qh: p + 2) }
    @inline(__always) static func scale(_ p: UnsafeRawPointer) -> (d: SIMD8<Float>, m8: SIMD8<Float>) {
        let d = scaleAndMinimum(Q5_0Block.self, p).d
        return (d, -2 * d)   // m = −16·d
    }
}

enum Q5_1ByteBlock: ByteBlock {
    static var bytes: Int { 24 }
    @inline(__always) static func values(_ p: UnsafeRawPointer) -> __m256i { fiveBitBytes(p + 8, qh: p + 4) }
    @inline(__always) static func scale(_ p: UnsafeRawPointer) -> (d: SIMD8<Float>, m8: SIMD8<Float>) {
        scaleAndMinimum(Q5_1Block.self, p)
    }
}

/// A 5-bit block's 32 values (0...31) in element order: the nibbles at `p` with bit i of the u32 at `qh` as
/// byte i's 0x10. ggml's bytes_from_bits_32: vpbroadcastd, vpshufb (byte i/8 of qh to byte i), vpor (every bit
/// but i%8 set), vpcmpeqb with all ones; then vpand 0x10, vpor.
@inline(__always) func fiveBitBytes(_ p: UnsafeRawPointer, qh: UnsafeRawPointer) -> __m256i {
    let all = _mm256_set1_epi32(qh.loadUnaligned(as: Int32.self))
    let spread = _mm256_shuffle_epi8(all, _mm256_set_epi64x(0x0303_0303_0303_0303, 0x0202_0202_0202_0202,
                                                            0x0101_0101_0101_0101, 0))
    let isSet = _mm256_cmpeq_epi8(_mm256_or_si256(spread, _mm256_set1_epi64x(0x7fbf_dfef_f7fb_fdfe)),
                                  _mm256_set1_epi64x(-1))
    return _mm256_or_si256(nibbles(p), _mm256_and_si256(isSet, _mm256_set1_epi8(0x10)))
}

/// 16 bytes of nibble pairs (byte j: element j low, element j+16 high) as 32 bytes in element order:
/// vmovdqu, vpsrlw, vinserti128, vpand.
@inline(__always) func nibbles(_ p: UnsafeRawPointer) -> __m256i {
    let packed = unsafeBitCast(p.loadUnaligned(as: SIMD16<UInt8>.self), to: __m128i.self)
    let both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed)
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0f))
}

/// Σ over pairs of w·x products, into 8 Int32 lanes: vpmaddubsw, vpmaddwd by ones.
@inline(__always) func dotBytes(_ w: __m256i, _ x: UnsafeRawPointer) -> __m256i {
    let xv = unsafeBitCast(x.loadUnaligned(as: SIMD32<Int8>.self), to: __m256i.self)
    let pairs = _mm256_maddubs_epi16(w, xv)
    return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1))
}

/// acc += dot · d·dx; accMin's 8 lanes += m/8·sx: one block of one (row, token).
@inline(__always)
func accumulateBytes<B: ByteBlock>(_: B.Type, _ acc: inout SIMD8<Float>, _ accMin: inout SIMD8<Float>, dot: __m256i,
                                   _ dm: (d: SIMD8<Float>, m8: SIMD8<Float>), dx: Float, sx: Float) {
    acc = acc.addingProduct(_mm256_cvtepi32_ps(dot), dm.d * SIMD8(repeating: dx))
    accMin = accMin.addingProduct(dm.m8, SIMD8(repeating: sx))
}

// MARK: kernels

/// One row, one token. Even and odd blocks go to separate accumulators (see dotRow).
@inline(never)
func dotRowBytes<B: ByteBlock>(_: B.Type, _ w: UnsafeRawPointer, blocks: Int, _ x: ActivationBytes) -> Float {
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), m0 = SIMD8<Float>(), m1 = SIMD8<Float>()
    var b = 0
    @inline(__always) func step(_ b: Int, _ acc: inout SIMD8<Float>, _ accMin: inout SIMD8<Float>) {
        let p = w + b * B.bytes, v = B.values(p)
        accumulateBytes(B.self, &acc, &accMin, dot: dotBytes(v, x.q + 32 * b), B.scale(p),
                        dx: x.d[b], sx: x.s[b])
    }
    while b + 2 <= blocks {
        step(b, &a0, &m0)
        step(b + 1, &a1, &m1)
        b += 2
    }
    if b < blocks { step(b, &a0, &m0) }
    return horizontalSum((a0 + a1) + (m0 + m1))
}

/// One row, four tokens: each weight block is loaded and unpacked once for four tokens.
@inline(never)
func dotRowBytes4Tokens<B: ByteBlock>(_: B.Type, _ w: UnsafeRawPointer, blocks: Int, _ x0: ActivationBytes,
                                      _ x1: ActivationBytes, _ x2: ActivationBytes, _ x3: ActivationBytes) -> SIMD4<Float> {
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    var m0 = SIMD8<Float>(), m1 = SIMD8<Float>(), m2 = SIMD8<Float>(), m3 = SIMD8<Float>()
    for b in 0..<blocks {
        let p = w + b * B.bytes, v = B.values(p), dm = B.scale(p)
        accumulateBytes(B.self, &a0, &m0, dot: dotBytes(v, x0.q + 32 * b), dm, dx: x0.d[b], sx: x0.s[b])
        accumulateBytes(B.self, &a1, &m1, dot: dotBytes(v, x1.q + 32 * b), dm, dx: x1.d[b], sx: x1.s[b])
        accumulateBytes(B.self, &a2, &m2, dot: dotBytes(v, x2.q + 32 * b), dm, dx: x2.d[b], sx: x2.s[b])
        accumulateBytes(B.self, &a3, &m3, dot: dotBytes(v, x3.q + 32 * b), dm, dx: x3.d[b], sx: x3.s[b])
    }
    return SIMD4(horizontalSum(a0 + m0), horizontalSum(a1 + m1), horizontalSum(a2 + m2), horizontalSum(a3 + m3))
}

/// This thread's share of the rows, all tokens: the avx2 set's `rows` for a 32-element block type.
@inline(__always)
func byteShare<B: ByteBlock>(_: B.Type, _ context: UnsafeRawPointer, _ thread: Int, _ threads: Int) {
    let job = context.load(as: MatMulJob.self)
    let w = job.w, blocks = w.cols / 32
    func act(_ t: Int) -> ActivationBytes { ActivationBytes(job.activations(t), cols: w.cols) }
    let share = rowShare(w.rows, thread: thread, threads: threads)
    forEachTile(share, tokens: job.tokens, rowBytes: w.rowBytes, into: job.y, yStride: job.yStride,
                one: { r, t in dotRowBytes(B.self, w.row(r), blocks: blocks, act(t)) },
                four: { r, t, last in
                    dotRowBytes4Tokens(B.self, w.row(r), blocks: blocks, act(t), act(min(t + 1, last)),
                                       act(min(t + 2, last)), act(min(t + 3, last)))
                })
}

extension ActivationKernels {
    /// Q8_0 values as bytes, with float scales and block sums.
    static let q8_0Bytes = ActivationKernels(type: .q8_0, rowBytes: { Q8_0Bytes.rowBytes(cols: $0) },
                                             quantize: { x, cols, _, out in quantizeActivationBytes(x, cols: cols, into: out) })
}

extension KernelSet {
    /// AVX2 integer kernels (vpmaddubsw) for Q5_0 and Q5_1; every other type, and wide matrices, as the generic set.
    static let avx2 = KernelSet(name: "avx2", entries: [
        MatMulKernels(weights: .q5_0, activations: .q8_0Bytes, rows: { c, t, n in byteShare(Q5_0ByteBlock.self, c, t, n) }),
        MatMulKernels(weights: .q5_1, activations: .q8_0Bytes, rows: { c, t, n in byteShare(Q5_1ByteBlock.self, c, t, n) }),
    ], base: generic)
}
#endif
