// A file the engine does not fully understand is refused, not half-run: a tensor its architecture does not use
// (Llama 3's rope_freqs.weight, which would change RoPE) or the lack of one it needs is an error naming the tensor.

import Engine
import Foundation
import Testing
import TensorFile
import TestSupport

/// A copy of `source` with `extra` tensors (F32 zeros of the given shape) appended and `dropping` left out.
private func edited(_ source: GGUFFile, extra: [(String, [Int])], dropping: String? = nil, to path: String) throws {
    let kept = source.tensors.filter { $0.name != dropping }
    let plans = kept.map { GGUFTensorPlan(name: $0.name, type: $0.type, shape: $0.shape) }
        + extra.map { GGUFTensorPlan(name: $0.0, type: .f32, shape: $0.1) }
    let w = try GGUFWriter(path: path, metadata: source.metadata, tensors: plans)
    for t in kept { try w.writeTensor(try source.tensor(t.name).bytes) }
    for (_, shape) in extra { try [UInt8](repeating: 0, count: 4 * shape.reduce(1, *)).withUnsafeBytes { try w.writeTensor($0) } }
    try w.finish()
}

@Test(arguments: ["llama-tiny", "gpt2-tiny", "bert-tiny", "t5-tiny"])
func aTensorTheArchitectureDoesNotUseIsRefused(_ fixture: String) throws {
    let source = try GGUFFile(path: try fixtureGGUF(fixture, .f32))
    let dir = try temporaryDirectory("unused-tensor-\(fixture)")
    let path = dir.appendingPathComponent("extra.gguf").path
    try edited(source, extra: [("rope_freqs.weight", [8])], to: path)
    #expect(throws: ModelError.unexpectedTensor("rope_freqs.weight")) { _ = try Model(path: path) }
    // The unedited file loads: every tensor it holds is used.
    _ = try Model(path: source.path)
}

@Test func aMissingTensorIsNamed() throws {
    let source = try GGUFFile(path: try fixtureGGUF("llama-tiny", .f32))
    let path = try temporaryDirectory("missing-tensor").appendingPathComponent("missing.gguf").path
    try edited(source, extra: [], dropping: "blk.1.ffn_down.weight", to: path)
    #expect(throws: ModelError.missingTensor("blk.1.ffn_down.weight")) { _ = try Model(path: path) }
}
