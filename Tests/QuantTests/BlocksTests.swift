// Quant blocks against gguf-py's gguf.quants: bytes and dequantized floats must be bit-identical.
// Fixtures: tools/reference/make_fixtures.py → Tests/Fixtures/quant (edge cases: ties, zeros, subnormals, huge).

import Foundation
import Quant
import Testing

let quantFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../Fixtures/quant").standardized

func load(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: quantFixtures.appendingPathComponent(name)))
}

func floats(_ bytes: [UInt8]) -> [Float] {
    bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

let caseNames: [String] = {
    let text = (try? String(contentsOf: quantFixtures.appendingPathComponent("cases.txt"), encoding: .utf8)) ?? ""
    return text.split(separator: "\n").map(String.init)
}()

let types: [GGMLType] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .f16, .bf16]

@Test func fixturesArePresent() {
    #expect(caseNames.count >= 10, "Tests/Fixtures/quant/cases.txt lists \(caseNames.count) cases")
}

@Test(arguments: types)
func quantizeRowMatchesGGUFPy(type: GGMLType) throws {
    for name in caseNames {
        let x = floats(try load("\(name).f32"))
        let expected = try load("\(name).\(type.name.lowercased())")
        var out = [UInt8](repeating: 0xAA, count: type.byteCount(elements: x.count)!)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBytes { quantizeRow(src.baseAddress!, count: x.count, as: type, into: $0.baseAddress!) }
        }
        let firstDiff = zip(out, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(out == expected, "\(name) as \(type.name): first differing byte \(firstDiff ?? -1)")
    }
}

@Test(arguments: types)
func dequantizeRowMatchesGGUFPy(type: GGMLType) throws {
    for name in caseNames {
        let blocks = try load("\(name).\(type.name.lowercased())")
        let expected = floats(try load("\(name).\(type.name.lowercased()).deq.f32"))
        var out = [Float](repeating: .nan, count: expected.count)
        blocks.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { dequantizeRow(src.baseAddress!, count: expected.count, as: type, into: $0.baseAddress!) }
        }
        // Bit patterns, so -0.0 vs 0.0 or a changed NaN payload would be caught too.
        #expect(out.map(\.bitPattern) == expected.map(\.bitPattern), "\(name) as \(type.name)")
    }
}

@Test func f16RoundsToNearestEven() {
    // 1 + 2^-11 lies exactly between two F16 values (1 and 1 + 2^-10): ties go to the even one, 1.
    #expect(f16Bits(1 + 0x1p-11) == 0x3c00)
    #expect(f16Bits(1 + 3 * 0x1p-11) == 0x3c02)
    #expect(f16Bits(65520) == 0x7c00)  // rounds up past the largest finite F16 to infinity
}

@Test func bf16KeepsNaNQuiet() {
    let signalling = Float(bitPattern: 0x7f80_0001)
    #expect(floatFromBF16(bf16Bits(signalling)).isNaN)
    #expect(bf16Bits(1 + 0x1p-8) == 0x3f80)  // tie to even
}

@Test func byteCountRejectsPartialBlocksAndOverflow() {
    #expect(GGMLType.q8_0.byteCount(elements: 33) == nil)
    #expect(GGMLType.q8_0.byteCount(elements: 64) == 68)
    #expect(GGMLType.f32.byteCount(elements: Int.max / 2) == nil)
    #expect(GGMLType(name: "Q4_1") == .q4_1 && GGMLType(name: "q4_1") == .q4_1 && GGMLType(name: "q9") == nil)
}
