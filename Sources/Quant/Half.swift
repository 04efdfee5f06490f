// Scalar conversions between Float and the 16-bit formats, with ggml's rounding.
// F16: IEEE binary16, round to nearest even (F16C `vcvtps2ph` on Haswell builds).
// BF16: ggml_compute_fp32_to_bf16: round to nearest even; NaN stays a quiet NaN.

@inline(__always) public func f16Bits(_ x: Float) -> UInt16 { Float16(x).bitPattern }

@inline(__always) public func floatFromF16(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }

@inline(__always) public func bf16Bits(_ x: Float) -> UInt16 {
    let u = x.bitPattern
    if u & 0x7fff_ffff > 0x7f80_0000 { return UInt16(truncatingIfNeeded: (u >> 16) | 64) }  // quiet the NaN
    return UInt16(truncatingIfNeeded: (UInt64(u) + UInt64(0x7fff + ((u >> 16) & 1))) >> 16)
}

@inline(__always) public func floatFromBF16(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }
