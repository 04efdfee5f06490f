// T5 (ReLU, tied head scaled by d_model^-0.5, 2 encoder and 3 decoder layers, d_kv·heads ≠ d_model), FLAN-T5
// (gated GELU, untied head) and BART (learned positions, embedding LayerNorm, GELU, unequal stacks; its generation
// config forces the first and last tokens, bans repeated 3-grams, sets a minimum length, length penalty 2 and early
// stopping) and Marian (sinusoidal positions, SiLU, one matrix for both embeddings and the head, a banned pad token)
// against transformers: the encoder's output, decoder logits at every position, greedy and beam outputs.

@testable import Engine
import Foundation
import Quant
import Testing
import TestSupport
import TensorFile

@Suite struct Seq2SeqTests {
    /// The fixtures' generate() calls ask for this many new tokens.
    static let newTokens = 8
    /// Session options with room for every fixture's source (bart-tiny has no more than 40 positions) and target;
    /// float32 caches unless asked, for transformers' precision (halfCacheStaysCloseToFloat32 checks f16).
    static func options(beams: Int = 1, allLogits: Bool = false, halfCache: Bool = false) -> Seq2SeqOptions {
        var o = Seq2SeqOptions()
        o.source = 40
        o.target = 32
        o.beams = beams
        o.allLogits = allLogits
        o.halfCache = halfCache
        return o
    }

