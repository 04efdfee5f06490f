// quantize's converter against llama.cpp's conventions: every tiny Hugging Face fixture becomes GGUF files whose
// tensors are byte-identical to convert_hf_to_gguf.py's conventions + gguf.quants (hashes in
// Tests/Fixtures/*/expected_tensors.json, made by tools/reference/); Llama and GPT-2 metadata, tokenizer, errors.

import Converter
import Engine
import Foundation
import Quant
import Testing
import TestSupport
import TensorFile

struct ModelType: CustomStringConvertible, Sendable {
    let model: String, type: GGMLType
    var description: String { "\(model) \(type.name)" }
}

/// Every fixture at every type: decoders, encoders and encoder-decoders alike; Q5_0 and Q5_1 for the two whose
/// expectations tools/reference re-derives without torch (make_fixtures.py --only expectations).
let conversions = (["llama-tiny", "gpt2-tiny"] + decoderFixtures + encoderFixtures + seq2seqFixtures).flatMap { m in
    [GGMLType.f32, .f16, .q8_0, .q4_0, .q4_1].map { ModelType(model: m, type: $0) }
} + ["llama-tiny", "gpt2-tiny"].flatMap { m in [GGMLType.q5_0, .q5_1].map { ModelType(model: m, type: $0) } }

@Test(arguments: conversions)
func tensorsAreByteIdenticalToReferenceConversion(_ c: ModelType) throws {
    let out = try temporaryDirectory("\(c.model)-\(c.type.name)").appendingPathComponent("out.gguf").path
    _ = try convert(fixtures.appendingPathComponent(c.model).path, to: out, c.type)
    let f = try GGUFFile(path: out)
    let expected = try #require(try json(fixtures.appendingPathComponent("\(c.model)/expected_tensors.json"))[c.type.name.lowercased()]?.object)
    #expect(Set(f.tensors.map(\.name)) == Set(expected.keys))
    for t in f.tensors {
        let e = try #require(expected[t.name], "unexpected tensor \(t.name)")
        #expect(t.type.name == e["ggml_type"]?.string, "\(t.name) type")
        #expect(t.shape == e["shape"]?.array?.compactMap(\.int), "\(t.name) shape")
        #expect(fnv1a64(try f.tensor(t.name).bytes) == e["fnv1a64"]?.string, "\(t.name) bytes")
    }
}

@Test func llamaMetadataFollowsConfigAndLlamaCppKeys() throws {
    let out = try temporaryDirectory("llama-meta").appendingPathComponent("out.gguf").path
    _ = try convert(fixtures.appendingPathComponent("llama-tiny").path, to: out, .q8_0)
    let f = try GGUFFile(path: out)
    let config = try json(fixtures.appendingPathComponent("llama-tiny/config.json"))
    #expect(try f.architecture() == "llama")
    #expect(try f.int("general.file_type") == 7)
    #expect(try f.int("llama.block_count") == config["num_hidden_layers"]?.int)
    #expect(try f.int("llama.embedding_length") == config["hidden_size"]?.int)
    #expect(try f.int("llama.feed_forward_length") == config["intermediate_size"]?.int)
    #expect(try f.int("llama.attention.head_count") == config["num_attention_heads"]?.int)
    #expect(try f.int("llama.attention.head_count_kv") == config["num_key_value_heads"]?.int)
    #expect(try f.int("llama.rope.dimension_count") == config["hidden_size"]!.int! / config["num_attention_heads"]!.int!)
    #expect(try f.float("llama.rope.freq_base") == Float(config["rope_parameters"]!["rope_theta"]!.double!))
    #expect(try f.float("llama.attention.layer_norm_rms_epsilon") == Float(config["rms_norm_eps"]!.double!))
    #expect(try f.int("llama.context_length") == config["max_position_embeddings"]?.int)
}

@Test func gpt2MetadataMatchesReference() throws {
    let out = try temporaryDirectory("gpt2-meta").appendingPathComponent("out.gguf").path
    _ = try convert(fixtures.appendingPathComponent("gpt2-tiny").path, to: out, .f32)
    let f = try GGUFFile(path: out)
    let expected = try #require(try json(fixtures.appendingPathComponent("gpt2-tiny/expected_tensors.json"))["_meta"]?["expected_kv"]?.object)
    for (key, value) in expected.entries {
        switch f.value(key) {
        case let .string(s)?: #expect(s == value.string, "\(key)")
        case let .float32(x)?: #expect(x == Float(value.double!), "\(key)")
        case let v?: #expect(v.integer == value.int, "\(key)")
        case nil: Issue.record("missing \(key)")
        }
    }
}

