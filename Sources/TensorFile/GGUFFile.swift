// GGUF v3 (and v2) reader: the whole file is mapped, validated up front, and tensors are zero-copy views.
// Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md; our use of it: formats/FORMAT.md.

import Quant

public let ggufMagic: UInt32 = 0x4655_4747  // "GGUF" read as a little-endian u32
public let ggufDefaultAlignment = 32
/// The largest `general.alignment` accepted: larger values only waste space and invite overflow.
public let ggufMaxAlignment = 65536

/// Where a tensor lives in a GGUF file and what it holds. `shape` is in the file's order (ne[0], the row length, first).
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let type: GGMLType
    public let shape: [Int]
    /// Absolute byte offset of the data in the file.
    public let offset: Int
    public let byteCount: Int
    public let elementCount: Int

    public var rowLength: Int { shape[0] }
    public var rowCount: Int { elementCount / shape[0] }
}

/// A typed, zero-copy view of one tensor's bytes inside a mapped file. Valid while its `GGUFFile` lives.
public struct TensorView: @unchecked Sendable {  // a read-only pointer into an immutable mapping
    public let info: GGUFTensorInfo
    public let data: UnsafeRawPointer

    public var type: GGMLType { info.type }
    public var rowLength: Int { info.rowLength }
    public var rowCount: Int { info.rowCount }
    public var rowBytes: Int { info.type.byteCount(elements: info.rowLength)! }
    public func row(_ i: Int) -> UnsafeRawPointer { data + i * rowBytes }
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: data, count: info.byteCount) }
}

public final class GGUFFile: Sendable {
    public let file: MappedFile
    public let version: UInt32
    /// Metadata in file order.
    public let metadata: [(key: String, value: GGUFValue)]
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Absolute offset of the tensor data section.
    public let dataOffset: Int
    private let keyIndex: [String: Int]
    private let tensorIndex: [String: Int]

    public var path: String { file.path }

    public convenience init(path: String) throws(TensorFileError) {
        let file = try MappedFile(path: path)  // its errors name the path already
        do {
            try self.init(file: file)
        } catch {
            throw .inFile(path, error.description)
        }
    }

    public init(file: MappedFile) throws(TensorFileError) {
        self.file = file
        var c = ByteCursor(file.bytes)
        let magic = try c.read(UInt32.self, "magic")
        guard magic == ggufMagic else { throw .badMagic(found: magic) }
        version = try c.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }

        // A tensor info takes at least 24 bytes and a key-value pair at least 14: counts beyond
        // what the file can hold are rejected before anything is reserved for them.
        let countsOffset = c.offset
        let tensorCount = try c.read(UInt64.self, "tensor count")
        let kvCount = try c.read(UInt64.self, "metadata count")
        guard tensorCount <= UInt64(c.remaining / 24) else {
            throw .countTooLarge(what: "tensor count", count: tensorCount, offset: countsOffset, limit: UInt64(c.remaining / 24))
        }
        guard kvCount <= UInt64(c.remaining / 14) else {
            throw .countTooLarge(what: "metadata count", count: kvCount, offset: countsOffset + 8, limit: UInt64(c.remaining / 14))
        }

        var metadata: [(key: String, value: GGUFValue)] = []
        var keyIndex: [String: Int] = [:]
        for i in 0..<Int(kvCount) {
            let keyOffset = c.offset
            let key = try c.readString("metadata key #\(i)")
            guard !key.isEmpty else { throw .emptyKey(offset: keyOffset) }
            guard keyIndex[key] == nil else { throw .duplicateKey(key, offset: keyOffset) }
            let typeOffset = c.offset
            let rawType = try c.read(UInt32.self, "type of key '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw .invalidValueType(key: key, type: rawType, offset: typeOffset)
            }
            let value = try Self.readValue(type, key: key, &c)
            keyIndex[key] = metadata.count
            metadata.append((key, value))
        }

        var alignment = ggufDefaultAlignment
        if let i = keyIndex["general.alignment"] {
            guard case let .uint32(a) = metadata[i].value else {
                throw .wrongType(key: "general.alignment", expected: "uint32", found: metadata[i].value.typeDescription)
            }
            guard a > 0, a & (a - 1) == 0, a <= ggufMaxAlignment else { throw .badAlignment(UInt64(a)) }
            alignment = Int(a)
        }

