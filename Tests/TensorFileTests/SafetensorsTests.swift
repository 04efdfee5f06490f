// safetensors: single and sharded models read correctly; malformed headers fail naming file and tensor.

import Foundation
import Quant
import Testing
@testable import TensorFile

/// A safetensors file from a raw header text and data bytes.
func safetensorsBytes(header: String, data: [UInt8]) -> [UInt8] {
    var b: [UInt8] = []
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { b += $0 }
    return b + Array(header.utf8) + data
}

func bytes(_ xs: [Float]) -> [UInt8] { xs.withUnsafeBytes { Array($0) } }

@Test func readsF32F16AndBF16() throws {
    let f16 = [Float(1.5), -2].flatMap { x in withUnsafeBytes(of: f16Bits(x).littleEndian) { Array($0) } }
    let bf16 = [Float(0.5), 3].flatMap { x in withUnsafeBytes(of: bf16Bits(x).littleEndian) { Array($0) } }
    let header = #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},"#
        + #""b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},"c":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]}}"#
    let path = try writeTemporary(safetensorsBytes(header: header, data: bytes([1, 2]) + f16 + bf16), name: "ok.safetensors")
    let m = try SafetensorsModel(path: path)
    #expect(m.names == ["a", "b", "c"])
    #expect(try m.tensor("a")?.floats() == [1, 2])
    #expect(m.tensor("a")?.shape == [2, 1])
    #expect(try m.tensor("b")?.floats() == [1.5, -2])
    #expect(try m.tensor("c")?.floats() == [0.5, 3])
}

@Test func readsShardsThroughTheIndex() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-shards-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let one = #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
    let two = #"{"y":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    try Data(safetensorsBytes(header: one, data: bytes([7]))).write(to: dir.appendingPathComponent("m-1.safetensors"))
    try Data(safetensorsBytes(header: two, data: bytes([8, 9]))).write(to: dir.appendingPathComponent("m-2.safetensors"))
    let index = dir.appendingPathComponent("model.safetensors.index.json")
    try Data(#"{"metadata":{},"weight_map":{"x":"m-1.safetensors","y":"m-2.safetensors"}}"#.utf8).write(to: index)
    let m = try SafetensorsModel(path: index.path)
    #expect(try m.tensor("x")?.floats() == [7])
    #expect(try m.tensor("y")?.floats() == [8, 9])

    try Data(#"{"weight_map":{"x":"m-1.safetensors","y":"m-1.safetensors"}}"#.utf8).write(to: index)
    #expect(throws: TensorFileError.self) { _ = try SafetensorsModel(path: index.path) }
    try Data(#"{"weight_map":{"x":"../m-1.safetensors"}}"#.utf8).write(to: index)
    #expect(throws: TensorFileError.safetensors(path: index.path, reason: "weight_map entry 'x' is not a file name in the same folder")) {
        _ = try SafetensorsModel(path: index.path)
    }
}

struct BadHeader: CustomStringConvertible, Sendable {
    let name: String, header: String, data: Int, message: String
    var description: String { name }
}

let badHeaders: [BadHeader] = [
    BadHeader(name: "notJSON", header: "{nope", data: 0, message: "invalid JSON at byte 1"),
    BadHeader(name: "notObject", header: "[1]", data: 0, message: "header is not a JSON object"),
    BadHeader(name: "duplicateName", header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{}}"#, data: 4,
              message: "duplicate key \"a\""),
    BadHeader(name: "unknownDtype", header: #"{"a":{"dtype":"F7","shape":[1],"data_offsets":[0,4]}}"#, data: 4,
              message: "tensor 'a': missing or unknown dtype"),
    BadHeader(name: "negativeDim", header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: 4,
              message: "shape entry -1 is not a non-negative integer"),
    BadHeader(name: "sizeDisagrees", header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,4]}}"#, data: 12,
              message: "data_offsets span 4 bytes, shape and dtype need 12"),
    BadHeader(name: "pastEnd", header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: 8,
              message: "past the end of the file"),
    BadHeader(name: "overlap", header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
              data: 12, message: "overlap"),
    BadHeader(name: "elementOverflow", header: #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, data: 4,
              message: "element count overflows"),
    BadHeader(name: "deepNesting", header: String(repeating: "[", count: 10_000), data: 0, message: "nested deeper than 128"),
]

@Test(arguments: badHeaders)
func malformedHeaderIsNamed(_ h: BadHeader) throws {
    let path = try writeTemporary(safetensorsBytes(header: h.header, data: [UInt8](repeating: 0, count: h.data)), name: h.name + ".safetensors")
    do {
        _ = try SafetensorsModel(path: path)
        Issue.record("\(h.name) was accepted")
    } catch {
        #expect(error.description.contains(h.message) && error.description.contains(path), "\(error)")
    }
}

@Test func headerLengthBeyondFileIsRefused() throws {
    var b: [UInt8] = []
    withUnsafeBytes(of: UInt64.max.littleEndian) { b += $0 }
    let path = try writeTemporary(b + [0x7b, 0x7d], name: "hugeheader.safetensors")
    #expect(throws: TensorFileError.countTooLarge(what: "safetensors header length", count: .max, offset: 0, limit: 2)) {
        _ = try SafetensorsModel(path: path)
    }
}
