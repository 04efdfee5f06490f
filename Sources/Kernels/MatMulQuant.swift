// Integer dot products of Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 weight blocks with activations quantized like Q8_0.
//
// Activations: each 32-element block gets d = amax / 127 and q = round(x / d), exactly as quantizeRow(.q8_0)
// does (Quant/Blocks.swift); d is kept as its f16 value (what Q8_0 stores). The values are stored widened to
// Int16, so a block dot is two vpmaddwd (16 products each, summed in pairs into Int32 lanes) with the weights
// also widened to Int16: Q8_0 by sign extension, Q4_0 as nibble − 8, Q5_0 as 5 bits − 16, Q4_1 and Q5_1 as the
// bare value plus m·Σx, the Q8_1 term, with Σx = d·Σq kept exactly in a Float (ggml rounds it to f16).
//
// Per block and (row, token): acc += Float(dot) · (d_w · d_x) in 8 float lanes, summed at the end of the
// row. Which kernel computes a (row, token) depends only on the token's place in the batch, never on the
// thread count, so results are identical for any number of threads; a token computed in a group of four
// may differ in the last bits from the same token alone (the blocks are summed in another order).

import Quant

// MARK: activations

/// One token's Q8_0 activations in scratch (ActivationKernels.q8_0), `rowBytes(cols:)` apart:
/// Int16 q[cols] | Float d[cols/32] | Float s[cols/32] (s = d·Σq, used by Q4_1 and Q5_1).
enum Q8_0Activations {
    static func rowBytes(cols: Int) -> Int { (2 * cols + 8 * (cols / 32) + 63) & ~63 }
}

/// Quantizes one row of `cols` floats (a multiple of 32) into `out` (Q8_0Activations layout): to ±127 with
/// the scale rounded to f16, as ggml's Q8_0, or with `wide` to ±32767 with the scale kept in float. Either way
/// the products with weights (|q| ≤ 127 for every block type) and their sums in vpmaddwd's lanes (4 products
/// each) stay below 2³¹.
// Per block: vandps, vcmpps+vblendvps (max), vmulps, vroundps, vcmpps/vblendvps, vaddps (float→int via
// 1.5·2²³), vpshufb/vpermq (narrow to Int16); no calls.
@inline(never)
func quantizeActivations(_ x: UnsafePointer<Float>, cols: Int, wide: Bool, into out: UnsafeMutableRawPointer) {
    let blocks = cols / 32
    let d = (out + 2 * cols).assumingMemoryBound(to: Float.self)
    let s = d + blocks
    for b in 0..<blocks {
        let block = quantizeBlock(UnsafeRawPointer(x + 32 * b), wide: wide)
        let q = out + 64 * b
        q.storeBytes(of: narrow(block.q.0), as: SIMD8<Int16>.self)
        q.storeBytes(of: narrow(block.q.1), toByteOffset: 16, as: SIMD8<Int16>.self)
        q.storeBytes(of: narrow(block.q.2), toByteOffset: 32, as: SIMD8<Int16>.self)
        q.storeBytes(of: narrow(block.q.3), toByteOffset: 48, as: SIMD8<Int16>.self)
        d[b] = block.d
        s[b] = block.s
    }
}

