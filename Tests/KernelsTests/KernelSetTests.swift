// The kernel table (KernelSet.swift) against the type table (Quant's BlockFormat.swift): a type is computable
// exactly when it has a codec and exactly when every kernel set multiplies it, with the activations its
// codec names; a type without kernels is refused (EngineTests: unsupportedWeightTypeNamesTheTensor).

import Kernels
import Quant
import Testing

@Test func computableEqualsHasCodecEqualsHasKernels() {
    #expect(!KernelSet.all.isEmpty && KernelSet.all.contains { $0.name == KernelSet.selected.name })
    for set in KernelSet.all {
        for t in GGMLType.allCases {
            let codec = t.format.codec, kernels = set.kernels(for: t)
            #expect(t.isComputable == (codec != nil), "\(t.name)")
            #expect(t.isComputable == (kernels != nil), "\(t.name): kernels in the \(set.name) set")
            guard let codec, let kernels else { continue }
            #expect(kernels.weights == t)
            // The kernels read the activations the table pairs the type with (F32: the floats themselves).
            #expect((kernels.activations?.type ?? .f32) == codec.dotType,
                    "\(t.name) in \(set.name): activations \(kernels.activations?.type.name ?? "F32"), table \(codec.dotType.name)")
        }
        #expect(Set(set.entries.map(\.weights)).count == set.entries.count, "\(set.name): one entry per type")
    }
    for t in GGMLType.allCases { #expect(Matrix.canMultiply(t) == t.isComputable, "\(t.name)") }
}

@Test func scratchIsSizedByTheActivations() {
    for t in GGMLType.allCases.filter(\.isComputable) {
        let bytes = matMulScratchBytes(t, cols: 512, tokens: 3, threads: 2)
        if t.format.codec?.dotType == .f32 {
            #expect(bytes == 0, "\(t.name): float activations need no scratch")
        } else {
            // At least the quantized values themselves, one byte each, per token.
            #expect(bytes >= 3 * 512, "\(t.name): \(bytes) bytes")
        }
    }
}
