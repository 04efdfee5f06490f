// quantize takes the tokenizer a directory holds, whatever the architecture (issue 19.9): a CTRL model shipped with
// a GPT-2 tokenizer.json was refused for lacking CTRL's vocab.json.

import Converter
@testable import Engine
import Foundation
import Testing
import TestSupport
import TensorFile

@Suite struct TokenizerChoiceTests {
    /// Replaces `dir`'s tokenizer files with `fixture`'s `files`, tokenizer_config.json naming `tokenizerClass`.
    private func shipTokenizer(_ dir: URL, from fixture: String, _ files: [String], tokenizerClass: String) throws {
        let fm = FileManager.default
        for name in ["tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"] {
            try? fm.removeItem(at: dir.appendingPathComponent(name))
        }
        for name in files {
            try fm.copyItem(at: fixtures.appendingPathComponent(fixture).appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        let configURL = fixtures.appendingPathComponent(fixture).appendingPathComponent("tokenizer_config.json")
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
        config["tokenizer_class"] = tokenizerClass
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("tokenizer_config.json"))
    }

    @Test func ctrlModelWithAGPT2TokenizerConverts() throws {
        let dir = try hfCopy("ctrl-tiny", as: "ctrl-with-gpt2", resizing: ["transformer.w.weight": [384, 64], "lm_head.bias": [384]],
                             config: ["vocab_size": 384])
        try shipTokenizer(dir, from: "gpt2-tiny", ["tokenizer.json"], tokenizerClass: "GPT2Tokenizer")
        let out = dir.deletingLastPathComponent().appendingPathComponent("model.gguf").path
        _ = try convert(dir.path, to: out, .f32)
        let model = try Model(path: out)
        let gpt2 = try Model(path: try fixtureGGUF("gpt2-tiny", .f32))
        #expect(try model.file.string(MetadataKey.tokenizerModel) == "gpt2")
        let text = "Hello world, it's a test."
        #expect(model.tokenizer.encode(text, addSpecial: true) == gpt2.tokenizer.encode(text, addSpecial: true))
    }

    @Test func gpt2ModelWithCTRLsTokenizerConverts() throws {
        let dir = try hfCopy("gpt2-tiny", as: "gpt2-with-ctrl")
        try shipTokenizer(dir, from: "ctrl-tiny", ["vocab.json", "merges.txt"], tokenizerClass: "CTRLTokenizer")
        let out = dir.deletingLastPathComponent().appendingPathComponent("model.gguf").path
        _ = try convert(dir.path, to: out, .f32)
        let model = try Model(path: out)
        let ctrl = try Model(path: try fixtureGGUF("ctrl-tiny", .f32))
        #expect(try model.file.string(MetadataKey.tokenizerModel) == "ctrl")
        let text = "Hello world, it's a test."
        #expect(model.tokenizer.encode(text, addSpecial: true) == ctrl.tokenizer.encode(text, addSpecial: true))
    }
}
