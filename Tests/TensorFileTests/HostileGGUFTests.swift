// Handcrafted malformed GGUF files, one per attack class known against GGUF readers (lying counts and
// lengths, wrapped sizes, bad types, misaligned or out-of-bounds data): each must fail with an error
// that names its offset, in the reader and through `swiftlet inspect` (exit 1, one `error:` line).

import Foundation
import Testing
import TestSupport
@testable import TensorFile

/// A little-endian byte builder for GGUF files.
struct GGUFBytes {
    var b: [UInt8] = []
    mutating func u8(_ v: UInt8) { b.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
    mutating func str(_ s: String) { u64(UInt64(s.utf8.count)); b += s.utf8 }
    mutating func pad(_ n: Int) { b += [UInt8](repeating: 0, count: n) }

    static func header(tensors: UInt64 = 0, kvs: UInt64 = 0, version: UInt32 = 3) -> GGUFBytes {
        var g = GGUFBytes()
        g.u32(ggufMagic)
        g.u32(version)
        g.u64(tensors)
        g.u64(kvs)
        return g
    }

    /// A header with one tensor named "t" whose info is written by `info` (after the name).
    static func tensor(_ info: (inout GGUFBytes) -> Void, trailing: Int = 64) -> GGUFBytes {
        var g = header(tensors: 1)
        g.str("t")
        info(&g)
        g.pad(trailing)
        return g
    }
}

struct Hostile: CustomStringConvertible, Sendable {
    let name: String
    let bytes: [UInt8]
    let expected: TensorFileError
    var description: String { name }
}

let hostileFiles: [Hostile] = {
    var cases: [Hostile] = []
    func add(_ name: String, _ g: GGUFBytes, _ e: TensorFileError) { cases.append(Hostile(name: name, bytes: g.b, expected: e)) }
    let maxU64 = UInt64.max

    var g = GGUFBytes(); g.u32(0x4755_4747); g.u32(3); g.pad(16)
    add("badMagic", g, .badMagic(found: 0x4755_4747))
    add("version1", .header(version: 1), .unsupportedVersion(1))
    add("version4", .header(version: 4), .unsupportedVersion(4))
    g = GGUFBytes(); g.u32(ggufMagic); g.u32(3); g.pad(4)
    add("truncatedHeader", g, .truncated(what: "tensor count", offset: 8, needed: 4))
    add("empty", GGUFBytes(), .truncated(what: "magic", offset: 0, needed: 4))

    // Counts larger than the bytes that remain (a reader that reserves first would allocate exabytes).
    add("tensorCountHuge", .header(tensors: maxU64), .countTooLarge(what: "tensor count", count: maxU64, offset: 8, limit: 0))
    add("kvCountHuge", .header(kvs: 1 << 62), .countTooLarge(what: "metadata count", count: 1 << 62, offset: 16, limit: 0))

    g = .header(kvs: 1); g.u64(maxU64); g.pad(20)
    add("keyLengthLies", g, .countTooLarge(what: "metadata key #0 length", count: maxU64, offset: 24, limit: 20))
    g = .header(kvs: 1); g.str("a"); g.u32(8); g.u64(1000); g.pad(5)
    add("stringValueLengthLies", g, .countTooLarge(what: "value of 'a' length", count: 1000, offset: 37, limit: 5))
    g = .header(kvs: 1); g.str("a"); g.u32(13); g.pad(8)
    add("valueTypeUnknown", g, .invalidValueType(key: "a", type: 13, offset: 33))
    g = .header(kvs: 1); g.str("a"); g.u32(7); g.u8(2); g.pad(8)
    add("boolByteTwo", g, .invalidBool(key: "a", byte: 2, offset: 37))
    g = .header(kvs: 1); g.str(""); g.u32(0); g.u8(0); g.pad(8)
    add("emptyKey", g, .emptyKey(offset: 24))
    g = .header(kvs: 2); g.str("a"); g.u32(0); g.u8(1); g.str("a"); g.u32(0); g.u8(2)
    add("duplicateKey", g, .duplicateKey("a", offset: 38))
    g = .header(kvs: 1); g.u64(1); g.u8(0xff); g.u32(0); g.u8(0); g.pad(8)
    add("keyNotUTF8", g, .invalidUTF8(what: "metadata key #0", offset: 32))

    g = .header(kvs: 1); g.str("general.alignment"); g.u32(4); g.u32(3); g.pad(8)
    add("alignmentNotPowerOfTwo", g, .badAlignment(3))
    g = .header(kvs: 1); g.str("general.alignment"); g.u32(4); g.u32(1 << 30); g.pad(8)
    add("alignmentHuge", g, .badAlignment(1 << 30))
    g = .header(kvs: 1); g.str("general.alignment"); g.u32(10); g.u64(32); g.pad(8)
    add("alignmentWrongType", g, .wrongType(key: "general.alignment", expected: "uint32", found: "uint64"))

    g = .header(kvs: 1); g.str("a"); g.u32(9); g.u32(4); g.u64(1 << 61); g.pad(16)
    add("arrayCountHuge", g, .countTooLarge(what: "element count of 'a'", count: 1 << 61, offset: 41, limit: 4))
    g = .header(kvs: 1); g.str("a"); g.u32(9); g.u32(8); g.u64(2); g.u64(1 << 40); g.pad(16)
    add("stringInArrayLies", g, .countTooLarge(what: "element 0 of 'a' length", count: 1 << 40, offset: 49, limit: 16))
    g = .header(kvs: 1); g.str("a"); g.u32(9); g.u32(9); g.u64(1); g.pad(16)
    add("nestedArray", g, .badMetadata(key: "a", reason: "nested arrays (at byte 37) are not supported"))
    g = .header(kvs: 1); g.str("a"); g.u32(9); g.u32(77); g.u64(1); g.pad(16)
    add("arrayElementTypeUnknown", g, .invalidValueType(key: "a", type: 77, offset: 37))

    // Tensor infos. The info of tensor "t" starts at byte 24.
    add("fiveDimensions", .tensor { $0.u32(5); for _ in 0..<5 { $0.u64(1) } },
        .badTensor(tensor: "t", reason: "5 dimensions (1 to 4 allowed)", offset: 24))
    add("zeroDimensions", .tensor { $0.u32(0) }, .badTensor(tensor: "t", reason: "0 dimensions (1 to 4 allowed)", offset: 24))
    add("dimensionZero", .tensor { $0.u32(2); $0.u64(4); $0.u64(0) },
        .badTensor(tensor: "t", reason: "dimension 1 is 0 (must be 1 to 2^63-1)", offset: 24))
    add("dimensionAboveInt64", .tensor { $0.u32(1); $0.u64(1 << 63) },
        .badTensor(tensor: "t", reason: "dimension 0 is 9223372036854775808 (must be 1 to 2^63-1)", offset: 24))
    add("elementCountOverflows", .tensor { $0.u32(2); $0.u64(1 << 32); $0.u64(1 << 32) },
        .badTensor(tensor: "t", reason: "element count overflows", offset: 24))
    add("byteSizeOverflows", .tensor { $0.u32(2); $0.u64(1 << 31); $0.u64(1 << 31); $0.u32(0); $0.u64(0) },
        .badTensor(tensor: "t", reason: "byte size overflows", offset: 24))
    add("rowNotWholeBlocks", .tensor { $0.u32(1); $0.u64(33); $0.u32(8); $0.u64(0) },
        .badTensor(tensor: "t", reason: "row length 33 is not a multiple of Q8_0's block size 32", offset: 24))
    add("tensorTypeUnknown", .tensor { $0.u32(1); $0.u64(4); $0.u32(99); $0.u64(0) },
        .unknownTensorType(tensor: "t", type: 99, offset: 45))
    add("offsetMisaligned", .tensor { $0.u32(1); $0.u64(4); $0.u32(0); $0.u64(1) },
        .misaligned(tensor: "t", offset: 1, alignment: 32))
    // Data section starts at 64 (info ends at 57); 64 trailing bytes → file is 121 bytes.
    add("dataPastEnd", .tensor({ $0.u32(1); $0.u64(64); $0.u32(0); $0.u64(0) }, trailing: 64),
        .outOfBounds(tensor: "t", offset: 64, bytes: 256, fileBytes: 121))
    add("offsetWraps", .tensor({ $0.u32(1); $0.u64(8); $0.u32(0); $0.u64(maxU64 - 31) }, trailing: 64),
        .badTensor(tensor: "t", reason: "data offset 18446744073709551584 + 32 bytes overflows", offset: 24))
    g = .header(tensors: 2)
    for _ in 0..<2 { g.str("t"); g.u32(1); g.u64(8); g.u32(0); g.u64(0) }
    g.pad(64)
    add("duplicateTensor", g, .duplicateTensor("t", offset: 57))
    return cases
}()

func writeTemporary(_ bytes: [UInt8], name: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-tests-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
}

@Test(arguments: hostileFiles)
func readerRejectsHostileFile(_ h: Hostile) throws {
    let path = try writeTemporary(h.bytes, name: h.name + ".gguf")
    #expect(throws: TensorFileError.inFile(path, h.expected.description)) { _ = try GGUFFile(path: path) }
}

@Test(arguments: hostileFiles)
func inspectFailsWithOneErrorLine(_ h: Hostile) throws {
    let exe = builtExecutable("swiftlet")
    try #require(FileManager.default.isExecutableFile(atPath: exe), "build the swiftlet executable first: \(exe)")
    let path = try writeTemporary(h.bytes, name: h.name + ".gguf")
    let r = try run(exe, ["inspect", path])
    #expect(r.status == 1, "exit status \(r.status)")
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.count == 1 && lines[0].hasPrefix("error: "), "stderr: \(r.stderr)")
    #expect(r.stderr.contains(h.expected.description), "stderr: \(r.stderr)")
    #expect(r.stdout.isEmpty)
    // A hang or a runaway allocation shows here; 10 s is far above the ~10 ms this takes.
    #expect(r.seconds < 10, "took \(r.seconds) s")
    var usage = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &usage)
    #expect(usage.ru_maxrss < 200_000, "a child used \(usage.ru_maxrss) KiB")
}
