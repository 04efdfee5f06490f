// quantize on the encoder family (BERT with pre-training, classification, NER and QA heads, a sentence-transformers
// BertModel, RoBERTa, DistilBERT, ALBERT; their tensor bytes are checked in ConverterTests.swift against
// tools/reference/encoder_fixtures.py's expectations): metadata and tokenizers as formats/TENSORS-encoders.md says, and the
// errors a broken directory gets.

import Converter
import Engine
import Foundation
import Quant
import Testing
import TestSupport
import TensorFile

let encoderFixtures = ["bert-tiny", "bert-seqcls-tiny", "bert-tokcls-tiny", "bert-qa-tiny", "bert-st-tiny",
                       "roberta-tiny", "distilbert-tiny", "albert-tiny"]

/// The formats/TENSORS-encoders.md section that documents each fixture.
let encoderSections = ["bert-tiny": "BERT", "bert-seqcls-tiny": "BERT", "bert-tokcls-tiny": "BERT", "bert-qa-tiny": "BERT",
                       "bert-st-tiny": "BERT", "roberta-tiny": "RoBERTa", "distilbert-tiny": "DistilBERT",
                       "albert-tiny": "ALBERT"]

/// Converts `fixture` once per type into a fresh directory and opens the result.
func convertedEncoder(_ fixture: String, _ type: GGMLType, from dir: URL? = nil) throws -> GGUFFile {
    let out = try temporaryDirectory("enc-\(fixture)-\(type.name)-\(UInt32.random(in: 0...UInt32.max))")
        .appendingPathComponent("out.gguf").path
    _ = try convert((dir ?? fixtures.appendingPathComponent(fixture)).path, to: out, type)
    return try GGUFFile(path: out)
}

/// Where a GGUF value differs from a value of the fixtures' JSON (numbers compared as the GGUF type holds them);
/// nil when they are equal. Arrays name their first differing element rather than print whole vocabularies.
func difference(_ v: GGUFValue, _ e: JSONValue) -> String? {
    func first<T: Equatable>(_ xs: [T], _ ys: [T?]) -> String? {
        guard xs.count == ys.count else { return "\(xs.count) elements, expected \(ys.count)" }
        return zip(xs, ys).enumerated().first { $0.element.0 != $0.element.1 }
            .map { "element \($0.offset): \($0.element.0), expected \($0.element.1.map { "\($0)" } ?? "nil")" }
    }
    let same: Bool
    switch v {
    case let .string(s): same = s == e.string
    case let .bool(b): same = b == e.bool
    case let .float32(x): same = e.double.map { Float($0) == x } ?? false
    case let .array(a):
        guard let list = e.array else { return "an array, expected \(e)" }
        switch a {
        case let .string(xs): return first(xs, list.map(\.string))
        case let .float32(xs): return first(xs, list.map { $0.double.map(Float.init) })
        case let .int32(xs): return first(xs.map(Int.init), list.map(\.int))
        case let .uint8(xs): return first(xs.map(Int.init), list.map(\.int))
        default: return "an array of \(a.elementType.name)"
        }
    default: same = v.integer != nil && v.integer == e.int
    }
    return same ? nil : "\(v), expected \(e)"
}

/// The fixture's expected_tensors.json.
func expectedTensors(_ model: String) throws -> JSONValue {
    try json(fixtures.appendingPathComponent("\(model)/expected_tensors.json"))
}

@Test(arguments: encoderFixtures)
func encoderMetadataIsAsDocumented(_ model: String) throws {
    let f = try convertedEncoder(model, .q8_0)
    let expected = try #require(try expectedTensors(model)["_meta"]?["expected_kv"]?.object)
    for (key, value) in expected.entries {
        let v = try #require(f.value(key), "missing \(key)")
        #expect(difference(v, value) == nil, "\(key): \(difference(v, value) ?? "")")
    }
    // Nothing beyond what is documented: every model key (architecture-scoped or token_type_count) is expected.
    let arch = try f.architecture()
    let written = f.metadata.map(\.key).filter { $0.hasPrefix(arch + ".") || $0 == MetadataKey.tokenTypeCount }
    #expect(Set(written) == Set(expected.keys.filter { $0 != MetadataKey.architecture }))
    #expect(try f.int("general.file_type") == 7)
}

@Test(arguments: encoderFixtures)
func encoderTokenizerIsWrittenAsLlamaCppWritesIt(_ model: String) throws {
    let f = try convertedEncoder(model, .f32)
    let expected = try #require(try json(fixtures.appendingPathComponent("\(model)/gguf_vocab.json"))["metadata"]?.object)
    let written = f.metadata.filter { $0.key.hasPrefix("tokenizer.") && $0.key != MetadataKey.tokenTypeCount }
    #expect(Set(written.map(\.key)) == Set(expected.keys))
    for (key, value) in written {
        let e = try #require(expected[key], "unexpected \(key)")
        #expect(difference(value, e) == nil, "\(key): \(difference(value, e) ?? "")")
    }
}