        var infos: [(name: String, type: GGMLType, shape: [Int], relative: UInt64, elements: Int, bytes: Int, at: Int)] = []
        var tensorIndex: [String: Int] = [:]
        for i in 0..<Int(tensorCount) {
            let at = c.offset
            let name = try c.readString("tensor #\(i) name")
            guard !name.isEmpty else { throw .badTensor(tensor: "#\(i)", reason: "empty name", offset: at) }
            guard tensorIndex[name] == nil else { throw .duplicateTensor(name, offset: at) }
            let nDims = try c.read(UInt32.self, "tensor '\(name)' dimension count")
            guard (1...4).contains(nDims) else {
                throw .badTensor(tensor: name, reason: "\(nDims) dimensions (1 to 4 allowed)", offset: at)
            }
            var shape: [Int] = []
            var elements = 1
            for d in 0..<Int(nDims) {
                let dim = try c.read(UInt64.self, "tensor '\(name)' dimension \(d)")
                guard dim >= 1, dim <= UInt64(Int.max) else {
                    throw .badTensor(tensor: name, reason: "dimension \(d) is \(dim) (must be 1 to 2^63-1)", offset: at)
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(dim))
                guard !overflow else { throw .badTensor(tensor: name, reason: "element count overflows", offset: at) }
                elements = product
                shape.append(Int(dim))
            }
            let typeOffset = c.offset
            let rawType = try c.read(UInt32.self, "tensor '\(name)' type")
            guard let type = GGMLType(rawValue: rawType) else {
                throw .unknownTensorType(tensor: name, type: rawType, offset: typeOffset)
            }
            guard shape[0] % type.blockSize == 0 else {
                throw .badTensor(tensor: name, reason: "row length \(shape[0]) is not a multiple of \(type.name)'s block size \(type.blockSize)", offset: at)
            }
            guard let bytes = type.byteCount(elements: elements) else {
                throw .badTensor(tensor: name, reason: "byte size overflows", offset: at)
            }
            let relative = try c.read(UInt64.self, "tensor '\(name)' offset")
            guard relative % UInt64(alignment) == 0 else {
                throw .misaligned(tensor: name, offset: Int(clamping: relative), alignment: alignment)
            }
            tensorIndex[name] = infos.count
            infos.append((name, type, shape, relative, elements, bytes, at))
        }

