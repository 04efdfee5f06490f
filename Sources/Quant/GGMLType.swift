// ggml's tensor element types: ids and names, as ggml.h / ggml.c define them. Every id a GGUF file may carry
// is listed so files with other types can still be inspected; what each type is (block size and bytes, codec)
// is declared once, in the table in BlockFormat.swift.

public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3
    case q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case iq2_XXS = 16, iq2_XS = 17, iq3_XXS = 18, iq1_S = 19, iq4_NL = 20, iq3_S = 21, iq2_S = 22, iq4_XS = 23
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_M = 29, bf16 = 30
    case tq1_0 = 34, tq2_0 = 35, mxfp4 = 39

    /// ggml's name, as `ggml_type_name` prints it and the gguf package spells the enum ("Q4_1", "F32").
    public var name: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .bf16: "BF16"
        case .f64: "F64"
        case .i8: "I8"
        case .i16: "I16"
        case .i32: "I32"
        case .i64: "I64"
        case .mxfp4: "MXFP4"
        default: String(describing: self).uppercased()
        }
    }

    /// Parses a user-facing type name such as `q8_0` or `F16`, case-insensitively.
    public init?(name: String) {
        let lower = name.lowercased()
        guard let t = GGMLType.allCases.first(where: { $0.name.lowercased() == lower }) else { return nil }
        self = t
    }

    /// Bytes for `elements` elements, or nil when `elements` is not a whole number of blocks or it overflows.
    public func byteCount(elements: Int) -> Int? {
        guard elements >= 0, elements % blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / blockSize).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }
}
