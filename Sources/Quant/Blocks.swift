// Quantize and dequantize one row of blocks, bit-identical to ggml's reference C code
// (ggml-quants.c quantize_row_*_ref / dequantize_row_*) and to gguf-py's gguf.quants: a pair of row functions
// per computable type, entered in the table (BlockFormat.swift), and the entry points that look them up.
//
// Block layouts (little-endian, packed):
//   Q8_0 (34 B / 32):  f16 d,        int8 q[32]             x = d·q
//   Q4_0 (18 B / 32):  f16 d,        u8 q[16] (2 nibbles)   x = d·(q − 8)
//   Q4_1 (20 B / 32):  f16 d, f16 m, u8 q[16] (2 nibbles)   x = d·q + m
// Byte j of a 4-bit block holds element j in its low nibble and element j+16 in its high one.

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
        let lo = nibble(x[j] * id + 8.5), hi = nibble(x[j + 16] * id + 8.5)
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
        let a = nibble((x[j] - lo) * id + 0.5), b = nibble((x[j + 16] - lo) * id + 0.5)
        out.storeBytes(of: a | (b << 4), toByteOffset: 4 + j, as: UInt8.self)
    }
}

/// Truncates to an unsigned byte and clips to 15, as gguf-py's `trunc(...).astype(uint8).clip(0, 15)`.
@inline(__always) func nibble(_ v: Float) -> UInt8 { min(15, UInt8(truncatingIfNeeded: truncX86(v))) }