/// One block of 32 activations: its integers, its scale as stored (f16-rounded unless wide) and s = d·Σq. Every
/// kernel set's activations are these values, so the sets differ only in how they multiply them.
@inline(__always)
func quantizeBlock(_ src: UnsafeRawPointer, wide: Bool)
    -> (q: (SIMD8<Int32>, SIMD8<Int32>, SIMD8<Int32>, SIMD8<Int32>), d: Float, s: Float) {
    let v0 = src.loadUnaligned(as: SIMD8<Float>.self)
    let v1 = src.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
    let v2 = src.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self)
    let v3 = src.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
    let m = maximum(maximum(magnitude(v0), magnitude(v1)), maximum(magnitude(v2), magnitude(v3)))
    let m4 = maximum(m.lowHalf, m.highHalf)
    let amax = max(max(m4[0], m4[1]), max(m4[2], m4[3]))
    let scale = amax / (wide ? 32767 : 127)
    let inverse: Float = scale != 0 ? 1 / scale : 0
    let q0 = roundedInt(v0 * inverse), q1 = roundedInt(v1 * inverse)
    let q2 = roundedInt(v2 * inverse), q3 = roundedInt(v3 * inverse)
    let stored = wide ? scale : Float(Float16(scale))     // Q8_0 keeps an f16 scale
    // Q8: exact (|Σq| < 2¹² fits with d's 11 bits); wide: rounded once.
    return ((q0, q1, q2, q3), stored, stored * Float(horizontalSum((q0 &+ q1) &+ (q2 &+ q3))))
}

@inline(__always) func magnitude(_ v: SIMD8<Float>) -> SIMD8<Float> {
    SIMD8<Float>(bitPattern: v.bitPattern & 0x7fff_ffff)
}

/// Lane-wise maximum: vmaxps. Written as a lane loop, which LLVM vectorizes; `replacing(with:where:)`
/// became a loop of scalar compares through the stack (12% of prompt processing).
@inline(__always) func maximum(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    var r = a
    for i in 0..<8 { r[i] = a[i] > b[i] ? a[i] : b[i] }
    return r
}

@inline(__always) func maximum(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> {
    var r = a
    for i in 0..<4 { r[i] = a[i] > b[i] ? a[i] : b[i] }
    return r
}

/// Rounds to the nearest integer, halves away from zero (Swift's and C's `roundf`), for |v| < 2²²:
/// trunc(v + copysign(0.49999997, v)), exact in that range (the sum never rounds up across an integer).
/// vandps, vorps, vaddps, vroundps, then the integer from the low mantissa bits after adding 1.5·2²³.
@inline(__always) func roundedInt(_ v: SIMD8<Float>) -> SIMD8<Int32> {
    let half = SIMD8<Float>(bitPattern: (v.bitPattern & 0x8000_0000) | SIMD8<Float>(repeating: 0.499_999_97).bitPattern)
    let t = (v + half).rounded(.towardZero)
    return (t + 12_582_912).bitPattern &- 0x4b40_0000
}

extension SIMD8<Float> {
    @inline(__always) init(bitPattern v: SIMD8<UInt32>) { self = unsafeBitCast(v, to: SIMD8<Float>.self) }
    @inline(__always) var bitPattern: SIMD8<UInt32> { unsafeBitCast(self, to: SIMD8<UInt32>.self) }
}

extension SIMD8<UInt32> {
    @inline(__always) static func &- (a: SIMD8<UInt32>, b: UInt32) -> SIMD8<Int32> {
        unsafeBitCast(a &- SIMD8<UInt32>(repeating: b), to: SIMD8<Int32>.self)
    }
}

@inline(__always) func narrow(_ v: SIMD8<Int32>) -> SIMD8<Int16> {
    SIMD8<Int16>(Int16(truncatingIfNeeded: v[0]), Int16(truncatingIfNeeded: v[1]),
                 Int16(truncatingIfNeeded: v[2]), Int16(truncatingIfNeeded: v[3]),
                 Int16(truncatingIfNeeded: v[4]), Int16(truncatingIfNeeded: v[5]),
                 Int16(truncatingIfNeeded: v[6]), Int16(truncatingIfNeeded: v[7]))
}

// MARK: weight blocks

/// A 32-element weight block format whose dots pair with Q8_0 activations: its 32 integers widened to Int16
/// (elements 0..<16 and 16..<32), its scale, and for Q4_1 and Q5_1 its minimum. (256-element super-blocks, with
/// several scales each, pair with Q8_K activations and have kernels of their own.)
protocol Block32 {
    static var bytes: Int { get }
    static func values(_ p: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>)
    /// Whether blocks have a minimum m (x = d·q + m, m the f16 after d): then the dot adds m·Σx.
    static var hasMinimum: Bool { get }
}

/// The block's scale d and (for Q4_1, Q5_1) m/8, each in all 8 lanes, from the f16 values at its start.
/// Without a minimum: vpbroadcastw, vcvtph2ps, vpermps. (Converting a lone 16-bit load instead compiles to
/// vpinsrw into whatever register LLVM picks, often an accumulator, which made every block wait for the
/// previous block's FMA and halved the speed.) With one: vmovq, vcvtph2ps, both lanes used, no vpinsrw.
@inline(__always) func scaleAndMinimum<B: Block32>(_: B.Type, _ p: UnsafeRawPointer)
    -> (d: SIMD8<Float>, m8: SIMD8<Float>) {
    if B.hasMinimum {
        let h = floats(p.loadUnaligned(as: SIMD4<Float16>.self))   // every block is ≥ 8 bytes
        return (SIMD8(repeating: h[0]), SIMD8(repeating: h[1] * 0.125))
    }
    let bits = SIMD8<UInt32>(repeating: p.loadUnaligned(as: UInt32.self))
    let f = floats(unsafeBitCast(bits, to: SIMD16<Float16>.self).lowHalf)   // d, ·, d, ·, ...
    return (SIMD8(f[0], f[0], f[0], f[0], f[4], f[4], f[4], f[4]), SIMD8())
}

enum Q8_0Block: Block32 {
    static var bytes: Int { 34 }
    // 2× vpmovsxbw ymm, mem
    @inline(__always) static func values(_ p: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>) {
        (widen(p.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self)),
         widen(p.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self)))
    }
    static var hasMinimum: Bool { false }
}

