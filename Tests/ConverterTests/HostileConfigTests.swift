// config.json values that do not fit (issue 19.2): each one an error naming its key, at once, with nothing written;
// they trapped on unchecked integer conversions, ran for minutes, or gave files swiftlet refused or ran wrongly.

import Converter
import Foundation
import Testing
import TestSupport

@Suite struct HostileConfigTests {
    /// Keys and their values as JSON text.
    static let cases: [(key: String, json: String)] = [
        ("max_position_embeddings", "-1"), ("max_position_embeddings", "1099511627776"), ("max_position_embeddings", "0"),
        ("vocab_size", "1000000000000"), ("num_attention_heads", "1099511627776"), ("head_dim", "4611686018427387904"),
        ("sliding_window", "1099511627776"), ("num_hidden_layers", "1000000"), ("num_hidden_layers", "2147483648"),
        ("rms_norm_eps", "1e999"), ("rms_norm_eps", "-1"), ("rms_norm_eps", "0"), ("rms_norm_eps", "1e-50"),
        ("rope_parameters", #"{"rope_theta": 10000, "rope_type": "linear", "factor": 0}"#),
        ("rope_parameters", #"{"rope_theta": 10000, "rope_type": "linear", "factor": -1}"#),
        ("rope_parameters", #"{"rope_theta": -1, "rope_type": "default"}"#),
        ("num_local_experts", "1099511627776"),
    ]

    @Test(arguments: cases.indices)
    func badConfigValueIsAnErrorNamingIt(_ index: Int) throws {
        let (key, json) = Self.cases[index]
        let dir = try hfCopy("llama-tiny", as: "config-\(index)", config: [key: "raw:" + json])
        let out = dir.deletingLastPathComponent().appendingPathComponent("out.gguf").path
        let start = Date()
        #expect {
            _ = try convert(dir.path, to: out, .q8_0)
        } throws: { error in
            "\(error)".contains(key)
        }
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// Other families read their own keys through the same checks.
    @Test(arguments: [("bert-tiny", "layer_norm_eps", "-1"), ("gpt2-tiny", "n_positions", "-1"),
                      ("t5-tiny", "num_layers", "1099511627776"), ("bart-tiny", "decoder_start_token_id", "1099511627776"),
                      ("roberta-tiny", "pad_token_id", "9223372036854775807"), ("albert-tiny", "inner_group_num", "1099511627776"),
                      ("ctrl-tiny", "layer_norm_epsilon", "1e999")])
    func otherFamiliesCheckTheirKeys(fixture: String, key: String, json: String) throws {
        let dir = try hfCopy(fixture, as: "config-\(fixture)-\(key)", config: [key: "raw:" + json])
        let out = dir.deletingLastPathComponent().appendingPathComponent("out.gguf").path
        #expect {
            _ = try convert(dir.path, to: out, .q8_0)
        } throws: { error in
            "\(error)".contains(key)
        }
    }
}