@Test func tokenizerIsWrittenAsLlamaCppWritesIt() throws {
    let out = try temporaryDirectory("tok").appendingPathComponent("out.gguf").path
    _ = try convert(fixtures.appendingPathComponent("llama-tiny").path, to: out, .q8_0)
    let f = try GGUFFile(path: out)
    let tokenizer = try json(fixtures.appendingPathComponent("llama-tiny/tokenizer.json"))
    let vocab = try #require(tokenizer["model"]?["vocab"]?.object)
    let tokens = try f.stringArray("tokenizer.ggml.tokens")
    #expect(tokens.count == (try f.int("llama.vocab_size")))
    for (token, id) in vocab.entries { #expect(tokens[id.int!] == token) }
    let types = try f.intArray("tokenizer.ggml.token_type")
    for added in tokenizer["added_tokens"]?.array ?? [] {
        let id = added["id"]!.int!
        #expect(tokens[id] == added["content"]?.string)
        #expect(types[id] == (added["special"]?.bool == true ? 3 : 4), "type of \(tokens[id])")
    }
    #expect(types.filter { $0 == 1 }.count == vocab.count - (tokenizer["added_tokens"]?.array ?? []).filter { vocab[$0["content"]!.string!] != nil }.count)
    let merges = try f.stringArray("tokenizer.ggml.merges")
    #expect(merges.count == tokenizer["model"]?["merges"]?.array?.count)
    #expect(try f.string("tokenizer.ggml.model") == "gpt2")
    #expect(try f.string("tokenizer.ggml.pre") == "gpt-2")  // llama.cpp spells it so
    let bos = try f.int("tokenizer.ggml.bos_token_id"), eos = try f.int("tokenizer.ggml.eos_token_id")
    let tokenizerConfig = try json(fixtures.appendingPathComponent("llama-tiny/tokenizer_config.json"))
    #expect(tokens[bos] == tokenizerConfig["bos_token"]?.string)
    #expect(tokens[eos] == tokenizerConfig["eos_token"]?.string)
}

@Test(arguments: [GGMLType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .f16])
func requantizingAnF32FileEqualsConvertingDirectly(_ type: GGMLType) throws {
    let dir = try temporaryDirectory("requant-\(type.name)")
    let hf = fixtures.appendingPathComponent("llama-tiny").path
    _ = try convert(hf, to: dir.appendingPathComponent("f32.gguf").path, .f32)
    _ = try convert(dir.appendingPathComponent("f32.gguf").path, to: dir.appendingPathComponent("re.gguf").path, type)
    _ = try convert(hf, to: dir.appendingPathComponent("direct.gguf").path, type)
    let re = try GGUFFile(path: dir.appendingPathComponent("re.gguf").path)
    let direct = try GGUFFile(path: dir.appendingPathComponent("direct.gguf").path)
    #expect(re.tensors.map(\.name) == direct.tensors.map(\.name))
    for t in direct.tensors {
        #expect(try re.tensor(t.name).bytes.elementsEqual(direct.tensor(t.name).bytes), "\(t.name)")
    }
    #expect(try re.int("general.file_type") == (try direct.int("general.file_type")))
    #expect(try re.stringArray("tokenizer.ggml.tokens") == (try direct.stringArray("tokenizer.ggml.tokens")))
}

// MARK: Bad input: each names what is wrong, and leaves any existing output untouched.

/// A copy of fixture `fixture` (subdirectories included) in a fresh temporary folder named `name`, its
/// config.json changed by `edit`.
func fixtureCopy(_ fixture: String, as name: String, editConfig edit: (inout [String: Any]) -> Void = { _ in }) throws -> URL {
    let dir = try temporaryDirectory(name).appendingPathComponent(fixture)
    try FileManager.default.copyItem(at: fixtures.appendingPathComponent(fixture), to: dir)
    try editJSON(dir.appendingPathComponent("config.json"), edit)
    return dir
}

func editJSON(_ url: URL, _ edit: (inout [String: Any]) -> Void) throws {
    var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    edit(&object)
    try JSONSerialization.data(withJSONObject: object).write(to: url)
}

/// A copy of the llama-tiny fixture whose config.json is changed by `edit`.
func llamaCopy(_ name: String, editConfig edit: (inout [String: Any]) -> Void = { _ in }) throws -> URL {
    try fixtureCopy("llama-tiny", as: name, editConfig: edit)
}

/// Writes a safetensors file of F32 tensors.
func writeSafetensors(_ tensors: [(String, [Int], [Float])], to url: URL) throws {
    var header: [String: Any] = [:], data = Data(), offset = 0
    for (name, shape, values) in tensors {
        header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + 4 * values.count]]
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        offset += 4 * values.count
    }
    var h = try JSONSerialization.data(withJSONObject: header)
    while h.count % 8 != 0 { h.append(0x20) }
    var file = Data()
    withUnsafeBytes(of: UInt64(h.count).littleEndian) { file.append(contentsOf: $0) }
    try (file + h + data).write(to: url)
}

