// The table of ggml's tensor types: each type's block declared once, as ggml-cpu.c declares
// `type_traits_cpu[GGML_TYPE_Q4_0] = {.from_float, .vec_dot, .vec_dot_type = GGML_TYPE_Q8_0}` and candle's
// `trait GgmlType` does. Every id has its block geometry, so any GGUF can be inspected; the types Swiftlet computes
// with also have a codec. blockSize, blockBytes, isComputable, quantizeRow and dequantizeRow derive from it, and
// Kernels/KernelSet.swift is its counterpart for matrix products.

/// One ggml type's block: `size` elements stored in `bytes` bytes, and, when Swiftlet computes with the type,
/// how to convert rows of it.
public struct BlockFormat: Sendable {
    /// Elements per block (1 for scalar types).
    public let size: Int
    public let bytes: Int
    /// nil for a type Swiftlet only lists.
    public let codec: Codec?

    init(_ size: Int, _ bytes: Int, _ codec: Codec? = nil) {
        self.size = size
        self.bytes = bytes
        self.codec = codec
    }

    /// A computable type's row conversions and the activation type its dot products pair with.
    public struct Codec: Sendable {
        /// Quantizes `count` floats (whole blocks) into blocks at `dst`, bit-identical to ggml's quantize_row_*_ref.
        public let quantize: @convention(c) (_ src: UnsafePointer<Float>, _ count: Int, _ dst: UnsafeMutableRawPointer) -> Void
        /// Expands `count` elements (whole blocks) into floats, as ggml's dequantize_row_*.
        public let dequantize: @convention(c) (_ src: UnsafeRawPointer, _ count: Int, _ dst: UnsafeMutablePointer<Float>) -> Void
        /// What activations are converted to for a dot product with this type (ggml's vec_dot_type); its block
        /// size divides this type's. F32 for float weights: their kernels read the activations as they are, where
        /// ggml rounds them to F16 for F16 weights. Q4_1 and Q5_1 pair with Q8_0 values and their block sums (ggml's
        /// Q8_1 stores those sums rounded to F16; Swiftlet keeps them in float).
        public let dotType: GGMLType
        /// llama.cpp's `general.file_type` (llama_ftype) for a file whose weights are mostly this type.
        public let fileType: UInt32
    }
}

extension GGMLType {
    /// This type's entry in the table. No `default:`: a new case must say what it is.
    public var format: BlockFormat {
        typealias C = BlockFormat.Codec
        return switch self {
        //                      elements bytes
        case .f32:     BlockFormat(1, 4, C(quantize: quantizeRowF32, dequantize: dequantizeRowF32, dotType: .f32, fileType: 0))
        case .f16:     BlockFormat(1, 2, C(quantize: quantizeRowF16, dequantize: dequantizeRowF16, dotType: .f32, fileType: 1))
        case .bf16:    BlockFormat(1, 2, C(quantize: quantizeRowBF16, dequantize: dequantizeRowBF16, dotType: .f32, fileType: 32))
        case .q8_0:    BlockFormat(32, 34, C(quantize: quantizeRowQ8_0, dequantize: dequantizeRowQ8_0, dotType: .q8_0, fileType: 7))
        case .q4_0:    BlockFormat(32, 18, C(quantize: quantizeRowQ4_0, dequantize: dequantizeRowQ4_0, dotType: .q8_0, fileType: 2))
        case .q4_1:    BlockFormat(32, 20, C(quantize: quantizeRowQ4_1, dequantize: dequantizeRowQ4_1, dotType: .q8_0, fileType: 3))
        case .q5_0:    BlockFormat(32, 22, C(quantize: quantizeRowQ5_0, dequantize: dequantizeRowQ5_0, dotType: .q8_0, fileType: 8))
        case .q5_1:    BlockFormat(32, 24, C(quantize: quantizeRowQ5_1, dequantize: dequantizeRowQ5_1, dotType: .q8_0, fileType: 9))
        case .q8_1:    BlockFormat(32, 36)
        case .q2_K:    BlockFormat(256, 84)
        case .q3_K:    BlockFormat(256, 110)
        case .q4_K:    BlockFormat(256, 144)
        case .q5_K:    BlockFormat(256, 176)
        case .q6_K:    BlockFormat(256, 210)
        case .q8_K:    BlockFormat(256, 292)
        case .iq2_XXS: BlockFormat(256, 66)
        case .iq2_XS:  BlockFormat(256, 74)
        case .iq3_XXS: BlockFormat(256, 98)
        case .iq1_S:   BlockFormat(256, 50)
        case .iq4_NL:  BlockFormat(32, 18)
        case .iq3_S:   BlockFormat(256, 110)
        case .iq2_S:   BlockFormat(256, 82)
        case .iq4_XS:  BlockFormat(256, 136)
        case .i8:      BlockFormat(1, 1)
        case .i16:     BlockFormat(1, 2)
        case .i32:     BlockFormat(1, 4)
        case .i64:     BlockFormat(1, 8)
        case .f64:     BlockFormat(1, 8)
        case .iq1_M:   BlockFormat(256, 56)
        case .tq1_0:   BlockFormat(256, 54)
        case .tq2_0:   BlockFormat(256, 66)
        case .mxfp4:   BlockFormat(32, 17)
        }
    }

    /// Elements per block (1 for scalar types).
    public var blockSize: Int { format.size }

    /// Bytes per block.
    public var blockBytes: Int { format.bytes }

    /// Types Swiftlet quantizes, dequantizes and multiplies with.
    public var isComputable: Bool { format.codec != nil }
}