enum Q4_0Block: Block32 {
    static var bytes: Int { 18 }
    // vpmovzxbw ymm, mem; vpand; vpsrlw; 2× vpaddw (−8)
    @inline(__always) static func values(_ p: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>) {
        let q = widen(p.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self))
        return ((q & 0xf) &- 8, (q &>> 4) &- 8)
    }
    static var hasMinimum: Bool { false }
}

enum Q4_1Block: Block32 {
    static var bytes: Int { 20 }
    // vpmovzxbw ymm, mem; vpand; vpsrlw
    @inline(__always) static func values(_ p: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>) {
        let q = widen(p.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self))
        return (q & 0xf, q &>> 4)
    }
    static var hasMinimum: Bool { true }
}

enum Q5_0Block: Block32 {
    static var bytes: Int { 22 }
    // Q4_0's unpack with fifthBits or'ed in: its vpand, vpcmpeqw, vpacksswb, and the rest in bytes
    @inline(__always) static func values(_ p: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>) {
        let q = widen(p.loadUnaligned(fromByteOffset: 6, as: SIMD16<UInt8>.self))
        let h = fifthBits(p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        return (((q & 0xf) | h.0) &- 16, ((q &>> 4) | h.1) &- 16)
    }
    static var hasMinimum: Bool { false }
}

enum Q5_1Block: Block32 {
    static var bytes: Int { 24 }
    // Q4_1's unpack with fifthBits or'ed in
    @inline(__always) static func values(_ p: UnsafeRawPointer) -> (SIMD16<Int16>, SIMD16<Int16>) {
        let q = widen(p.loadUnaligned(fromByteOffset: 8, as: SIMD16<UInt8>.self))
        let h = fifthBits(p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        return ((q & 0xf) | h.0, (q &>> 4) | h.1)
    }
    static var hasMinimum: Bool { true }
}

/// Bit i of `qh` (little-endian, as stored) as 16 in lane i of 32, else 0: each half's 16 bits in every lane,
/// tested against the lane's bit (vpbroadcastw, vpand, vpcmpeqw). A multiply moving each lane's bit to the sign
/// (AVX2 has no per-lane 16-bit shift) compiled to twice the instructions, with blends; `replacing(with:where:)`
/// instead of the mask's bits kept this function from being inlined (a call per block).
@inline(__always) func fifthBits(_ stored: UInt32) -> (SIMD16<Int16>, SIMD16<Int16>) {
    let qh = UInt32(littleEndian: stored)
    let bit = SIMD16<Int16>(1, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5, 1 << 6, 1 << 7,
                            1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12, 1 << 13, 1 << 14, .min)
    let lo = SIMD16<Int16>(repeating: Int16(truncatingIfNeeded: qh)) & bit
    let hi = SIMD16<Int16>(repeating: Int16(truncatingIfNeeded: qh >> 16)) & bit
    return (lanes(lo .== bit) & 16, lanes(hi .== bit) & 16)
}

/// A comparison's lanes as integers, −1 where true (a SIMDMask stores exactly these).
@inline(__always) func lanes(_ m: SIMDMask<SIMD16<Int16>>) -> SIMD16<Int16> {
    unsafeBitCast(m, to: SIMD16<Int16>.self)
}

@inline(__always) func widen(_ x: SIMD16<Int8>) -> SIMD16<Int16> {
    var r = SIMD16<Int16>()
    for i in 0..<16 { r[i] = Int16(x[i]) }
    return r
}

@inline(__always) func widen(_ x: SIMD16<UInt8>) -> SIMD16<Int16> {
    var r = SIMD16<Int16>()
    for i in 0..<16 { r[i] = Int16(x[i]) }
    return r
}

@inline(__always) func widen(_ x: SIMD16<Int16>) -> SIMD16<Int32> {
    var r = SIMD16<Int32>()
    for i in 0..<16 { r[i] = Int32(x[i]) }
    return r
}

/// Σ of products in adjacent pairs: one vpmaddwd (LLVM matches this sext/mul/even+odd shape).
@inline(__always) func multiplyAddPairs(_ a: SIMD16<Int16>, _ b: SIMD16<Int16>) -> SIMD8<Int32> {
    let p = widen(a) &* widen(b)
    return p.evenHalf &+ p.oddHalf
}

/// One block of one (row, token): the step every kernel shares. `acc` gathers d·dx·dot, `accMin` (Q4_1)
/// m/8·s in each of its 8 lanes; two accumulators so that neither waits on the other's FMA.
/// `x` points at the token's 32 Int16 values of this block.
@inline(__always)
func accumulate<B: Block32>(_: B.Type, _ acc: inout SIMD8<Float>, _ accMin: inout SIMD8<Float>,
                            _ w: (SIMD16<Int16>, SIMD16<Int16>), _ dm: (d: SIMD8<Float>, m8: SIMD8<Float>),
                            x: UnsafeRawPointer, dx: Float, sx: Float) {
    let dot = multiplyAddPairs(w.0, x.loadUnaligned(as: SIMD16<Int16>.self))
        &+ multiplyAddPairs(w.1, x.loadUnaligned(fromByteOffset: 32, as: SIMD16<Int16>.self))
    acc = acc.addingProduct(SIMD8<Float>(dot), dm.d * SIMD8<Float>(repeating: dx))
    if B.hasMinimum {
        accMin = accMin.addingProduct(dm.m8, SIMD8<Float>(repeating: sx))
    }
}


// MARK: kernels

/// Pointers into one token's quantized activations.
struct ActivationRow {
    let q: UnsafeRawPointer               // Int16 values
    let d: UnsafePointer<Float>, s: UnsafePointer<Float>
    init(_ base: UnsafeRawPointer, cols: Int) {
        q = base
        d = (base + 2 * cols).assumingMemoryBound(to: Float.self)
        s = d + cols / 32
    }
}

/// One row, one token (token generation, and the last tokens of a batch). Even and odd blocks go to
/// separate accumulators so that consecutive blocks do not wait on each other's FMA. Rows are taken one at
/// a time: two or four rows interleaved ran at a third of the memory bandwidth (the hardware prefetcher
/// here follows one stream per loop far better than several).
// Loop body per 2 blocks: 2× (weight unpack, 2× vpmaddwd ymm, mem, vpaddd, vcvtdq2ps, vmulps,
// vfmadd231ps); no calls.
@inline(never)
func dotRow<B: Block32>(_: B.Type, _ w: UnsafeRawPointer, blocks: Int, _ x: ActivationRow) -> Float {
    var a0 = SIMD8<Float>(), m0 = SIMD8<Float>(), a1 = SIMD8<Float>(), m1 = SIMD8<Float>()
    var b = 0
    while b + 2 <= blocks {
        let p = w + b * B.bytes, p1 = p + B.bytes
        accumulate(B.self, &a0, &m0, B.values(p), scaleAndMinimum(B.self, p), x: x.q + 64 * b, dx: x.d[b], sx: x.s[b])
        accumulate(B.self, &a1, &m1, B.values(p1), scaleAndMinimum(B.self, p1), x: x.q + 64 * (b + 1),
                   dx: x.d[b + 1], sx: x.s[b + 1])
        b += 2
    }
    if b < blocks {
        let p = w + b * B.bytes
        accumulate(B.self, &a0, &m0, B.values(p), scaleAndMinimum(B.self, p), x: x.q + 64 * b, dx: x.d[b], sx: x.s[b])
    }
    return horizontalSum((a0 + a1) + (m0 + m1))
}

/// One row, four tokens (prompt processing): each weight block is unpacked once for four tokens.
// Loop body per block: 1 weight unpack, then 4× (2× vpmaddwd ymm, mem, vpaddd, vcvtdq2ps, vmulps,
// vfmadd231ps); no calls.
@inline(never)
func dotRow4Tokens<B: Block32>(_: B.Type, _ w: UnsafeRawPointer, blocks: Int,
                               _ x0: ActivationRow, _ x1: ActivationRow, _ x2: ActivationRow,
                               _ x3: ActivationRow) -> SIMD4<Float> {
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    var m0 = SIMD8<Float>(), m1 = SIMD8<Float>(), m2 = SIMD8<Float>(), m3 = SIMD8<Float>()
    for b in 0..<blocks {
        let p = w + b * B.bytes
        let v = B.values(p), dm = scaleAndMinimum(B.self, p)
        accumulate(B.self, &a0, &m0, v, dm, x: x0.q + 64 * b, dx: x0.d[b], sx: x0.s[b])
        accumulate(B.self, &a1, &m1, v, dm, x: x1.q + 64 * b, dx: x1.d[b], sx: x1.s[b])
        accumulate(B.self, &a2, &m2, v, dm, x: x2.q + 64 * b, dx: x2.d[b], sx: x2.s[b])
        accumulate(B.self, &a3, &m3, v, dm, x: x3.q + 64 * b, dx: x3.d[b], sx: x3.s[b])
    }
    return SIMD4(horizontalSum(a0 + m0), horizontalSum(a1 + m1), horizontalSum(a2 + m2), horizontalSum(a3 + m3))
}

// MARK: driver

/// This thread's share of the rows, all tokens: a KernelSet entry's `rows` for a 32-element block type.
@inline(__always)
func quantizedShare<B: Block32>(_: B.Type, _ context: UnsafeRawPointer, _ thread: Int, _ threads: Int) {
    let job = context.load(as: MatMulJob.self)
    let w = job.w, blocks = w.cols / 32
    func act(_ t: Int) -> ActivationRow { ActivationRow(job.activations(t), cols: w.cols) }
    let share = rowShare(w.rows, thread: thread, threads: threads)
    forEachTile(share, tokens: job.tokens, rowBytes: w.rowBytes, into: job.y, yStride: job.yStride,
                one: { r, t in dotRow(B.self, w.row(r), blocks: blocks, act(t)) },
                four: { r, t, last in
                    dotRow4Tokens(B.self, w.row(r), blocks: blocks, act(t), act(min(t + 1, last)),
                                  act(min(t + 2, last)), act(min(t + 3, last)))
                })
}
