// A weight whose type has no kernels is refused when the model loads, with an error naming the tensor and its
// type: never multiplied by another type's kernel, never a precondition failure in Matrix.

import Engine
import Foundation
import Quant
import Testing
import TensorFile
import TestSupport

@Test func unsupportedWeightTypeNamesTheTensor() throws {
    let source = try GGUFFile(path: try fixtureGGUF("llama-tiny", .f32))
    let name = "blk.0.attn_q.weight"
    let cols = try #require(source.tensors.first { $0.name == name }).shape[0]
    // Every type without kernels whose blocks tile the row (the fixture's rows are 96 long: 32-element and
    // scalar types).
    let types = GGMLType.allCases.filter { !$0.isComputable && cols % $0.blockSize == 0 }
    #expect(types.contains(.q5_0) || types.contains(.i32))
    let dir = try temporaryDirectory("unsupported-weight-type")
    for type in types {
        let path = dir.appendingPathComponent("\(type.name).gguf").path
        let plans = source.tensors.map { GGUFTensorPlan(name: $0.name, type: $0.name == name ? type : $0.type, shape: $0.shape) }
        let w = try GGUFWriter(path: path, metadata: source.metadata, tensors: plans)
        for (t, plan) in zip(source.tensors, plans) {
            if t.name == name {
                try [UInt8](repeating: 0, count: plan.byteCount).withUnsafeBytes { try w.writeTensor($0) }
            } else {
                try w.writeTensor(try source.tensor(t.name).bytes)
            }
        }
        try w.finish()
        #expect(throws: ModelError.unsupported("tensor '\(name)': type \(type.name)")) { _ = try Model(path: path) }
    }
}
