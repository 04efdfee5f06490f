// The table of matrix-product kernels: for each weight type, the activations it pairs with and the function that
// computes a thread's share of a product (ggml-cpu.c's type_traits_cpu {.from_float, .vec_dot, .vec_dot_type};
// its arch/<isa>/quants.c hold one instruction set's kernels each). Quant/BlockFormat.swift is the table of block
// layouts; KernelsTests checks that every computable type, and no other, has kernels in every set (`all`).
// A new weight type is one entry per set plus its kernel file; a new instruction set is one more KernelSet.

import Quant
#if canImport(Glibc)
import Glibc
#endif

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

/// The matrix-product kernels of one instruction set, one entry per weight type it multiplies itself.
public struct KernelSet: Sendable {
    public let name: String
    public let entries: [MatMulKernels]
    /// Where the types this set has no entry for, and matrices with 16-bit activations (Matrix.wideActivations),
    /// take their kernels: the generic set's, for a set whose own take 8-bit activations. nil: nowhere else.
    let base: [MatMulKernels]?

    init(name: String, entries: [MatMulKernels], base: KernelSet? = nil) {
        self.name = name
        self.entries = entries
        self.base = base?.entries
    }

    /// The kernels for `type` weights (with 16-bit activations when `wide`), or nil when this set has none.
    public func kernels(for type: GGMLType, wide: Bool = false) -> MatMulKernels? {
        if !wide, let own = entries.first(where: { $0.weights == type }) { return own }
        return (base ?? (wide ? entries : [])).first { $0.weights == type }
    }
}

extension KernelSet {
    /// Swift SIMD code compiled for the package's target CPU (AVX2, FMA and F16C on x86-64: Int16 products
    /// with vpmaddwd): the reference that sets for other instruction sets are tested against, and what
    /// non-x86 builds run.
    public static let generic = KernelSet(name: "generic", entries: [
        MatMulKernels(weights: .f32, activations: nil, rows: { c, t, n in floatShare(F32Row.self, c, t, n) }),
        MatMulKernels(weights: .f16, activations: nil, rows: { c, t, n in floatShare(F16Row.self, c, t, n) }),
        MatMulKernels(weights: .bf16, activations: nil, rows: { c, t, n in floatShare(BF16Row.self, c, t, n) }),
        MatMulKernels(weights: .q8_0, activations: .q8_0, rows: { c, t, n in quantizedShare(Q8_0Block.self, c, t, n) }),
        MatMulKernels(weights: .q4_0, activations: .q8_0, rows: { c, t, n in quantizedShare(Q4_0Block.self, c, t, n) }),
        MatMulKernels(weights: .q4_1, activations: .q8_0, rows: { c, t, n in quantizedShare(Q4_1Block.self, c, t, n) }),
        MatMulKernels(weights: .q5_0, activations: .q8_0, rows: { c, t, n in quantizedShare(Q5_0Block.self, c, t, n) }),
        MatMulKernels(weights: .q5_1, activations: .q8_0, rows: { c, t, n in quantizedShare(Q5_1Block.self, c, t, n) }),
    ])

    /// Every set this build has (KernelsTests checks each against the table and against `generic`).
    public static var all: [KernelSet] {
        #if arch(x86_64)
        [generic, avx2]
        #else
        [generic]
        #endif
    }

    /// The sets this CPU can run.
    public static var supported: [KernelSet] { all.filter { CPUFeatures.current.runs($0.name) } }

    /// The set used when SWIFTLET_CPU is unset: the last this CPU runs of `all` (each set keeps only the kernels that
    /// measured faster than generic's, so the most specific set is the best).
    public static var preferred: KernelSet { supported.last ?? generic }

    /// The set every Matrix takes its kernels from, chosen once per process: `SWIFTLET_CPU` when it names a set
    /// this build has and this CPU runs, else `preferred`. Front doors check `selection` first so that a bad
    /// `SWIFTLET_CPU` is an error, not a silent fallback.
    public static let selected: KernelSet = (try? selection.get()) ?? preferred

    /// `SWIFTLET_CPU`'s choice (generic, avx2, avx512), or `preferred` when it is unset.
    public static let selection: Result<KernelSet, KernelSetError> = {
        guard let raw = getenv("SWIFTLET_CPU") else { return .success(preferred) }
        let name = String(cString: raw)
        guard ["generic", "avx2", "avx512"].contains(name) else { return .failure(.unknown(name)) }
        guard let set = all.first(where: { $0.name == name }) else { return .failure(.notBuilt(name)) }
        guard CPUFeatures.current.runs(name) else { return .failure(.unsupported(name)) }
        return .success(set)
    }()
}

/// A `SWIFTLET_CPU` that cannot be honoured.
public enum KernelSetError: Error, Equatable, CustomStringConvertible {
    case unknown(String), notBuilt(String), unsupported(String)
    public var description: String {
        switch self {
        case let .unknown(n): "SWIFTLET_CPU='\(n)' is not a kernel set (generic, avx2, avx512)"
        case let .notBuilt(n): "SWIFTLET_CPU=\(n): this build has no \(n) kernels (it has: \(KernelSet.all.map(\.name).joined(separator: ", ")))"
        case let .unsupported(n): "SWIFTLET_CPU=\(n): this CPU lacks the instructions of the \(n) kernels"
        }
    }
}

extension ActivationKernels {
    /// Q8_0 values widened to Int16, with float scales and block sums (MatMulQuant.swift).
    static let q8_0 = ActivationKernels(type: .q8_0, rowBytes: { Q8_0Activations.rowBytes(cols: $0) },
                                        quantize: { quantizeActivations($0, cols: $1, wide: $2, into: $3) })
}
