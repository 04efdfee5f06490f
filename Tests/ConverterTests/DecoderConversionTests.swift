// quantize on the decoder fixtures (Mixtral, Mistral, CTRL, XLNet; their tensor bytes are checked in
// ConverterTests.swift, Swiftlet's names for ctrl and xlnet): hyper-parameter keys as config.json
// says, and tokenizer keys as llama.cpp writes them (expectations from tools/reference/make_decoder_fixtures.py,
// which also checks mixtral-tiny and mistral-tiny against llama.cpp's own converter).

import Converter
import Engine
import Foundation
import Quant
import Testing
import TestSupport
import TensorFile

let decoderFixtures = ["mixtral-tiny", "mistral-tiny", "ctrl-tiny", "xlnet-tiny"]

/// `value` (from a fixture's JSON) equals the GGUF value `v`, element for element; floats compare as f32.
func same(_ v: GGUFValue, _ value: JSONValue) -> Bool {
    func float(_ j: JSONValue) -> Float? { j.double.map { Float($0) } }
    switch v {
    case let .string(s): return s == value.string
    case let .float32(x): return x == float(value)
    case let .bool(b): return b == value.bool
    case let .array(.string(a)): return a == value.array?.compactMap(\.string) && a.count == value.array?.count
    case let .array(.float32(a)): return a == value.array?.compactMap(float) && a.count == value.array?.count
    case let .array(a): return a.integers != nil && a.integers == value.array?.compactMap(\.int) && a.count == value.array?.count
    default: return v.integer != nil && v.integer == value.int
    }
}

@Test(arguments: decoderFixtures)
func decoderMetadataFollowsConfig(_ model: String) throws {
    let out = try temporaryDirectory("dec-meta-\(model)").appendingPathComponent("out.gguf").path
    _ = try convert(fixtures.appendingPathComponent(model).path, to: out, .q8_0)
    let f = try GGUFFile(path: out)
    let expected = try #require(try json(fixtures.appendingPathComponent("\(model)/expected_tensors.json"))["_meta"]?["expected_kv"]?.object)
    for (key, value) in expected.entries {
        guard let v = f.value(key) else {
            Issue.record("missing \(key)")
            continue
        }
        #expect(same(v, value), "\(key): \(v) != \(value)")
    }
    // Keys of this architecture that the expectations do not name are not written.
    let arch = try f.architecture()
    let written = Set(f.metadata.map(\.key).filter { $0.hasPrefix(arch + ".") })
    #expect(written == Set(expected.keys.filter { $0.hasPrefix(arch + ".") }))
    #expect(try f.int("general.file_type") == 7)
}

@Test(arguments: decoderFixtures)
func decoderTokenizerIsWrittenAsExpected(_ model: String) throws {
    let out = try temporaryDirectory("dec-tok-\(model)").appendingPathComponent("out.gguf").path
    _ = try convert(fixtures.appendingPathComponent(model).path, to: out, .f16)
    let f = try GGUFFile(path: out)
    let expected = try #require(try json(fixtures.appendingPathComponent("\(model)/gguf_vocab.json"))["metadata"]?.object)
    for (key, value) in expected.entries {
        guard let v = f.value(key) else {
            Issue.record("missing \(key)")
            continue
        }
        #expect(same(v, value), "\(key)")
    }
    let written = Set(f.metadata.map(\.key).filter { $0.hasPrefix("tokenizer.") })
    #expect(written == Set(expected.keys), "extra: \(written.subtracting(expected.keys)), missing: \(Set(expected.keys).subtracting(written))")
    #expect(try f.stringArray("tokenizer.ggml.tokens").count == (try f.int("\(try f.architecture()).vocab_size")))
}

@Test func mixtralExpertsAreStackedInExpertOrder() throws {
    // Swapping two experts' tensors swaps their slices of the stacked tensor: each expert lands at its own index.
    let dir = try fixtureCopy("mixtral-tiny", as: "mixtral-swap") { _ in }
    let original = dir.appendingPathComponent("original.gguf").path, swapped = dir.appendingPathComponent("swapped.gguf").path
    _ = try convert(dir.path, to: original, .f32)
    try editTensors(dir) { t in
        let a = t.firstIndex { $0.0 == "model.layers.0.block_sparse_moe.experts.1.w3.weight" }!
        let b = t.firstIndex { $0.0 == "model.layers.0.block_sparse_moe.experts.2.w3.weight" }!
        (t[a].2, t[b].2) = (t[b].2, t[a].2)
    }
    _ = try convert(dir.path, to: swapped, .f32)
    let fx = try GGUFFile(path: original), fy = try GGUFFile(path: swapped)
    defer { withExtendedLifetime((fx, fy)) {} }  // the byte views below point into their mappings
    let x = try fx.tensor("blk.0.ffn_up_exps.weight").bytes, y = try fy.tensor("blk.0.ffn_up_exps.weight").bytes
    let expert = 40 * 64 * 4  // bytes of one (ff, dim) f32 expert
    #expect(x.count == 4 * expert && y.count == 4 * expert)
    #expect(y[0..<expert].elementsEqual(x[0..<expert]))
    #expect(y[expert..<2 * expert].elementsEqual(x[2 * expert..<3 * expert]))
    #expect(y[2 * expert..<3 * expert].elementsEqual(x[expert..<2 * expert]))
    #expect(!y[expert..<2 * expert].elementsEqual(x[expert..<2 * expert]))
}

@Test func mixtralWithMoreExpertsUsedThanExistIsAConfigError() throws {
    try expectConversionError(try fixtureCopy("mixtral-tiny", as: "mixtral-used") { $0["num_experts_per_tok"] = 5 },
                              containing: "config key 'num_experts_per_tok': 5 is more than num_local_experts 4")
}

@Test func mixtralMissingExpertIsNamed() throws {
    let dir = try fixtureCopy("mixtral-tiny", as: "mixtral-missing") { _ in }
    try editTensors(dir) { $0.removeAll { $0.0 == "model.layers.1.block_sparse_moe.experts.3.w2.weight" } }
    try expectConversionError(dir, containing: "missing tensor 'model.layers.1.block_sparse_moe.experts.3.w2.weight'")
}

@Test func ctrlWithAnotherNormEpsilonIsRefused() throws {
    try expectConversionError(try fixtureCopy("ctrl-tiny", as: "ctrl-eps") { $0["layer_norm_epsilon"] = 1e-5 },
                              containing: "block norms always use 1e-6")
}

@Test func ctrlWithoutMergesIsNamed() throws {
    let dir = try fixtureCopy("ctrl-tiny", as: "ctrl-nomerges") { _ in }
    try FileManager.default.removeItem(at: dir.appendingPathComponent("merges.txt"))
    try expectConversionError(dir, containing: "merges.txt")
}
