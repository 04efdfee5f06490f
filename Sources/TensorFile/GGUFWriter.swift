// GGUF v3 writer: header, metadata and tensor infos first, then each tensor's bytes streamed in order,
// aligned; the file appears whole or not at all (see AtomicFileWriter).

import Quant

public struct GGUFTensorPlan: Sendable {
    public let name: String
    public let type: GGMLType
    /// The file's order: ne[0], the row length, first.
    public let shape: [Int]

    public init(name: String, type: GGMLType, shape: [Int]) {
        self.name = name
        self.type = type
        self.shape = shape
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { type.byteCount(elements: elementCount)! }
}

public final class GGUFWriter {
    public let alignment: Int
    private let out: AtomicFileWriter
    private let plans: [GGUFTensorPlan]
    private var next = 0

    /// Writes the header, `metadata` (in order) and the tensor infos for `tensors`; then call
    /// `writeTensor` once per plan, in order, and `finish`.
    public init(path: String, metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensorPlan]) throws(TensorFileError) {
        var alignment = ggufDefaultAlignment
        for (key, value) in metadata where key == "general.alignment" {
            guard case let .uint32(a) = value, a > 0, a & (a - 1) == 0, a <= ggufMaxAlignment else {
                throw .badMetadata(key: key, reason: "must be a uint32 power of two up to \(ggufMaxAlignment)")
            }
            alignment = Int(a)
        }
        self.alignment = alignment
        plans = tensors
        var seenKeys = Set<String>(), seenTensors = Set<String>()
        for (key, _) in metadata where !seenKeys.insert(key).inserted { throw .duplicateKey(key, offset: 0) }
        for t in tensors {
            guard seenTensors.insert(t.name).inserted else { throw .duplicateTensor(t.name, offset: 0) }
            guard (1...4).contains(t.shape.count), t.shape.allSatisfy({ $0 >= 1 }), t.shape[0] % t.type.blockSize == 0 else {
                throw .badTensor(tensor: t.name, reason: "shape \(t.shape) cannot be stored as \(t.type.name)", offset: 0)
            }
        }

        var h: [UInt8] = []
        h.append(le: ggufMagic)
        h.append(le: UInt32(3))
        h.append(le: UInt64(tensors.count))
        h.append(le: UInt64(metadata.count))
        for (key, value) in metadata {
            h.appendString(key)
            h.append(le: value.type.rawValue)
            h.appendValue(value)
        }
        var relative = 0
        for t in tensors {
            h.appendString(t.name)
            h.append(le: UInt32(t.shape.count))
            for d in t.shape { h.append(le: UInt64(d)) }
            h.append(le: t.type.rawValue)
            h.append(le: UInt64(relative))
            relative += (t.byteCount + alignment - 1) / alignment * alignment
        }
        h.append(contentsOf: repeatElement(0, count: (alignment - h.count % alignment) % alignment))
        out = try AtomicFileWriter(path: path)
        try out.write(h)
    }

    /// Appends the next planned tensor's bytes, which must be exactly its planned size.
    public func writeTensor(_ bytes: UnsafeRawBufferPointer) throws(TensorFileError) {
        precondition(next < plans.count, "more tensors written than planned")
        let plan = plans[next]
        precondition(bytes.count == plan.byteCount, "tensor '\(plan.name)': \(bytes.count) bytes, planned \(plan.byteCount)")
        try out.write(bytes)
        try out.writeZeros((alignment - bytes.count % alignment) % alignment)
        next += 1
    }

    public func writeTensor(_ bytes: [UInt8]) throws(TensorFileError) {
        var failure: TensorFileError?
        bytes.withUnsafeBytes { b in
            do throws(TensorFileError) { try writeTensor(b) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Checks every planned tensor was written, then syncs and renames into place.
    public func finish() throws(TensorFileError) {
        precondition(next == plans.count, "\(plans.count - next) planned tensors not written")
        try out.commit()
    }

    public var bytesWritten: Int { out.bytesWritten }
}

extension [UInt8] {
    mutating func append<T: FixedWidthInteger>(le v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendString(_ s: String) {
        append(le: UInt64(s.utf8.count))
        append(contentsOf: s.utf8)
    }

    mutating func appendValue(_ value: GGUFValue) {
        switch value {
        case let .uint8(v): append(le: v)
        case let .int8(v): append(le: v)
        case let .uint16(v): append(le: v)
        case let .int16(v): append(le: v)
        case let .uint32(v): append(le: v)
        case let .int32(v): append(le: v)
        case let .uint64(v): append(le: v)
        case let .int64(v): append(le: v)
        case let .float32(v): append(le: v.bitPattern)
        case let .float64(v): append(le: v.bitPattern)
        case let .bool(v): append(v ? 1 : 0)
        case let .string(s): appendString(s)
        case let .array(a):
            append(le: a.elementType.rawValue)
            append(le: UInt64(a.count))
            switch a {
            case let .uint8(x): x.forEach { append(le: $0) }
            case let .int8(x): x.forEach { append(le: $0) }
            case let .uint16(x): x.forEach { append(le: $0) }
            case let .int16(x): x.forEach { append(le: $0) }
            case let .uint32(x): x.forEach { append(le: $0) }
            case let .int32(x): x.forEach { append(le: $0) }
            case let .uint64(x): x.forEach { append(le: $0) }
            case let .int64(x): x.forEach { append(le: $0) }
            case let .float32(x): x.forEach { append(le: $0.bitPattern) }
            case let .float64(x): x.forEach { append(le: $0.bitPattern) }
            case let .bool(x): x.forEach { append($0 ? 1 : 0) }
            case let .string(x): x.forEach { appendString($0) }
            }
        }
    }
}