        // The data section starts at the next multiple of the alignment after the tensor infos.
        let dataOffset = (c.offset + alignment - 1) / alignment * alignment
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(infos.count)
        for t in infos {
            let (absolute, o1) = UInt64(dataOffset).addingReportingOverflow(t.relative)
            let (end, o2) = absolute.addingReportingOverflow(UInt64(t.bytes))
            guard !o1, !o2 else {
                throw .badTensor(tensor: t.name, reason: "data offset \(t.relative) + \(t.bytes) bytes overflows", offset: t.at)
            }
            guard end <= UInt64(file.count) else {
                throw .outOfBounds(tensor: t.name, offset: Int(clamping: absolute), bytes: t.bytes, fileBytes: file.count)
            }
            tensors.append(GGUFTensorInfo(name: t.name, type: t.type, shape: t.shape, offset: Int(absolute),
                                          byteCount: t.bytes, elementCount: t.elements))
        }
        self.metadata = metadata
        self.keyIndex = keyIndex
        self.tensors = tensors
        self.tensorIndex = tensorIndex
        self.alignment = alignment
        self.dataOffset = dataOffset
    }

    private static func readValue(_ type: GGUFValueType, key: String, _ c: inout ByteCursor) throws(TensorFileError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try c.read(UInt8.self, "value of '\(key)'"))
        case .int8: return .int8(try c.read(Int8.self, "value of '\(key)'"))
        case .uint16: return .uint16(try c.read(UInt16.self, "value of '\(key)'"))
        case .int16: return .int16(try c.read(Int16.self, "value of '\(key)'"))
        case .uint32: return .uint32(try c.read(UInt32.self, "value of '\(key)'"))
        case .int32: return .int32(try c.read(Int32.self, "value of '\(key)'"))
        case .uint64: return .uint64(try c.read(UInt64.self, "value of '\(key)'"))
        case .int64: return .int64(try c.read(Int64.self, "value of '\(key)'"))
        case .float32: return .float32(Float(bitPattern: try c.read(UInt32.self, "value of '\(key)'")))
        case .float64: return .float64(Double(bitPattern: try c.read(UInt64.self, "value of '\(key)'")))
        case .bool: return .bool(try readBool(key: key, &c))
        case .string: return .string(try c.readString("value of '\(key)'"))
        case .array: return .array(try readArray(key: key, &c))
        }
    }

    private static func readBool(key: String, _ c: inout ByteCursor) throws(TensorFileError) -> Bool {
        let at = c.offset
        let b = try c.read(UInt8.self, "value of '\(key)'")
        guard b <= 1 else { throw .invalidBool(key: key, byte: b, offset: at) }
        return b == 1
    }

    private static func readArray(key: String, _ c: inout ByteCursor) throws(TensorFileError) -> GGUFArray {
        let typeOffset = c.offset
        let rawType = try c.read(UInt32.self, "element type of '\(key)'")
        guard let type = GGUFValueType(rawValue: rawType) else {
            throw .invalidValueType(key: key, type: rawType, offset: typeOffset)
        }
        guard type != .array else { throw .badMetadata(key: key, reason: "nested arrays (at byte \(typeOffset)) are not supported") }
        let countOffset = c.offset
        let count = try c.read(UInt64.self, "element count of '\(key)'")
        let limit = UInt64(c.remaining / type.minimumBytes)
        guard count <= limit else {
            throw .countTooLarge(what: "element count of '\(key)'", count: count, offset: countOffset, limit: limit)
        }
        let n = Int(count)
        func numbers<T: FixedWidthInteger>(_: T.Type) throws(TensorFileError) -> [T] {
            var a: [T] = []
            a.reserveCapacity(n)
            for _ in 0..<n { a.append(try c.read(T.self, "element of '\(key)'")) }
            return a
        }
        switch type {
        case .uint8: return .uint8(try numbers(UInt8.self))
        case .int8: return .int8(try numbers(Int8.self))
        case .uint16: return .uint16(try numbers(UInt16.self))
        case .int16: return .int16(try numbers(Int16.self))
        case .uint32: return .uint32(try numbers(UInt32.self))
        case .int32: return .int32(try numbers(Int32.self))
        case .uint64: return .uint64(try numbers(UInt64.self))
        case .int64: return .int64(try numbers(Int64.self))
        case .float32: return .float32(try numbers(UInt32.self).map { Float(bitPattern: $0) })
        case .float64: return .float64(try numbers(UInt64.self).map { Double(bitPattern: $0) })
        case .bool:
            var a: [Bool] = []
            a.reserveCapacity(n)
            for _ in 0..<n { a.append(try readBool(key: key, &c)) }
            return .bool(a)
        case .string:
            var a: [String] = []
            a.reserveCapacity(n)
            for i in 0..<n { a.append(try c.readString("element \(i) of '\(key)'")) }
            return .string(a)
        case .array:
            preconditionFailure("nested arrays were rejected above")
        }
    }

    // MARK: Metadata getters: each checks the stored type and names the key when it is wrong.

    public func value(_ key: String) -> GGUFValue? { keyIndex[key].map { metadata[$0].value } }

    public func contains(_ key: String) -> Bool { keyIndex[key] != nil }

    private func required(_ key: String) throws(TensorFileError) -> GGUFValue {
        guard let v = value(key) else { throw .missingKey(key) }
        return v
    }

    /// An integer stored as any integer type (a count written as u32 or u64 alike) that fits in Int.
    public func int(_ key: String) throws(TensorFileError) -> Int {
        let v = try required(key)
        guard let i = v.integer else { throw .wrongType(key: key, expected: "an integer", found: v.typeDescription) }
        return i
    }

    public func float(_ key: String) throws(TensorFileError) -> Float {
        switch try required(key) {
        case let .float32(f): return f
        case let .float64(d): return Float(d)
        case let v: throw .wrongType(key: key, expected: "a float", found: v.typeDescription)
        }
    }

    public func bool(_ key: String) throws(TensorFileError) -> Bool {
        let v = try required(key)
        guard case let .bool(b) = v else { throw .wrongType(key: key, expected: "bool", found: v.typeDescription) }
        return b
    }

    public func string(_ key: String) throws(TensorFileError) -> String {
        let v = try required(key)
        guard case let .string(s) = v else { throw .wrongType(key: key, expected: "string", found: v.typeDescription) }
        return s
    }

    public func stringArray(_ key: String) throws(TensorFileError) -> [String] {
        let v = try required(key)
        guard case let .array(.string(a)) = v else { throw .wrongType(key: key, expected: "array of string", found: v.typeDescription) }
        return a
    }

    public func intArray(_ key: String) throws(TensorFileError) -> [Int] {
        let v = try required(key)
        guard case let .array(a) = v, let ints = a.integers else {
            throw .wrongType(key: key, expected: "array of integers", found: v.typeDescription)
        }
        return ints
    }

    public func floatArray(_ key: String) throws(TensorFileError) -> [Float] {
        let v = try required(key)
        switch v {
        case let .array(.float32(a)): return a
        case let .array(.float64(a)): return a.map { Float($0) }
        default: throw .wrongType(key: key, expected: "array of float", found: v.typeDescription)
        }
    }

    /// The architecture named by `general.architecture`.
    public func architecture() throws(TensorFileError) -> String { try string("general.architecture") }

    // MARK: Tensors

    public func info(_ name: String) -> GGUFTensorInfo? { tensorIndex[name].map { tensors[$0] } }

    /// A zero-copy view of the tensor's bytes; bounds were checked when the file was opened.
    public func tensor(_ name: String) throws(TensorFileError) -> TensorView {
        guard let i = info(name) else { throw .missingTensor(name) }
        return view(i)
    }

    public func view(_ info: GGUFTensorInfo) -> TensorView {
        TensorView(info: info, data: file.base! + info.offset)
    }
}