/// Rewrites dir's model.safetensors with `edit` applied to its tensors.
func editTensors(_ dir: URL, _ edit: (inout [(String, [Int], [Float])]) -> Void) throws {
    let model = try SafetensorsModel(path: dir.appendingPathComponent("model.safetensors").path)
    var tensors = try model.tensors.map { ($0.name, $0.shape, try $0.floats()) }
    edit(&tensors)
    try writeSafetensors(tensors, to: dir.appendingPathComponent("model.safetensors"))
}

func expectConversionError(_ dir: URL, containing text: String) throws {
    let out = dir.appendingPathComponent("out.gguf")
    try Data("existing".utf8).write(to: out)
    do {
        _ = try convert(dir.path, to: out.path, .q8_0)
        Issue.record("conversion of \(dir.lastPathComponent) succeeded; expected an error containing '\(text)'")
    } catch {
        #expect("\(error)".contains(text), "error: \(error)")
    }
    #expect(try String(contentsOf: out, encoding: .utf8) == "existing")
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp.") }
    #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
}

@Test func unknownArchitectureIsNamed() throws {
    try expectConversionError(try llamaCopy("unknown") { $0["architectures"] = ["FrobnicatorForCausalLM"] },
                              containing: "unknown architecture 'FrobnicatorForCausalLM'")
}

@Test func configAndTensorShapesMustAgree() throws {
    try expectConversionError(try llamaCopy("shape") { $0["intermediate_size"] = 192 },
                              containing: "tensor 'model.layers.0.mlp.gate_proj.weight': shape [160, 96], expected [192, 96]")
}

@Test func badHeadCountsAreConfigErrors() throws {
    try expectConversionError(try llamaCopy("heads") { $0["num_key_value_heads"] = 3 },
                              containing: "config key 'num_key_value_heads': 3 does not divide num_attention_heads 4")
}

@Test func strayTensorIsNotDroppedSilently() throws {
    let dir = try llamaCopy("stray")
    try editTensors(dir) { $0.append(("model.layers.0.mystery.weight", [2], [1, 2])) }
    try expectConversionError(dir, containing: "tensor 'model.layers.0.mystery.weight' is not used by this architecture")
}

@Test func missingTensorIsNamed() throws {
    let dir = try llamaCopy("missing")
    try editTensors(dir) { $0.removeAll { $0.0 == "model.layers.1.mlp.up_proj.weight" } }
    try expectConversionError(dir, containing: "missing tensor 'model.layers.1.mlp.up_proj.weight'")
}

@Test func nonFiniteWeightIsRefused() throws {
    let dir = try llamaCopy("nan")
    try editTensors(dir) { t in
        let i = t.firstIndex { $0.0 == "model.layers.0.self_attn.v_proj.weight" }!
        t[i].2[5] = .nan
    }
    try expectConversionError(dir, containing: "tensor 'blk.0.attn_v.weight': element 5 is nan")
}

@Test func missingTokenizerIsNamed() throws {
    let dir = try llamaCopy("notok")
    try FileManager.default.removeItem(at: dir.appendingPathComponent("tokenizer.json"))
    try expectConversionError(dir, containing: "tokenizer.json not found")
}

@Test func requantizingANonFiniteGGUFWeightIsRefused() throws {
    let dir = try temporaryDirectory("gguf-nan")
    let input = dir.appendingPathComponent("in.gguf").path, output = dir.appendingPathComponent("out.gguf").path
    var values = [Float](repeating: 0.5, count: 64)
    values[37] = .infinity
    let w = try GGUFWriter(path: input, metadata: [("general.architecture", .string("llama"))],
                           tensors: [GGUFTensorPlan(name: "blk.0.ffn_up.weight", type: .f32, shape: [32, 2])])
    try values.withUnsafeBytes { try w.writeTensor($0) }
    try w.finish()
    do {
        _ = try convert(input, to: output, .q8_0)
        Issue.record("an infinite weight was re-quantized")
    } catch {
        #expect("\(error)" == "tensor 'blk.0.ffn_up.weight': element 37 is inf; refusing to write a non-finite weight")
    }
    #expect(!FileManager.default.fileExists(atPath: output))
}
