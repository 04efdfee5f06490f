// quantize on the encoder-decoder fixtures (T5, FLAN-T5, BART, Marian; their tensor bytes are checked in
// ConverterTests.swift, Swiftlet's names for bart and marian): hyper-parameter and generation keys as
// config.json and generation_config.json say, and tokenizer keys as formats/TENSORS-seq2seq.md defines them
// (expectations from tools/reference/make_seq2seq_fixtures.py, which also checks flan-t5-tiny against llama.cpp's
// own converter).

import Converter
import Engine
import Foundation
import Quant
import Testing
import TestSupport
import TensorFile

let seq2seqFixtures = ["t5-tiny", "flan-t5-tiny", "bart-tiny", "marian-tiny"]

/// Every key in `expected` is in `f` with that value, and `f` has no other keys starting with `prefix`.
func expectKeys(_ f: GGUFFile, _ expected: JSONObject, prefix: String) {
    for (key, value) in expected.entries {
        guard let v = f.value(key) else {
            Issue.record("missing \(key)")
            continue
        }
        #expect(same(v, value), "\(key): \(v) != \(value)")
    }
    let written = Set(f.metadata.map(\.key).filter { $0.hasPrefix(prefix) })
    let want = Set(expected.keys.filter { $0.hasPrefix(prefix) })
    #expect(written == want, "extra: \(written.subtracting(want)), missing: \(want.subtracting(written))")
}

@Test(arguments: seq2seqFixtures)
func seq2seqMetadataFollowsConfigAndGenerationConfig(_ model: String) throws {
    let out = try temporaryDirectory("s2s-meta-\(model)").appendingPathComponent("out.gguf").path
    _ = try convert(fixtures.appendingPathComponent(model).path, to: out, .q8_0)
    let f = try GGUFFile(path: out)
    let expected = try #require(try json(fixtures.appendingPathComponent("\(model)/expected_tensors.json"))["_meta"]?["expected_kv"]?.object)
    expectKeys(f, expected, prefix: try f.architecture() + ".")
    #expect(try f.int("general.file_type") == 7)
}

@Test(arguments: seq2seqFixtures)
func seq2seqTokenizerIsWrittenAsExpected(_ model: String) throws {
    let out = try temporaryDirectory("s2s-tok-\(model)").appendingPathComponent("out.gguf").path
    _ = try convert(fixtures.appendingPathComponent(model).path, to: out, .f16)
    let f = try GGUFFile(path: out)
    let expected = try #require(try json(fixtures.appendingPathComponent("\(model)/gguf_vocab.json"))["metadata"]?.object)
    expectKeys(f, expected, prefix: "tokenizer.")
    #expect(try f.stringArray("tokenizer.ggml.tokens").count == (try f.int("\(try f.architecture()).vocab_size")))
}

@Test func t5SentinelsAreNamedAndTheRestPaddedAsLlamaCpp() throws {
    // t5-tiny: 120 pieces, 8 sentinels (<extra_id_0> is the last), vocab_size 136, as t5-base's 32100 in 32128.
    let out = try temporaryDirectory("s2s-sentinels").appendingPathComponent("out.gguf").path
    _ = try convert(fixtures.appendingPathComponent("t5-tiny").path, to: out, .f32)
    let f = try GGUFFile(path: out)
    let tokens = try f.stringArray("tokenizer.ggml.tokens"), types = try f.intArray("tokenizer.ggml.token_type").map { Int32($0) }
    #expect(tokens.count == 136)
    #expect(tokens[127] == "<extra_id_0>" && tokens[120] == "<extra_id_7>")
    #expect(types[120..<128].allSatisfy { $0 == TokenType.control.rawValue })
    #expect(tokens[128] == "[PAD128]" && tokens[135] == "[PAD135]")
    #expect(types[128...].allSatisfy { $0 == TokenType.unused.rawValue })
}

