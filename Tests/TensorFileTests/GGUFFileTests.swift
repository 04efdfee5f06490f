// The GGUF reader and writer against a file written by gguf-py (Tests/Fixtures/gguf/python.gguf) and
// its listing by gguf.GGUFReader (python.json); plus truncation and byte-flip sweeps that must never crash.

import Foundation
import Quant
import Testing
import TestSupport
@testable import TensorFile

let ggufFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../Fixtures/gguf").standardized
let pythonGGUF = ggufFixtures.appendingPathComponent("python.gguf").path

func fixtureJSON(_ url: URL) throws -> JSONValue {
    try JSONValue.parse(contentsOf: url.path)
}

/// Whether our value equals gguf-py's JSON rendering of it (floats compared at their stored precision).
func matches(_ v: GGUFValue, _ j: JSONValue) -> Bool {
    switch v {
    case let .float32(f): return j.double.map { Float($0).bitPattern == f.bitPattern } ?? false
    case let .float64(d): return j.double.map { $0.bitPattern == d.bitPattern || $0 == d } ?? false
    case let .bool(b): return j.bool == b
    case let .string(s): return j.string == s
    case let .uint64(u): return j.double == Double(u)  // 2^64-1 parses as a double
    case let .array(a):
        guard let items = j.array, items.count == a.count else { return false }
        switch a {
        case let .float32(x): return zip(x, items).allSatisfy { matches(.float32($0), $1) }
        case let .float64(x): return zip(x, items).allSatisfy { matches(.float64($0), $1) }
        case let .bool(x): return zip(x, items).allSatisfy { $1.bool == $0 }
        case let .string(x): return zip(x, items).allSatisfy { $1.string == $0 }
        default: return a.integers.map { zip($0, items).allSatisfy { $1.int == $0 } } ?? false
        }
    default: return v.integer != nil && j.int == v.integer
    }
}

@Test func readsWhatGGUFPyWrote() throws {
    let f = try GGUFFile(path: pythonGGUF)
    let expected = try fixtureJSON(ggufFixtures.appendingPathComponent("python.json"))
    let meta = try #require(expected["metadata"]?.object)
    #expect(f.metadata.map(\.key) == meta.keys)
    for (key, value) in f.metadata {
        #expect(matches(value, meta[key] ?? .null), "\(key): \(value) vs \(meta[key] ?? .null)")
    }
    let tensors = try #require(expected["tensors"]?.array)
    #expect(f.tensors.count == tensors.count)
    let hashes = try #require(try fixtureJSON(ggufFixtures.appendingPathComponent("python_hashes.json"))["fnv1a64"])
    for (t, e) in zip(f.tensors, tensors) {
        #expect(t.name == e["name"]?.string && t.type.name == e["type"]?.string)
        #expect(t.shape == e["shape"]?.array?.compactMap(\.int), "\(t.name) shape")
        #expect(t.offset == e["offset"]?.int && t.byteCount == e["bytes"]?.int, "\(t.name) offset/bytes")
        #expect(fnv1a64(try f.tensor(t.name).bytes) == hashes[t.name]?.string, "\(t.name) data")
    }
}

@Test func gettersCheckTheStoredType() throws {
    let f = try GGUFFile(path: pythonGGUF)
    #expect(try f.int("test.uint32") == 4_000_000_000)   // any integer type is accepted for counts
    #expect(try f.int("test.int8") == -100)
    #expect(throws: TensorFileError.wrongType(key: "test.uint64", expected: "an integer", found: "uint64")) {
        _ = try f.int("test.uint64")  // 2^64-1 does not fit in Int
    }
    #expect(throws: TensorFileError.wrongType(key: "test.string", expected: "an integer", found: "string")) {
        _ = try f.int("test.string")
    }
    #expect(throws: TensorFileError.wrongType(key: "test.array.int32", expected: "array of string", found: "array of int32")) {
        _ = try f.stringArray("test.array.int32")  // a tokenizer array of the wrong element type
    }
    #expect(throws: TensorFileError.missingKey("no.such.key")) { _ = try f.float("no.such.key") }
    #expect(try f.stringArray("test.array.string") == ["alpha", "", "γάμμα", "<|endoftext|>", "a b"])
    #expect(try f.float("test.float32") == 0.1)
    #expect(try f.bool("test.bool_true"))
}

@Test func writerReproducesGGUFPyByteForByte() throws {
    let f = try GGUFFile(path: pythonGGUF)
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-rewrite-\(getpid()).gguf").path
    defer { unlink(out) }
    let w = try GGUFWriter(path: out, metadata: f.metadata,
                           tensors: f.tensors.map { GGUFTensorPlan(name: $0.name, type: $0.type, shape: $0.shape) })
    for t in f.tensors { try w.writeTensor(try f.tensor(t.name).bytes) }
    try w.finish()
    #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: URL(fileURLWithPath: pythonGGUF)))
}

@Test func unfinishedWriterLeavesNothingBehind() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-atomic-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let out = dir.appendingPathComponent("model.gguf").path
    try Data("precious".utf8).write(to: URL(fileURLWithPath: out))
    do {
        let w = try GGUFWriter(path: out, metadata: [("a", .uint8(1))], tensors: [GGUFTensorPlan(name: "t", type: .f32, shape: [4])])
        _ = w  // dropped before writing its tensor or finishing
    }
    #expect(try String(contentsOfFile: out, encoding: .utf8) == "precious")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.gguf"])
}

@Test func everyTruncationIsAnErrorNotACrash() throws {
    let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: pythonGGUF)))
    let dataEnd = try GGUFFile(path: pythonGGUF).tensors.map { $0.offset + $0.byteCount }.max()!
    for n in 0..<whole.count {
        let path = try writeTemporary(Array(whole[..<n]), name: "truncated.gguf")
        let opened = (try? GGUFFile(path: path)) != nil
        // Cutting only the padding after the last tensor leaves a valid file; any shorter prefix is an error.
        #expect(opened == (n >= dataEnd), "prefix of \(n) bytes (data ends at \(dataEnd))")
    }
}

@Test func byteFlipsInTheHeaderNeverCrash() throws {
    let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: pythonGGUF)))
    let headerEnd = try GGUFFile(path: pythonGGUF).dataOffset
    var rejected = 0
    for i in 0..<headerEnd {
        for flip: UInt8 in [0x01, 0x80, 0xff] {
            var b = whole
            b[i] ^= flip
            let path = try writeTemporary(b, name: "flipped.gguf")
            do {
                let f = try GGUFFile(path: path)
                for t in f.tensors { _ = fnv1a64(try f.tensor(t.name).bytes) }  // every view is in bounds
            } catch {
                rejected += 1
            }
        }
    }
    #expect(rejected > headerEnd, "\(rejected) of \(3 * headerEnd) mutants rejected")
}
