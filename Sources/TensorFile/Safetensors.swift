// safetensors reader (https://github.com/huggingface/safetensors): one file or a sharded set named by
// model.safetensors.index.json. Headers are validated before any tensor is used; data stays mapped.

import Quant

public struct SafetensorsTensor: Sendable {
    public let name: String
    /// safetensors' dtype name ("F32", "BF16", ...).
    public let dtype: String
    /// Row-major, outermost first (PyTorch order; the reverse of GGUF's).
    public let shape: [Int]
    public let elementCount: Int
    /// Absolute byte offset in `file`.
    public let offset: Int
    public let byteCount: Int
    public let file: MappedFile

    /// The element type when it is one Swiftlet converts from.
    public var ggmlType: GGMLType? {
        switch dtype {
        case "F32": .f32
        case "F16": .f16
        case "BF16": .bf16
        default: nil
        }
    }

    public var data: UnsafeRawPointer { file.base! + offset }

    /// The tensor as floats, whatever its stored float type.
    public func floats() throws(TensorFileError) -> [Float] {
        guard let t = ggmlType else {
            throw .safetensors(path: file.path, reason: "tensor '\(name)' has dtype \(dtype); only F32, F16 and BF16 are supported")
        }
        return [Float](unsafeUninitializedCapacity: elementCount) { buf, n in
            if elementCount > 0 { dequantizeRow(data, count: elementCount, as: t, into: buf.baseAddress!) }
            n = elementCount
        }
    }
}

/// All tensors of a model, from one file or from every shard of an index.
public struct SafetensorsModel: Sendable {
    public let tensors: [SafetensorsTensor]
    private let byName: [String: Int]

    public func tensor(_ name: String) -> SafetensorsTensor? { byName[name].map { tensors[$0] } }
    public var names: [String] { tensors.map(\.name) }

    /// Header sizes above this are refused, as the safetensors library refuses them.
    public static let maxHeaderBytes = 100_000_000

    static let elementBytes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8,
    ]

    /// Reads `path`, which is a .safetensors file or a model.safetensors.index.json.
    public init(path: String) throws(TensorFileError) {
        if path.hasSuffix(".json") {
            try self.init(indexPath: path)
        } else {
            let tensors = try Self.readFile(path)
            try self.init(tensors)
        }
    }

    private init(_ tensors: [SafetensorsTensor]) throws(TensorFileError) {
        var byName: [String: Int] = [:]
        for (i, t) in tensors.enumerated() {
            guard byName[t.name] == nil else {
                throw .safetensors(path: t.file.path, reason: "tensor '\(t.name)' appears in more than one shard")
            }
            byName[t.name] = i
        }
        self.tensors = tensors
        self.byName = byName
    }

    private init(indexPath: String) throws(TensorFileError) {
        let index = try JSONValue.parse(contentsOf: indexPath)
        guard let weightMap = index["weight_map"]?.object else {
            throw .safetensors(path: indexPath, reason: "no \"weight_map\" object")
        }
        let directory = indexPath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        var shardNames: [String] = []
        var expected: [String: String] = [:]
        for (name, value) in weightMap.entries {
            guard let shard = value.string, !shard.isEmpty, !shard.contains("/"), shard != ".." else {
                throw .safetensors(path: indexPath, reason: "weight_map entry '\(name)' is not a file name in the same folder")
            }
            if !shardNames.contains(shard) { shardNames.append(shard) }
            expected[name] = shard
        }
        var all: [SafetensorsTensor] = []
        for shard in shardNames {
            let shardPath = directory.isEmpty ? shard : directory + "/" + shard
            for t in try Self.readFile(shardPath) {
                guard let listed = expected[t.name] else {
                    throw .safetensors(path: shardPath, reason: "tensor '\(t.name)' is not in \(indexPath)'s weight_map")
                }
                guard listed == shard else {
                    throw .safetensors(path: shardPath, reason: "tensor '\(t.name)' is listed in shard \(listed)")
                }
                all.append(t)
            }
        }
        let found = Set(all.map(\.name))
        if let missing = expected.keys.sorted().first(where: { !found.contains($0) }) {
            throw .safetensors(path: indexPath, reason: "tensor '\(missing)' is listed in weight_map but not found in shard \(expected[missing]!)")
        }
        try self.init(all)
    }

    static func readFile(_ path: String) throws(TensorFileError) -> [SafetensorsTensor] {
        let file = try MappedFile(path: path)
        var c = ByteCursor(file.bytes)
        let headerLength = try c.read(UInt64.self, "safetensors header length")
        guard headerLength <= UInt64(c.remaining), headerLength <= UInt64(maxHeaderBytes) else {
            throw .countTooLarge(what: "safetensors header length", count: headerLength, offset: 0,
                                 limit: UInt64(min(c.remaining, maxHeaderBytes)))
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: file.bytes[8..<8 + Int(headerLength)])
        let header = try JSONValue.parse(headerBytes, what: "\(path) header")
        guard let entries = header.object?.entries else { throw .safetensors(path: path, reason: "header is not a JSON object") }
        let dataStart = 8 + Int(headerLength)
        let dataBytes = file.count - dataStart
        var tensors: [SafetensorsTensor] = []
        for (name, value) in entries where name != "__metadata__" {
            func bad(_ reason: String) -> TensorFileError { .safetensors(path: path, reason: "tensor '\(name)': \(reason)") }
            guard let dtype = value["dtype"]?.string, let size = elementBytes[dtype] else {
                throw bad("missing or unknown dtype \(value["dtype"].map { "\($0)" } ?? "")")
            }
            guard let dims = value["shape"]?.array, dims.count <= 8 else { throw bad("missing shape or more than 8 dimensions") }
            var shape: [Int] = []
            var elements = 1
            for d in dims {
                guard let n = d.int, n >= 0 else { throw bad("shape entry \(d) is not a non-negative integer") }
                let (p, o) = elements.multipliedReportingOverflow(by: n)
                guard !o else { throw bad("element count overflows") }
                elements = p
                shape.append(n)
            }
            guard let offsets = value["data_offsets"]?.array, offsets.count == 2,
                  let begin = offsets[0].int, let end = offsets[1].int, begin >= 0, begin <= end else {
                throw bad("data_offsets must be two integers [begin, end] with begin <= end")
            }
            let (bytes, o) = elements.multipliedReportingOverflow(by: size)
            guard !o, end - begin == bytes else { throw bad("data_offsets span \(end - begin) bytes, shape and dtype need \(o ? -1 : bytes)") }
            guard end <= dataBytes else {
                throw bad("data ends at byte \(dataStart + end), past the end of the file (\(file.count) bytes)")
            }
            tensors.append(SafetensorsTensor(name: name, dtype: dtype, shape: shape, elementCount: elements,
                                             offset: dataStart + begin, byteCount: bytes, file: file))
        }
        // Tensors must not overlap (the safetensors library also forbids holes; we only need no overlap).
        let sorted = tensors.sorted { $0.offset < $1.offset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.byteCount > b.offset {
            throw .safetensors(path: path, reason: "tensors '\(a.name)' and '\(b.name)' overlap at byte \(b.offset)")
        }
        return tensors
    }
}
