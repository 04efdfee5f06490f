// The table of matrix-product kernels: for each weight type, the activations it pairs with and the function that
// computes a thread's share of a product (ggml-cpu.c's type_traits_cpu {.from_float, .vec_dot, .vec_dot_type};
// its arch/<isa>/quants.c hold one instruction set's kernels each). Quant/BlockFormat.swift is the table of block
// layouts; KernelsTests checks that every computable type, and no other, has kernels in every set (`all`).
// A new weight type is one entry per set plus its kernel file; a new instruction set is one more KernelSet.

import Quant

/// One activation format: how each token's row of `cols` floats becomes the `rowBytes(cols)` bytes of scratch
/// that the dot kernels of the weights pairing with it read (ggml's from_float of a vec_dot_type).
public struct ActivationKernels: Sendable {
    /// The format whose values these are: the `BlockFormat.Codec.dotType` of the weights that use them.
    public let type: GGMLType
    let rowBytes: @convention(c) (_ cols: Int) -> Int
    /// Quantizes one token: `cols` floats (whole blocks of `type`) into rowBytes(cols) bytes at `out`;
    /// `wide`: Matrix.wideActivations.
    let quantize: @convention(c) (_ x: UnsafePointer<Float>, _ cols: Int, _ wide: Bool, _ out: UnsafeMutableRawPointer) -> Void
}

/// One weight type's kernels in one kernel set.
public struct MatMulKernels: Sendable {
    public let weights: GGMLType
    /// nil: the dot kernels read the float activations as they are.
    public let activations: ActivationKernels?
    /// This thread's share of a product's rows, every token (context: a MatMulJob): the type's one-token and
    /// four-token dot kernels, specialised.
    let rows: ThreadPool.Job
}

/// The matrix-product kernels of one instruction set, one entry per weight type it multiplies.
public struct KernelSet: Sendable {
    public let name: String
    public let entries: [MatMulKernels]

    /// The kernels for `type` weights, or nil when this set has none.
    public func kernels(for type: GGMLType) -> MatMulKernels? { entries.first { $0.weights == type } }
}

extension KernelSet {
    /// Swift SIMD code compiled for the package's target CPU (AVX2, FMA and F16C on x86-64: Int16 products
    /// with vpmaddwd): the reference that sets for other instruction sets are tested against.
    public static let generic = KernelSet(name: "generic", entries: [
        MatMulKernels(weights: .f32, activations: nil, rows: { c, t, n in floatShare(F32Row.self, c, t, n) }),
        MatMulKernels(weights: .f16, activations: nil, rows: { c, t, n in floatShare(F16Row.self, c, t, n) }),
        MatMulKernels(weights: .bf16, activations: nil, rows: { c, t, n in floatShare(BF16Row.self, c, t, n) }),
        MatMulKernels(weights: .q8_0, activations: .q8_0, rows: { c, t, n in quantizedShare(Q8_0Block.self, c, t, n) }),
        MatMulKernels(weights: .q4_0, activations: .q8_0, rows: { c, t, n in quantizedShare(Q4_0Block.self, c, t, n) }),
        MatMulKernels(weights: .q4_1, activations: .q8_0, rows: { c, t, n in quantizedShare(Q4_1Block.self, c, t, n) }),
    ])

    /// Every set (KernelsTests checks each against the table).
    public static let all = [generic]

    /// The set every Matrix takes its kernels from, chosen once per process: the only one so far.
    public static let selected = generic
}

extension ActivationKernels {
    /// Q8_0 values widened to Int16, with float scales and block sums (MatMulQuant.swift).
    static let q8_0 = ActivationKernels(type: .q8_0, rowBytes: { Q8_0Activations.rowBytes(cols: $0) },
                                        quantize: { quantizeActivations($0, cols: $1, wide: $2, into: $3) })
}
