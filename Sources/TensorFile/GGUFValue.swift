// GGUF metadata values: the thirteen value types and typed arrays of them (nested arrays are rejected).

public enum GGUFValueType: UInt32, Sendable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// The smallest number of bytes one value of this type takes in a file (a string is at least its length).
    var minimumBytes: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64, .string: 8
        case .array: 12
        }
    }

    public var name: String { String(describing: self) }
}

public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    case array(GGUFArray)

    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        case .array: .array
        }
    }

    /// The value as an integer when it is stored as any integer type and fits.
    public var integer: Int? {
        switch self {
        case let .uint8(v): Int(v)
        case let .int8(v): Int(v)
        case let .uint16(v): Int(v)
        case let .int16(v): Int(v)
        case let .uint32(v): Int(v)
        case let .int32(v): Int(v)
        case let .uint64(v): Int(exactly: v)
        case let .int64(v): Int(v)
        default: nil
        }
    }

    /// Describes the stored type for error messages ("uint32", "array of string").
    public var typeDescription: String {
        if case let .array(a) = self { return "array of \(a.elementType.name)" }
        return type.name
    }
}

public enum GGUFArray: Sendable, Equatable {
    case uint8([UInt8]), int8([Int8]), uint16([UInt16]), int16([Int16]), uint32([UInt32]), int32([Int32])
    case uint64([UInt64]), int64([Int64]), float32([Float]), float64([Double]), bool([Bool]), string([String])

    public var elementType: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        }
    }

    public var count: Int {
        switch self {
        case let .uint8(a): a.count
        case let .int8(a): a.count
        case let .uint16(a): a.count
        case let .int16(a): a.count
        case let .uint32(a): a.count
        case let .int32(a): a.count
        case let .uint64(a): a.count
        case let .int64(a): a.count
        case let .float32(a): a.count
        case let .float64(a): a.count
        case let .bool(a): a.count
        case let .string(a): a.count
        }
    }

    /// Integer elements of any integer element type, or nil when the elements are not integers or do not fit.
    public var integers: [Int]? {
        switch self {
        case let .uint8(a): a.map { Int($0) }
        case let .int8(a): a.map { Int($0) }
        case let .uint16(a): a.map { Int($0) }
        case let .int16(a): a.map { Int($0) }
        case let .uint32(a): a.map { Int($0) }
        case let .int32(a): a.map { Int($0) }
        case let .uint64(a): a.allSatisfy({ $0 <= UInt64(Int.max) }) ? a.map { Int($0) } : nil
        case let .int64(a): a.map { Int($0) }
        default: nil
        }
    }
}