@Test func t5TiedHeadIsNotStoredAndItsScaleIsRecorded() throws {
    let dir = try temporaryDirectory("s2s-tied")
    _ = try convert(fixtures.appendingPathComponent("t5-tiny").path, to: dir.appendingPathComponent("t5.gguf").path, .f32)
    _ = try convert(fixtures.appendingPathComponent("flan-t5-tiny").path, to: dir.appendingPathComponent("flan.gguf").path, .f32)
    let t5 = try GGUFFile(path: dir.appendingPathComponent("t5.gguf").path)
    let flan = try GGUFFile(path: dir.appendingPathComponent("flan.gguf").path)
    #expect(!t5.tensors.contains { $0.name == "output.weight" })
    #expect(try t5.float("t5.logit_scale") == Float(1 / Double(32).squareRoot()))
    #expect(flan.tensors.contains { $0.name == "output.weight" })
    #expect(try flan.float("t5.logit_scale") == 1)
}

@Test func flanSavedByTransformers5StillKeepsItsOwnHead() throws {
    // transformers 5 saves FLAN-T5 with tie_word_embeddings true and scale_decoder_outputs false; the checkpoint's
    // lm_head differs from the embedding, so transformers unties it, and so must quantize.
    let dir = try fixtureCopy("flan-t5-tiny", as: "s2s-flan-v5") {
        $0["tie_word_embeddings"] = true
        $0["scale_decoder_outputs"] = false
    }
    let out = dir.appendingPathComponent("out.gguf").path
    _ = try convert(dir.path, to: out, .f32)
    let f = try GGUFFile(path: out)
    #expect(f.tensors.contains { $0.name == "output.weight" })
    #expect(try f.float("t5.logit_scale") == 1)
}

@Test func t5WithoutDecoderStartIsAConfigError() throws {
    try expectConversionError(try fixtureCopy("t5-tiny", as: "s2s-nostart") { $0.removeValue(forKey: "decoder_start_token_id") },
                              containing: "config key 'decoder_start_token_id': missing")
}

@Test func t5WithAMalformedFeedForwardIsAConfigError() throws {
    try expectConversionError(try fixtureCopy("t5-tiny", as: "s2s-ffproj") { $0["feed_forward_proj"] = "double-gated-gelu" },
                              containing: "config key 'feed_forward_proj': 'double-gated-gelu' is neither ACT nor gated-ACT")
}

@Test func generationDefaultsComeFromConfigWithoutGenerationConfig() throws {
    // bart-tiny's config.json (transformers 5) has forced_bos/eos but no beam settings; generation_config.json has both.
    let dir = try fixtureCopy("bart-tiny", as: "s2s-nogen") { _ in }
    try FileManager.default.removeItem(at: dir.appendingPathComponent("generation_config.json"))
    let out = dir.appendingPathComponent("out.gguf").path
    _ = try convert(dir.path, to: out, .f32)
    let f = try GGUFFile(path: out)
    #expect(try f.int("bart.generation.forced_eos_token_id") == 2)
    #expect(f.value("bart.generation.num_beams") == nil)
    #expect(f.value("bart.generation.length_penalty") == nil)
}

@Test func multiTokenBadWordsAreRefused() throws {
    let dir = try fixtureCopy("marian-tiny", as: "s2s-badwords") { _ in }
    let url = dir.appendingPathComponent("generation_config.json")
    var g = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    g["bad_words_ids"] = [[80], [5, 6]]
    try JSONSerialization.data(withJSONObject: g).write(to: url)
    try expectConversionError(dir, containing: "generation_config.json bad_words_ids entry [5,6] (only single tokens) is not supported")
}

@Test func marianWithSeparateVocabulariesIsRefused() throws {
    try expectConversionError(try fixtureCopy("marian-tiny", as: "s2s-separate") { $0["share_encoder_decoder_embeddings"] = false },
                              containing: "separate source and target vocabularies")
}

