// Quantize and dequantize one row of blocks, bit-identical to ggml's reference C code
// (ggml-quants.c quantize_row_*_ref / dequantize_row_*) and to gguf-py's gguf.quants: a pair of row functions
// per computable type, entered in the table (BlockFormat.swift), and the entry points that look them up.
//
// Block layouts (little-endian, packed):
//   Q8_0 (34 B / 32):  f16 d,        int8 q[32]             x = d·q
//   Q4_0 (18 B / 32):  f16 d,        u8 q[16] (2 nibbles)   x = d·(q − 8)
//   Q4_1 (20 B / 32):  f16 d, f16 m, u8 q[16] (2 nibbles)   x = d·q + m
//   Q5_0 (22 B / 32):  f16 d,        u32 qh, u8 q[16]       x = d·(q − 16)
//   Q5_1 (24 B / 32):  f16 d, f16 m, u32 qh, u8 q[16]       x = d·q + m
// Byte j of a 4-bit block holds element j in its low nibble and element j+16 in its high one; the 5-bit blocks
// store their low 4 bits so, and bit j of qh (little-endian) is element j's fifth.

/// Converts a float to an integer the way x86's `cvttss2si` does (as numpy's and ggml's casts do on
/// this machine): truncation toward zero, and NaN or out-of-range values give Int32.min.
@inline(__always) func truncX86(_ v: Float) -> Int32 {
    guard v.isFinite, v > -2_147_483_648, v < 2_147_483_648 else { return Int32.min }
    return Int32(v)
}

/// Quantizes `count` floats (a whole number of blocks) into `type`'s blocks at `dst`.
/// - Precondition: `type.isComputable` and `count % type.blockSize == 0`; `dst` holds `type.byteCount(count)` bytes.
public func quantizeRow(_ src: UnsafePointer<Float>, count: Int, as type: GGMLType, into dst: UnsafeMutableRawPointer) {
    let f = type.format
    guard let codec = f.codec else { preconditionFailure("quantizeRow: \(type.name) is not computable") }
    precondition(count % f.size == 0, "row of \(count) is not whole \(type.name) blocks")
    codec.quantize(src, count, dst)
}

/// Expands `count` elements of `type` at `src` into floats.
/// - Precondition: `type.isComputable` and `count % type.blockSize == 0`.
public func dequantizeRow(_ src: UnsafeRawPointer, count: Int, as type: GGMLType, into dst: UnsafeMutablePointer<Float>) {
    let f = type.format
    guard let codec = f.codec else { preconditionFailure("dequantizeRow: \(type.name) is not computable") }
    precondition(count % f.size == 0, "row of \(count) is not whole \(type.name) blocks")
    codec.dequantize(src, count, dst)
}

// MARK: rows, one pair per computable type (the table's codecs)

func quantizeRowF32(_ src: UnsafePointer<Float>, _ count: Int, _ dst: UnsafeMutableRawPointer) {
    dst.copyMemory(from: src, byteCount: count * 4)
}

func dequantizeRowF32(_ src: UnsafeRawPointer, _ count: Int, _ dst: UnsafeMutablePointer<Float>) {
    dst.update(from: src.assumingMemoryBound(to: Float.self), count: count)
}

func quantizeRowF16(_ src: UnsafePointer<Float>, _ count: Int, _ dst: UnsafeMutableRawPointer) {
    let out = dst.assumingMemoryBound(to: UInt16.self)
    for i in 0..<count { out[i] = f16Bits(src[i]) }
}