    @Test(arguments: ["t5-tiny", "flan-t5-tiny", "bart-tiny", "marian-tiny"])
    func encoderDecoderMatchesTransformers(model name: String) throws {
        let r = try json(fixtures.appendingPathComponent("\(name)/reference.json"))
        func ids(_ key: String) throws -> [Int32] { try #require(r[key]?.array).map { Int32($0.int!) } }
        func rows(_ key: String) throws -> [[Float]] { try #require(r[key]?.array).map { $0.array!.map { Float($0.double!) } } }
        var o = Self.options(allLogits: true)
        o.threads = 2
        let s = try Seq2SeqSession(try Model(path: try fixtureGGUF(name, .f32)), o)
        try s.encode(try ids("encoder_ids"))
        let expected = try rows("encoder_output")
        let dim = expected[0].count
        expectClose(unflatten(Array(s.encoded), dim), expected, "\(name) encoder output")
        let logits = try rows("logits")
        expectClose(unflatten(Array(try s.decode(try ids("decoder_ids"))), logits[0].count), logits, "\(name) decoder logits")
        // Without allLogits the arena holds one row and decode gives the last position's.
        o.allLogits = false
        let last = try Seq2SeqSession(s.model, o)
        try last.encode(try ids("encoder_ids"))
        #expect(last.plan.bytes < s.plan.bytes)
        expectClose([Array(try last.decode(try ids("decoder_ids")))], [logits.last!], "\(name) last decoder logits")
        try s.encode(try ids("encoder_ids"))
        #expect(try s.greedy(maxTokens: Self.newTokens) == (try ids("greedy_ids")), "\(name) greedy output")
        if s.model.generation == GenerationConfig() {
            try s.encode(try ids("encoder_ids"))
            #expect(try s.greedy(maxTokens: Self.newTokens) == (try ids("argmax_ids")), "\(name) argmax continuation")
        }
    }

    /// At Q8_0 and Q4_0, against a float computation over the same dequantized weights (the quantized file
    /// re-quantized to F32 by `quantize`): within 2e-3 of the logits' range (measured 6e-5 to 1.2e-3: the 16-bit
    /// activations' rounding, which T5's unscaled attention scores amplify), where the distance to transformers'
    /// float weights is 0.02 to 0.65 of the range on these tiny random models (tools/reference/quantized_agreement.sh):
    /// weight rounding, not the kernels.
    @Test(arguments: ["t5-tiny", "flan-t5-tiny", "bart-tiny", "marian-tiny"], [GGMLType.q8_0, .q4_0])
    func quantizedMatchesItsDequantizedWeights(model name: String, type: GGMLType) throws {
        let r = try json(fixtures.appendingPathComponent("\(name)/reference.json"))
        func ids(_ key: String) throws -> [Int32] { try #require(r[key]?.array).map { Int32($0.int!) } }
        let q8 = try fixtureGGUF(name, type)
        let dequantized = try temporaryDirectory("\(name)-\(type)-f32").appendingPathComponent("model.gguf").path
        _ = try convert(q8, to: dequantized, .f32)
        func logits(_ path: String) throws -> [Float] {
            let s = try Seq2SeqSession(try Model(path: path), Self.options(allLogits: true, halfCache: true))
            try s.encode(try ids("encoder_ids"))
            return Array(try s.decode(try ids("decoder_ids")))
        }
        let a = try logits(q8), b = try logits(dequantized)
        let spread = (b.max() ?? 0) - (b.min() ?? 0)
        #expect(a.allSatisfy { $0.isFinite })
        #expect(maxDiff([a], [b]).abs <= 2e-3 * spread, "\(name) \(type): max |Δ| \(maxDiff([a], [b]).abs), spread \(spread)")
    }

    /// Beam search with 4 beams and the model's length penalty and early stopping: transformers' 4 finished
    /// sequences in its order, scores within 1e-4.
    @Test(arguments: ["t5-tiny", "flan-t5-tiny", "bart-tiny", "marian-tiny"])
    func beamSearchMatchesTransformers(model name: String) throws {
        let r = try json(fixtures.appendingPathComponent("\(name)/reference.json"))
        let expected = try #require(r["beam_ids"]?.array).map { $0.array!.map { Int32($0.int!) } }
        let scores = try #require(r["beam_scores"]?.array).map { Float($0.double!) }
        let s = try Seq2SeqSession(try Model(path: try fixtureGGUF(name, .f32)), Self.options(beams: 4))
        try s.encode(try #require(r["encoder_ids"]?.array).map { Int32($0.int!) })
        let g = s.model.generation
        let beams = try s.beamSearch(maxTokens: Self.newTokens, lengthPenalty: g.lengthPenalty, earlyStopping: g.earlyStopping)
        #expect(beams.map(\.ids) == expected, "\(name) beams")
        for (h, want) in zip(beams, scores) { #expect(abs(h.score - want) <= 1e-4 * max(1, abs(want)), "\(name): \(h.score) vs \(want)") }
    }

    /// The default half-precision caches against float32 ones: logits within 1% of their range (measured 0.015% to
    /// 0.43%, FLAN-T5's unscaled attention the worst), greedy and beam-4 outputs the same.
    @Test(arguments: ["t5-tiny", "flan-t5-tiny", "bart-tiny", "marian-tiny"])
    func halfCacheStaysCloseToFloat32(model name: String) throws {
        let r = try json(fixtures.appendingPathComponent("\(name)/reference.json"))
        func ids(_ key: String) throws -> [Int32] { try #require(r[key]?.array).map { Int32($0.int!) } }
        let model = try Model(path: try fixtureGGUF(name, .f32))
        func run(half: Bool) throws -> (logits: [Float], greedy: [Int32], beams: [[Int32]]) {
            let s = try Seq2SeqSession(model, Self.options(beams: 4, allLogits: true, halfCache: half))
            try s.encode(try ids("encoder_ids"))
            let logits = Array(try s.decode(try ids("decoder_ids")))
            try s.encode(try ids("encoder_ids"))
            let greedy = try s.greedy(maxTokens: Self.newTokens)
            try s.encode(try ids("encoder_ids"))
            let g = model.generation
            let beams = try s.beamSearch(maxTokens: Self.newTokens, lengthPenalty: g.lengthPenalty, earlyStopping: g.earlyStopping)
            return (logits, greedy, beams.map(\.ids))
        }
        let half = try run(half: true), full = try run(half: false)
        let spread = (full.logits.max() ?? 0) - (full.logits.min() ?? 0)
        let d = maxDiff([half.logits], [full.logits]).abs
        #expect(d > 0 && d <= 0.01 * spread, "\(name): max |Δ| \(d), spread \(spread)")
        #expect(half.greedy == full.greedy, "\(name) greedy")
        #expect(half.beams == full.beams, "\(name) beams")
    }

    /// T5 files from llama.cpp's converter lack hidden_activation and logit_scale (and relative_max_distance, which
    /// llama.cpp fixes at 128): without them the FFN is gelu_new when gated, else ReLU, and a tied head is scaled
    /// by d_model^-0.5, as transformers runs the model (tools/reference/t5_from_llamacpp.sh checks llama.cpp's own
    /// files). The fixtures' max_distance is kept, so only the other two keys go.
    @Test(arguments: ["t5-tiny", "flan-t5-tiny"])
    func t5WithoutSwiftletsKeysRunsAsTransformers(model name: String) throws {
        let r = try json(fixtures.appendingPathComponent("\(name)/reference.json"))
        func ids(_ key: String) throws -> [Int32] { try #require(r[key]?.array).map { Int32($0.int!) } }
        let path = try temporaryDirectory("t5-llamacpp-keys-\(name)").appendingPathComponent("model.gguf").path
        try ggufCopy(try fixtureGGUF(name, .f32), to: path, dropping: [MetadataKey.hiddenActivation("t5"), MetadataKey.logitScale("t5")])
        let s = try Seq2SeqSession(try Model(path: path), Self.options(allLogits: true))
        try s.encode(try ids("encoder_ids"))
        let logits = try #require(r["logits"]?.array).map { $0.array!.map { Float($0.double!) } }
        expectClose(unflatten(Array(try s.decode(try ids("decoder_ids"))), logits[0].count), logits, "\(name) without Swiftlet's keys")
    }

    @Test func badInputIsAnError() throws {
        var o = Seq2SeqOptions()
        o.source = 8
        o.target = 4
        let s = try Seq2SeqSession(try Model(path: try fixtureGGUF("t5-tiny", .f32)), o)
        #expect(throws: ModelError.invalidInput("the source is empty (no tokens to translate)")) { try s.encode([]) }
        #expect(throws: ModelError.invalidInput("the source has 9 tokens, more than the limit of 8")) {
            try s.encode([Int32](repeating: 5, count: 9))
        }
        #expect(throws: ModelError.invalidInput("no source: encode one first")) { _ = try s.decode([0]) }
        try s.encode([5, 6, 1])
        #expect(throws: ModelError.contextFull("5 target tokens do not fit the limit of 4")) { _ = try s.decode([0, 1, 2, 3, 4]) }
        let model = try Model(path: try fixtureGGUF("t5-tiny", .f32))
        #expect(throws: ModelError.self) { try Session(model) }
        // BART's learned positions bound both limits (T5's relative ones do not).
        var wide = Self.options()
        wide.source = 41
        #expect(throws: ModelError.invalidInput("a source limit of 41 tokens is more than the model's 40 positions")) {
            try Seq2SeqSession(try Model(path: try fixtureGGUF("bart-tiny", .f32)), wide)
        }
    }
}

/// The CLI on encoder-decoders: `generate` translates the source text (tokenized by the model's tokenizer) into
/// transformers' greedy and beam outputs (the model's processors, length penalty and early stopping applied), and
/// `logits --decoder-ids` writes the decoder logits.
@Test(arguments: ["t5-tiny", "flan-t5-tiny", "bart-tiny", "marian-tiny"])
func encoderDecoderCLIMatchesTransformers(model name: String) throws {
    let r = try json(fixtures.appendingPathComponent("\(name)/reference.json"))
    let path = try fixtureGGUF(name, .f32)
    let greedy = try #require(r["greedy_ids"]?.array).map { Int32($0.int!) }
    let n = "\(Seq2SeqTests.newTokens)"
    let run = try swiftlet(["generate", "-m", path, "-p", r["source_text"]!.string!, "-n", n, "--temp", "0", "--cache-type", "f32",
                            "--json"])
    try #require(run.status == 0, "\(run.stderr)")
    let out = try JSONValue.parse(run.stdout, what: "generate")
    #expect(out["prompt_ids"]?.array?.map { Int32($0.int!) } == r["encoder_ids"]!.array!.map { Int32($0.int!) }, "source tokens")
    #expect(out["ids"]?.array?.map { Int32($0.int!) } == Array(greedy.dropFirst()), "greedy target")
    #expect(out["text"]?.string == r["greedy_text"]?.string, "decoded as transformers' decode(skip_special_tokens=True)")

    let file = try temporaryDirectory("cli-\(name)-logits").appendingPathComponent("logits.bin").path
    let ids = r["encoder_ids"]!.array!.map { "\($0.int!)" }.joined(separator: ",")
    let decoder = r["decoder_ids"]!.array!.map { "\($0.int!)" }.joined(separator: ",")
    let logits = try #require(r["logits"]?.array).map { $0.array!.map { Float($0.double!) } }
    let l = try swiftlet(["logits", "-m", path, "--ids", ids, "--decoder-ids", decoder, "--out", file, "--cache-type", "f32"])
    #expect(l.stdout == "{\"shape\":[\(logits.count),\(logits[0].count)]}\n", "\(l.stderr)")
    let data = try Data(contentsOf: URL(fileURLWithPath: file))
    expectClose(unflatten(data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }, logits[0].count), logits, "\(name) CLI logits")
    let beams = try swiftlet(["generate", "-m", path, "-p", r["source_text"]!.string!, "-n", n, "--beams", "4", "--cache-type", "f32",
                              "--json"])
    try #require(beams.status == 0, "\(beams.stderr)")
    let b = try JSONValue.parse(beams.stdout, what: "generate --beams")
    let wanted = r["beam_ids"]!.array!.map { Array($0.array!.dropFirst()).map { Int32($0.int!) } }
    #expect(b["beams"]?.array?.map { $0["ids"]!.array!.map { Int32($0.int!) } } == wanted, "beams")
    #expect(b["ids"]?.array?.map { Int32($0.int!) } == wanted[0], "the best beam")
    for (h, want) in zip(b["beams"]!.array!, r["beam_scores"]!.array!) {
        #expect(abs(h["score"]!.double! - want.double!) <= 1e-4 * max(1, abs(want.double!)))
    }
    expectOneErrorLine(try swiftlet(["generate", "-m", path, "--ids", "5,6", "--beams", "0"]), containing: "--beams")
    expectOneErrorLine(try swiftlet(["logits", "-m", path, "--ids", "5,6", "--out", file]), containing: "--decoder-ids")
    expectOneErrorLine(try swiftlet(["generate", "-m", path, "--ids", ""]), containing: "--ids")
    expectOneErrorLine(try swiftlet(["embed", "-m", path, "hello"]), containing: "it is an encoder-decoder: use generate")
    expectOneErrorLine(try swiftlet(["chat", "-m", path]), containing: "it is an encoder-decoder: use generate")
    let limit = try Model(path: path).contextLength()
    let long = (0...limit).map { _ in "5" }.joined(separator: ",")
    expectOneErrorLine(try swiftlet(["generate", "-m", path, "--ids", long]), containing: "more than the limit of \(limit)")
    if name == "bart-tiny" || name == "marian-tiny" {  // position tables: no target past them (T5's are relative)
        expectOneErrorLine(try swiftlet(["generate", "-m", path, "--ids", "5,6", "--ctx", "\(limit + 1)"]),
                           containing: "a target limit of \(limit + 1) tokens is more than the model's \(limit) positions")
        expectOneErrorLine(try swiftlet(["bench", "-m", path, "-p", "\(limit + 1)", "-n", "4"]),
                           containing: "a source limit of \(limit + 1) tokens is more than the model's \(limit) positions")
    }
    let decoderOnly = try fixtureGGUF("llama-tiny", .f32)
    expectOneErrorLine(try swiftlet(["logits", "-m", decoderOnly, "--ids", "5,6", "--decoder-ids", "0", "--out", file]),
                       containing: "--decoder-ids is for encoder and encoder-decoder models")
}

/// The converted tokenizers against transformers' on hard texts (Tests/Fixtures/seq2seq_tokenize.json, made by
/// tools/reference/seq2seq_tokenize_cases.py): the ids with the special tokens transformers adds, and the decoding
/// with the special tokens skipped.
/// "t5-tiny without spiece.model" is t5-tiny converted from its tokenizer.json alone, as fine-tuned T5s often ship;
/// "bart-tiny without tokenizer.json" from vocab.json and merges.txt alone, as slow tokenizers save BART (slowBPECopy).
@Test(arguments: ["t5-tiny", "flan-t5-tiny", "bart-tiny", "marian-tiny", "t5-tiny without spiece.model",
                  "bart-tiny without tokenizer.json"])
func encoderDecoderTokenizersMatchTransformers(model name: String) throws {
    let fixture = String(name.prefix { $0 != " " })
    let root = try json(fixtures.appendingPathComponent("seq2seq_tokenize.json"))
    let texts = try #require(root["texts"]?.array), cases = try #require(root["models"]?[fixture]?["cases"]?.array)
    try #require(texts.count == 35 && cases.count == texts.count)
    var path = try fixtureGGUF(fixture, .f32)
    if fixture != name {
        let dir: URL
        if fixture == "t5-tiny" {
            dir = try temporaryDirectory("t5-tokenizer-json").appendingPathComponent(fixture)
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(fixture), to: dir)
            try FileManager.default.removeItem(at: dir.appendingPathComponent("spiece.model"))
        } else {
            dir = try slowBPECopy(fixture, as: "slow-bpe-tokenizer")
        }
        path = dir.appendingPathComponent("model.gguf").path
        _ = try convert(dir.path, to: path, .f32)
    }
    let t = try Tokenizer(GGUFFile(path: path))
    for (text, c) in zip(texts.map { $0.string! }, cases) {
        let ids = c["ids"]!.array!.map { Int32($0.int!) }
        #expect(t.encode(text, addSpecial: true) == ids, "\(name) ids of \(text.debugDescription)")
        #expect(t.decode(ids) == c["decoded"]?.string, "\(name) decoding of \(text.debugDescription)")
    }
}

/// The logits processors on hand-made targets: each masks exactly what transformers' processor of the same name does.
@Test func logitsProcessorsMaskAsTransformersDoes() {
    func run(_ g: GenerationConfig, _ target: [Int32], maxLength: Int = 20) -> [Int] {
        var row = [Float](repeating: 1, count: 8)
        row.withUnsafeMutableBufferPointer { g.process($0.baseAddress!, vocab: 8, target: target, maxLength: maxLength, eos: 2) }
        return row.indices.filter { row[$0] == -.infinity }
    }
    var g = GenerationConfig()
    #expect(run(g, [0, 5, 6, 5]) == [])
    g.noRepeatNGramSize = 3
    // The last two tokens (5 6) followed by 7 before: 7 is banned; (6 5) never seen before.
    #expect(run(g, [0, 5, 6, 7, 4, 5, 6]) == [7])
    #expect(run(g, [0, 5, 6, 5]) == [])
    g.noRepeatNGramSize = 1
    #expect(run(g, [0, 5, 6, 5]) == [0, 5, 6])
    g = GenerationConfig()
    g.minLength = 3
    #expect(run(g, [0, 4]) == [2])
    #expect(run(g, [0, 4, 4]) == [])
    g.suppressed = [7]
    #expect(run(g, [0, 4, 4]) == [7])
    g = GenerationConfig()
    g.forcedBOS = 3
    #expect(run(g, [0]) == [0, 1, 2, 4, 5, 6, 7])
    g.forcedEOS = 2
    #expect(run(g, [0, 3, 4], maxLength: 4) == [0, 1, 3, 4, 5, 6, 7])
    #expect(run(g, [0, 3], maxLength: 4) == [])
}