@Test func bertPreTrainingKeepsPoolerNextSentenceAndTiedMaskedLMHead() throws {
    let f = try convertedEncoder("bert-tiny", .f32)
    let names = Set(f.tensors.map(\.name))
    for head in ["cls", "cls.nsp", "mlm.dense", "mlm.norm"] {
        #expect(names.contains(head + ".weight") && names.contains(head + ".bias"), "\(head)")
    }
    #expect(names.contains("output.bias") && !names.contains("output.weight"), "the decoder is tied to token_embd")
    #expect(f.info("cls.nsp.weight")?.shape == [72, 2])
    #expect(f.info("output.bias")?.shape == [try f.int("bert.vocab_size")])
}

@Test func classifiersCarryTheirLabels() throws {
    let sequence = try convertedEncoder("bert-seqcls-tiny", .f32)
    #expect(try sequence.stringArray("bert.classifier.output_labels") == ["negative", "neutral", "positive"])
    #expect(sequence.info("cls.output.weight")?.shape == [64, 3])
    #expect(try sequence.string("bert.classifier.activation") == "tanh")
    let token = try convertedEncoder("bert-tokcls-tiny", .f32)
    #expect(try token.stringArray("bert.classifier.output_labels") == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])
    #expect(token.info("cls.token.weight")?.shape == [64, 5])
    #expect(token.info("cls.weight") == nil, "token classification has no pooler")
    let qa = try convertedEncoder("bert-qa-tiny", .f32)
    #expect(qa.info("cls.qa.weight")?.shape == [64, 2])
    #expect(!qa.contains("bert.classifier.output_labels"))
}

@Test func robertaPositionsStartAtPaddingIdxPlusOne() throws {
    let f = try convertedEncoder("roberta-tiny", .f32)
    let hf = try SafetensorsModel(path: fixtures.appendingPathComponent("roberta-tiny/model.safetensors").path)
    let table = try #require(hf.tensor("roberta.embeddings.position_embeddings.weight"))
    let source = try table.floats(), dim = table.shape[1]
    let view = try f.tensor("position_embd.weight")
    #expect(view.info.shape == [dim, table.shape[0] - 2])
    let written = Array(view.bytes.bindMemory(to: Float.self))
    #expect(written == Array(source[(2 * dim)...]), "position i is HF row pad_token_id + 1 + i")
    #expect(try f.int("bert.context_length") == table.shape[0] - 2)
}

@Test func albertStoresSharedLayersOnceWithItsProjection() throws {
    let f = try convertedEncoder("albert-tiny", .f32)
    #expect(try f.int("albert.block_count") == 4)
    #expect(try f.int("albert.layer_group_count") == 2)
    #expect(try f.int("albert.inner_group_count") == 1)
    #expect(f.info("blk.1.attn_q.weight") != nil && f.info("blk.2.attn_q.weight") == nil)
    #expect(f.info("token_embd.weight")?.shape == [32, 300])
    #expect(f.info("token_embd_proj.weight")?.shape == [32, 60])
    #expect(f.info("mlm.dense.weight")?.shape == [60, 32])
    #expect(f.info("cls.sop.weight")?.shape == [60, 2])
}

@Test func sentenceTransformersPoolingAndLengthAreRecorded() throws {
    let f = try convertedEncoder("bert-st-tiny", .f32)
    #expect(try f.int("bert.pooling_type") == 1)  // llama.cpp's MEAN
    #expect(try f.int("bert.sentence_transformers.max_seq_length") == 40)
    #expect(try f.bool("bert.sentence_transformers.normalize"))
    let dir = try fixtureCopy("bert-st-tiny", as: "st-cls")
    try editJSON(dir.appendingPathComponent("1_Pooling/config.json")) {
        $0["pooling_mode_mean_tokens"] = false
        $0["pooling_mode_cls_token"] = true
    }
    #expect(try convertedEncoder("bert-st-tiny", .f32, from: dir).int("bert.pooling_type") == 2)
}

@Test func tensorFlowLayerNormNamesConvertAlike() throws {
    let dir = try fixtureCopy("bert-tiny", as: "gamma")
    try editTensors(dir) { t in
        for i in t.indices where t[i].0.contains("LayerNorm.") {
            t[i].0 = t[i].0.replacing(".weight", with: ".gamma").replacing(".bias", with: ".beta")
        }
    }
    let renamed = try convertedEncoder("bert-tiny", .q8_0, from: dir), original = try convertedEncoder("bert-tiny", .q8_0)
    #expect(renamed.tensors.map(\.name) == original.tensors.map(\.name))
    for t in original.tensors {
        #expect(try renamed.tensor(t.name).bytes.elementsEqual(original.tensor(t.name).bytes), "\(t.name)")
    }
}