func dequantizeRowF16(_ src: UnsafeRawPointer, _ count: Int, _ dst: UnsafeMutablePointer<Float>) {
    for i in 0..<count { dst[i] = floatFromF16(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
}

func quantizeRowBF16(_ src: UnsafePointer<Float>, _ count: Int, _ dst: UnsafeMutableRawPointer) {
    let out = dst.assumingMemoryBound(to: UInt16.self)
    for i in 0..<count { out[i] = bf16Bits(src[i]) }
}

func dequantizeRowBF16(_ src: UnsafeRawPointer, _ count: Int, _ dst: UnsafeMutablePointer<Float>) {
    for i in 0..<count { dst[i] = floatFromBF16(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
}

func quantizeRowQ8_0(_ src: UnsafePointer<Float>, _ count: Int, _ dst: UnsafeMutableRawPointer) {
    for b in 0..<count / 32 { quantizeBlockQ8_0(src + b * 32, dst + b * 34) }
}

func dequantizeRowQ8_0(_ src: UnsafeRawPointer, _ count: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<count / 32 {
        let block = src + b * 34, out = dst + b * 32
        let d = floatFromF16(block.loadUnaligned(as: UInt16.self))
        for j in 0..<32 { out[j] = d * Float(block.load(fromByteOffset: 2 + j, as: Int8.self)) }
    }
}

func quantizeRowQ4_0(_ src: UnsafePointer<Float>, _ count: Int, _ dst: UnsafeMutableRawPointer) {
    for b in 0..<count / 32 { quantizeBlockQ4_0(src + b * 32, dst + b * 18) }
}

func dequantizeRowQ4_0(_ src: UnsafeRawPointer, _ count: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<count / 32 {
        let block = src + b * 18, out = dst + b * 32
        let d = floatFromF16(block.loadUnaligned(as: UInt16.self))
        for j in 0..<16 {
            let q = block.load(fromByteOffset: 2 + j, as: UInt8.self)
            out[j] = d * Float(Int32(q & 0xf) - 8)
            out[j + 16] = d * Float(Int32(q >> 4) - 8)
        }
    }
}

func quantizeRowQ4_1(_ src: UnsafePointer<Float>, _ count: Int, _ dst: UnsafeMutableRawPointer) {
    for b in 0..<count / 32 { quantizeBlockQ4_1(src + b * 32, dst + b * 20) }
}

func dequantizeRowQ4_1(_ src: UnsafeRawPointer, _ count: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<count / 32 {
        let block = src + b * 20, out = dst + b * 32
        let d = floatFromF16(block.loadUnaligned(as: UInt16.self))
        let m = floatFromF16(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        for j in 0..<16 {
            let q = block.load(fromByteOffset: 4 + j, as: UInt8.self)
            out[j] = d * Float(q & 0xf) + m
            out[j + 16] = d * Float(q >> 4) + m
        }
    }
}

func quantizeRowQ5_0(_ src: UnsafePointer<Float>, _ count: Int, _ dst: UnsafeMutableRawPointer) {
    for b in 0..<count / 32 { quantizeBlockQ5_0(src + b * 32, dst + b * 22) }
}

func dequantizeRowQ5_0(_ src: UnsafeRawPointer, _ count: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<count / 32 {
        let block = src + b * 22, out = dst + b * 32
        let d = floatFromF16(block.loadUnaligned(as: UInt16.self))
        let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        for j in 0..<16 {
            let q = block.load(fromByteOffset: 6 + j, as: UInt8.self)
            out[j] = d * Float(Int32(fiveBits(q & 0xf, qh, j)) - 16)
            out[j + 16] = d * Float(Int32(fiveBits(q >> 4, qh, j + 16)) - 16)
        }
    }
}

func quantizeRowQ5_1(_ src: UnsafePointer<Float>, _ count: Int, _ dst: UnsafeMutableRawPointer) {
    for b in 0..<count / 32 { quantizeBlockQ5_1(src + b * 32, dst + b * 24) }
}

func dequantizeRowQ5_1(_ src: UnsafeRawPointer, _ count: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<count / 32 {
        let block = src + b * 24, out = dst + b * 32
        let d = floatFromF16(block.loadUnaligned(as: UInt16.self))
        let m = floatFromF16(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        for j in 0..<16 {
            let q = block.load(fromByteOffset: 8 + j, as: UInt8.self)
            out[j] = d * Float(fiveBits(q & 0xf, qh, j)) + m
            out[j + 16] = d * Float(fiveBits(q >> 4, qh, j + 16)) + m
        }
    }
}

/// Element `j`'s 5-bit value: its low 4 bits `low` and bit j of `qh`.
@inline(__always) func fiveBits(_ low: UInt8, _ qh: UInt32, _ j: Int) -> UInt8 {
    low | UInt8(truncatingIfNeeded: (qh >> UInt32(j)) & 1) << 4
}

@inline(__always) func quantizeBlockQ8_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
    var amax: Float = 0
    for j in 0..<32 { amax = max(amax, abs(x[j])) }
    let d = amax / 127
    let id: Float = d != 0 ? 1 / d : 0
    out.storeBytes(of: f16Bits(d), as: UInt16.self)
    for j in 0..<32 {
        // roundf: nearest, ties away from zero (Swift's default rounding rule)
        let q = truncX86((x[j] * id).rounded())
        out.storeBytes(of: Int8(truncatingIfNeeded: q), toByteOffset: 2 + j, as: Int8.self)
    }
}

@inline(__always) func quantizeBlockQ4_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
    // The first element of largest magnitude, sign kept (numpy's argmax). Starting from x[0] rather than
    // ggml C's 0 only matters for a block of -0.0, where gguf-py stores d = +0 and ggml C d = -0.
    var amax = abs(x[0]), maxValue = x[0]
    for j in 1..<32 where amax < abs(x[j]) { amax = abs(x[j]); maxValue = x[j] }
    let d = maxValue / -8
    let id: Float = d != 0 ? 1 / d : 0
    out.storeBytes(of: f16Bits(d), as: UInt16.self)
    for j in 0..<16 {
        let lo = clipped(x[j] * id + 8.5, 15), hi = clipped(x[j + 16] * id + 8.5, 15)
        out.storeBytes(of: lo | (hi << 4), toByteOffset: 2 + j, as: UInt8.self)
    }
}

@inline(__always) func quantizeBlockQ4_1(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
    var lo = x[0], hi = x[0]
    for j in 1..<32 { lo = min(lo, x[j]); hi = max(hi, x[j]) }
    let d = (hi - lo) / 15
    let id: Float = d != 0 ? 1 / d : 0
    out.storeBytes(of: f16Bits(d), as: UInt16.self)
    out.storeBytes(of: f16Bits(lo), toByteOffset: 2, as: UInt16.self)
    for j in 0..<16 {
        let a = clipped((x[j] - lo) * id + 0.5, 15), b = clipped((x[j + 16] - lo) * id + 0.5, 15)
        out.storeBytes(of: a | (b << 4), toByteOffset: 4 + j, as: UInt8.self)
    }
}

@inline(__always) func quantizeBlockQ5_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
    // As Q4_0, with 16 steps each side: the first element of largest magnitude (sign kept) becomes −16.
    var amax = abs(x[0]), maxValue = x[0]
    for j in 1..<32 where amax < abs(x[j]) { amax = abs(x[j]); maxValue = x[j] }
    let d = maxValue / -16
    let id: Float = d != 0 ? 1 / d : 0
    out.storeBytes(of: f16Bits(d), as: UInt16.self)
    var qh: UInt32 = 0
    for j in 0..<16 {
        let lo = clipped(x[j] * id + 16.5, 31), hi = clipped(x[j + 16] * id + 16.5, 31)
        out.storeBytes(of: (lo & 0xf) | (hi << 4), toByteOffset: 6 + j, as: UInt8.self)
        qh |= UInt32(lo >> 4) << UInt32(j) | UInt32(hi >> 4) << UInt32(j + 16)
    }
    out.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
}

@inline(__always) func quantizeBlockQ5_1(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
    var lo = x[0], hi = x[0]
    for j in 1..<32 { lo = min(lo, x[j]); hi = max(hi, x[j]) }
    let d = (hi - lo) / 31
    let id: Float = d != 0 ? 1 / d : 0
    out.storeBytes(of: f16Bits(d), as: UInt16.self)
    out.storeBytes(of: f16Bits(lo), toByteOffset: 2, as: UInt16.self)
    var qh: UInt32 = 0
    for j in 0..<16 {
        // ggml's C code does not clip here ((uint8_t) of at most 31.5); gguf-py clips to 31, which we follow.
        let a = clipped((x[j] - lo) * id + 0.5, 31), b = clipped((x[j + 16] - lo) * id + 0.5, 31)
        out.storeBytes(of: (a & 0xf) | (b << 4), toByteOffset: 8 + j, as: UInt8.self)
        qh |= UInt32(a >> 4) << UInt32(j) | UInt32(b >> 4) << UInt32(j + 16)
    }
    out.storeBytes(of: qh.littleEndian, toByteOffset: 4, as: UInt32.self)
}

/// Truncates to an unsigned byte and clips to `top`, as gguf-py's `trunc(...).astype(uint8).clip(0, top)`.
@inline(__always) func clipped(_ v: Float, _ top: UInt8) -> UInt8 { min(top, UInt8(truncatingIfNeeded: truncX86(v))) }
