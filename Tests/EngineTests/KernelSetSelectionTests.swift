// SWIFTLET_CPU through the built `swiftlet`: every kernel set this CPU runs can be chosen, says so in bench's JSON
// and gives the same logits as the generic set up to float32 summation order; a set the build or CPU lacks is one
// `error:` line.

import Foundation
import Kernels
import Quant
import Testing
import TestSupport
import TensorFile

private func swiftlet(_ args: [String], cpu: String) throws -> Run {
    try run(builtExecutable("swiftlet"), args, environment: ["SWIFTLET_CPU": cpu])
}

@Test(arguments: [GGMLType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1])
func everySupportedKernelSetGivesTheGenericLogits(_ type: GGMLType) throws {
    let ref = try Reference("llama-tiny")
    let model = try fixtureGGUF("llama-tiny", type)
    let ids = ref.promptIDs.map(String.init).joined(separator: ",")
    let dir = try temporaryDirectory("kernel-sets-\(type.name)")
    var logits: [String: [Float]] = [:]
    for set in KernelSet.supported.map(\.name) {
        let bench = try swiftlet(["bench", "-m", model, "-p", "8", "-n", "2", "-r", "1", "--json"], cpu: set)
        #expect(bench.status == 0, "\(bench.stderr)")
        #expect(try JSONValue.parse(bench.stdout, what: "bench --json")["kernels"]?.string == set)
        let out = dir.appendingPathComponent("\(set).bin").path
        let r = try swiftlet(["logits", "-m", model, "--ids", ids, "--out", out, "--cache-type", "f32"], cpu: set)
        #expect(r.status == 0, "\(r.stderr)")
        logits[set] = try Data(contentsOf: URL(fileURLWithPath: out)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
    let generic = try #require(logits["generic"])
    let range = Double(generic.max()! - generic.min()!)
    for (set, values) in logits where set != "generic" {
        // The same quantized activations and weights: only the order of float32 sums differs between sets
        // (≤ 1e-5 of Σ|w·x| per product, KernelsTests), far below 1e-4 of the logits' range after the layers.
        let worst = zip(values, generic).map { Double(abs($0 - $1)) }.max()!
        #expect(worst <= 1e-4 * range, "\(set) \(type.name): max |Δ| \(worst) of range \(range)")
    }
}

@Test func aKernelSetThatCannotRunIsOneErrorLine() throws {
    let model = try fixtureGGUF("llama-tiny", .q8_0)
    for (cpu, text) in [("avx1024", "is not a kernel set"), ("avx512", "avx512")] {
        let r = try swiftlet(["generate", "-m", model, "-p", "hi", "-n", "1"], cpu: cpu)
        expectOneErrorLine(r, containing: text)
        #expect(r.stderr.contains("SWIFTLET_CPU"))
    }
}