@Test func untiedDecoderIsWrittenAsOutput() throws {
    let dir = try fixtureCopy("distilbert-tiny", as: "untied") { $0["tie_word_embeddings"] = false }
    try editTensors(dir) { t in
        let embedding = t.first { $0.0 == "distilbert.embeddings.word_embeddings.weight" }!
        t.append(("vocab_projector.weight", embedding.1, embedding.2.map { -$0 }))
    }
    let f = try convertedEncoder("distilbert-tiny", .f32, from: dir)
    #expect(f.info("output.weight")?.shape == [64, 300])
    let output = Array(try f.tensor("output.weight").bytes.bindMemory(to: Float.self))
    let embedding = Array(try f.tensor("token_embd.weight").bytes.bindMemory(to: Float.self))
    #expect(output == embedding.map { -$0 })
}

// MARK: formats/TENSORS-encoders.md

@Test(arguments: encoderFixtures)
func encoderTensorsDocMatchesConversion(_ model: String) throws {
    let f = try convertedEncoder(model, .f32)
    let sections = try documentedTensors(["TENSORS-encoders.md"])
    expectDocumented(f, try #require(sections[encoderSections[model]!], "no section for \(model)"))
}

// MARK: Bad input

@Test func strayEncoderTensorIsNotDroppedSilently() throws {
    let dir = try fixtureCopy("albert-tiny", as: "enc-stray")
    try editTensors(dir) { $0.append(("albert.encoder.albert_layer_groups.0.albert_layers.0.adapter.weight", [2], [1, 2])) }
    try expectConversionError(dir, containing: "tensor 'albert.encoder.albert_layer_groups.0.albert_layers.0.adapter.weight' is not used")
}

@Test func encoderConfigAndTensorShapesMustAgree() throws {
    let dir = try fixtureCopy("bert-tiny", as: "enc-shape") { $0["intermediate_size"] = 96 }
    try expectConversionError(dir, containing: "tensor 'bert.encoder.layer.0.intermediate.dense.weight': shape [64, 72], expected [96, 72]")
}

@Test func classifierWithoutLabelsIsAConfigError() throws {
    let dir = try fixtureCopy("bert-tokcls-tiny", as: "enc-labels") { $0["id2label"] = nil }
    try expectConversionError(dir, containing: "config key 'id2label': missing")
}

@Test func labelCountMustMatchTheClassifier() throws {
    let dir = try fixtureCopy("bert-seqcls-tiny", as: "enc-label-count") { $0["id2label"] = ["0": "no", "1": "yes"] }
    try expectConversionError(dir, containing: "tensor 'classifier.weight': shape [3, 64], expected [2, 64]")
}

@Test func missingTiedDecoderIsNamedWhenUntied() throws {
    let dir = try fixtureCopy("roberta-tiny", as: "enc-untied") { $0["tie_word_embeddings"] = false }
    try expectConversionError(dir, containing: "missing tensor 'lm_head.decoder.weight'")
}

@Test func unsupportedSentenceTransformersModuleIsRefused() throws {
    let dir = try fixtureCopy("bert-st-tiny", as: "enc-dense")
    let modules = dir.appendingPathComponent("modules.json")
    var list = try JSONSerialization.jsonObject(with: Data(contentsOf: modules)) as! [[String: Any]]
    list.insert(["idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"], at: 2)
    try JSONSerialization.data(withJSONObject: list).write(to: modules)
    try expectConversionError(dir, containing: "sentence-transformers module 'sentence_transformers.models.Dense'")
}

@Test func unknownWordPieceNormalizerIsRefused() throws {
    let dir = try fixtureCopy("distilbert-tiny", as: "enc-normalizer")
    try editJSON(dir.appendingPathComponent("tokenizer.json")) { $0["normalizer"] = ["type": "NFC"] }
    try expectConversionError(dir, containing: "WordPiece normalizer 'NFC'")
}

@Test func preTrainingHeadsAreKeptWhateverClassConfigNames() throws {
    // bert-base-uncased names BertForMaskedLM yet stores the pooler and NSP head; they are converted, not strays.
    let dir = try fixtureCopy("bert-tiny", as: "enc-class") { $0["architectures"] = ["BertForMaskedLM"] }
    let f = try convertedEncoder("bert-tiny", .f32, from: dir)
    #expect(Set(f.tensors.map(\.name)) == Set(try convertedEncoder("bert-tiny", .f32).tensors.map(\.name)))
}
