// The table of types (BlockFormat.swift): what derives from it, and a quantize/dequantize round trip for every
// type it marks computable, within a bound derived from the block format.

import Quant
import Testing

@Test func everyTypeDerivesFromItsTableEntry() {
    for t in GGMLType.allCases {
        let f = t.format
        #expect(t.blockSize == f.size && t.blockBytes == f.bytes, "\(t.name)")
        #expect(t.isComputable == (f.codec != nil), "\(t.name)")
        #expect(f.size >= 1 && f.bytes >= 1, "\(t.name)")
        guard let codec = f.codec else { continue }
        // The activations' blocks must tile the weights' (ggml pairs Q4_0 with Q8_0, Q4_K with Q8_K).
        #expect(codec.dotType.isComputable && f.size % codec.dotType.blockSize == 0, "\(t.name) pairs with \(codec.dotType.name)")
    }
}

/// Round-trip error per element, as a fraction of its block's largest magnitude amax, and why:
/// F16 and BF16 round to nearest (half an ulp: 2⁻¹¹, 2⁻⁸ of the value). Q8_0: d = amax/127, rounding
/// gives ≤ d/2, and d kept in f16 adds ≤ 127·2⁻¹¹·d. Q4_0: d = amax/8, and the element opposite in sign
/// to the largest clips from 8 steps to 7: ≤ d, plus 8·2⁻¹¹·d for f16. Q4_1: d = (max − min)/15 ≤ 2·amax/15,
/// rounding ≤ d/2, plus f16 rounding of d (15 steps) and of m (≤ amax): ≤ amax·(1/15 + 2·2⁻¹¹ + 2⁻¹¹).
/// Q5_0 and Q5_1 as Q4_0 and Q4_1 with 16 and 31 steps: d = amax/16 (the clip from 16 to 15 ≤ d, f16 16·2⁻¹¹·d),
/// and ≤ amax·(1/31 + 3·2⁻¹¹). A new computable type fails here until its bound is added.
private let roundTripBound: [GGMLType: Float] = [
    .f32: 0, .f16: 0x1p-11, .bf16: 0x1p-8,
    .q8_0: 1.0 / 254 + 0x1p-11,
    .q4_0: 1.0 / 8 + 0x1p-11,
    .q4_1: 1.0 / 15 + 3 * 0x1p-11,
    .q5_0: 1.0 / 16 + 0x1p-11,
    .q5_1: 1.0 / 31 + 3 * 0x1p-11,
]

@Test(arguments: GGMLType.allCases.filter(\.isComputable))
func quantizeDequantizeRoundTripsWithinTheFormatsBound(_ type: GGMLType) throws {
    let bound = try #require(roundTripBound[type], "no round-trip bound for \(type.name)")
    // Rows of 512 (whole blocks of 32 and of 256) at scales that keep every block's scale a normal f16;
    // subnormal and overflowing scales are the gguf-py fixtures' cases (BlocksTests).
    let cols = 512
    var seed: UInt64 = 12345
    for scale: Float in [0.5, 1, 300] {
        let x = (0..<cols).map { i -> Float in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return (Float(Int64(bitPattern: seed >> 11) % 2000) / 1000 - 1) * scale * (i % 96 < 48 ? 1 : 0.05)
        }
        var bytes = [UInt8](repeating: 0, count: try #require(type.byteCount(elements: cols)))
        var back = [Float](repeating: .nan, count: cols)
        x.withUnsafeBufferPointer { src in
            bytes.withUnsafeMutableBytes { quantizeRow(src.baseAddress!, count: cols, as: type, into: $0.baseAddress!) }
        }
        bytes.withUnsafeBytes { src in
            back.withUnsafeMutableBufferPointer { dequantizeRow(src.baseAddress!, count: cols, as: type, into: $0.baseAddress!) }
        }
        let n = type.blockSize == 1 ? 32 : type.blockSize   // scalar types: judge each element against a 32-block
        for b in 0..<cols / n {
            let block = b * n..<(b + 1) * n
            let amax = block.map { abs(x[$0]) }.max()!
            let worst = block.map { abs(x[$0] - back[$0]) }.max()!
            #expect(worst <= amax * bound, "\(type.name) scale \(scale) block \(b): error \(worst), amax \(amax)")
        }
    }
}