@Test func marianVocabularyIdsAreTheModelsNotTheSentencePieceModels() throws {
    // vocab.json puts </s> at 0 and <unk> at 1; source.spm has <unk> 0, <s> 1, </s> 2.
    let out = try temporaryDirectory("s2s-marian-ids").appendingPathComponent("out.gguf").path
    _ = try convert(fixtures.appendingPathComponent("marian-tiny").path, to: out, .f32)
    let f = try GGUFFile(path: out)
    let tokens = try f.stringArray("tokenizer.ggml.tokens"), source = try f.stringArray("tokenizer.swiftlet.source.tokens")
    #expect(tokens[0] == "</s>" && tokens[1] == "<unk>" && tokens.last == "<pad>")
    #expect(source[0] == "<unk>" && source[2] == "</s>")
    #expect(try f.int("tokenizer.ggml.eos_token_id") == 0 && f.int("tokenizer.ggml.padding_token_id") == tokens.count - 1)
    #expect(try f.intArray("tokenizer.ggml.token_type")[tokens.firstIndex(of: ">>de<<")!] == Int(TokenType.userDefined.rawValue))
}

@Test func bartPositionsStartAtPositionZero() throws {
    // embed_positions has max_position_embeddings + 2 rows; position p is row p + 2, and GGUF row p.
    let out = try temporaryDirectory("s2s-bart-pos").appendingPathComponent("out.gguf").path
    _ = try convert(fixtures.appendingPathComponent("bart-tiny").path, to: out, .q8_0)
    let f = try GGUFFile(path: out)
    defer { withExtendedLifetime(f) {} }  // the byte view below points into its mapping
    let model = try SafetensorsModel(path: fixtures.appendingPathComponent("bart-tiny/model.safetensors").path)
    let hf = try #require(model.tensor("model.decoder.embed_positions.weight")).floats()
    let t = try f.tensor("dec.position_embd.weight")
    #expect(t.type == .f32 && t.info.shape == [32, 40])
    #expect(t.bytes.assumingMemoryBound(to: Float.self).elementsEqual(hf[(2 * 32)...]))
}

/// A byte-level BPE directory saved by a slow tokenizer (vocab.json and merges.txt, no tokenizer.json) converts to
/// the same tokenizer metadata as its tokenizer.json does (BART's <mask> takes the space before it then, as
/// RobertaTokenizer's does).
@Test(arguments: ["bart-tiny", "roberta-tiny", "gpt2-tiny"])
func slowByteLevelBPEConvertsAsItsTokenizerJSON(_ model: String) throws {
    let fast = try temporaryDirectory("slow-bpe-fast-\(model)").appendingPathComponent("out.gguf").path
    _ = try convert(fixtures.appendingPathComponent(model).path, to: fast, .f32)
    let dir = try slowBPECopy(model, as: "slow-bpe-conversion-\(model)")
    let slow = dir.appendingPathComponent("out.gguf").path
    _ = try convert(dir.path, to: slow, .f32)
    let a = try GGUFFile(path: fast), b = try GGUFFile(path: slow)
    let keys = Set(a.metadata.map(\.key) + b.metadata.map(\.key)).filter { $0.hasPrefix("tokenizer.") && !$0.hasSuffix("strip_token_ids") }
    for key in keys.sorted() { #expect(a.value(key) == b.value(key), "\(model) \(key)") }
}

/// add_prefix_space on a Sequence's ByteLevel part (applied after the split before it) is refused, not converted
/// into a tokenizer that adds no space (on the ByteLevel pre-tokenizer alone it is converted: TokenizerTests).
@Test func byteLevelAddPrefixSpaceInASequenceIsRefused() throws {
    let dir = try fixtureCopy("bart-tiny", as: "s2s-prefix-space")
    try editJSON(dir.appendingPathComponent("tokenizer.json")) { t in
        var pre = t["pre_tokenizer"] as! [String: Any]
        pre["add_prefix_space"] = true
        t["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true], pre]]
    }
    try expectConversionError(dir, containing: "add_prefix_space inside a Sequence")
}
