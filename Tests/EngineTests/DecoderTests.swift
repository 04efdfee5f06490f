// The decoder engine against transformers: logits at every position and greedy continuations of the tiny
// random-weight Llama (GQA, rope base 12345, untied), Llama with head_dim 20 ≠ 96/4 and a tied head, and
// GPT-2 (n_inner ≠ 4·n_embd) fixtures; quantized weights against a float64 forward over the same dequantized weights; sessions.

@testable import Engine
import Foundation
import Quant
import Testing
import TestSupport
import TensorFile

struct Reference {
    let promptIDs: [Int32]
    let logits: [[Float]]
    let greedy: [Int32]

    init(_ model: String) throws {
        let r = try json(fixtures.appendingPathComponent("\(model)/reference.json"))
        promptIDs = try #require(r["prompt_ids"]?.array).map { Int32($0.int!) }
        logits = try #require(r["logits"]?.array).map { $0.array!.map { Float($0.double!) } }
        greedy = try #require(r["greedy_new_tokens"]?.array).map { Int32($0.int!) }
    }
}

/// Logits at every position of `ids`, fresh session.
func allLogits(_ model: Model, _ ids: [Int32], halfCache: Bool = false) throws -> [[Float]] {
    var o = SessionOptions()
    o.allLogits = true
    o.halfCache = halfCache
    o.threads = 2
    let s = try Session(model, o)
    var rows: [[Float]] = []
    _ = try ids.withUnsafeBufferPointer { try s.evaluate($0) { _, logits, _ in rows.append(Array(logits)) } }
    return rows
}

func greedy(_ model: Model, _ prompt: [Int32], _ n: Int, halfCache: Bool = false, context: Int = 0) throws -> GenerateResult {
    var o = SessionOptions()
    o.halfCache = halfCache
    o.context = context
    let s = try Session(model, o)
    var p = SamplerParams()
    p.temperature = 0
    var sampler = Sampler(p, vocabSize: model.vocabSize)
    var g = GenerateOptions()
    g.maxTokens = n
    return try s.generate(prompt: prompt, g, sampler: &sampler) { _ in true }
}

/// max |a − b| over all entries, and the largest |b| (the scale a relative tolerance is taken against).
func maxDiff(_ a: [[Float]], _ b: [[Float]]) -> (abs: Float, scale: Float) {
    var d: Float = 0, scale: Float = 0
    for (ra, rb) in zip(a, b) {
        for (x, y) in zip(ra, rb) {
            d = max(d, abs(x - y))
            scale = max(scale, abs(y))
        }
    }
    return (d, scale)
}

@Test(arguments: ["llama-tiny", "llama-hd-tiny", "gpt2-tiny"])
func f32LogitsMatchTransformersAtEveryPosition(_ fixture: String) throws {
    let ref = try Reference(fixture)
    let model = try Model(path: try fixtureGGUF(fixture, .f32))
    let rows = try allLogits(model, ref.promptIDs)
    #expect(rows.count == ref.logits.count)
    let (d, scale) = maxDiff(rows, ref.logits)
    // Only summation order differs from PyTorch (~7e-6 absolute here, logits up to ~10). A wrong RoPE pairing,
    // norm epsilon or GQA head mapping moves logits by 1e-2 or more.
    #expect(d / scale < 1e-4, "max |Δ| \(d) against max |logit| \(scale)")
}

@Test(arguments: ["llama-tiny", "llama-hd-tiny", "gpt2-tiny"], [false, true])
func greedyContinuationMatchesTransformers(_ fixture: String, halfCache: Bool) throws {
    let ref = try Reference(fixture)
    let model = try Model(path: try fixtureGGUF(fixture, .f32))
    let r = try greedy(model, ref.promptIDs, ref.greedy.count, halfCache: halfCache)
    // The fixture's greedy steps have top-2 margins far above the f16 cache's rounding (see reference.json).
    #expect(r.ids == ref.greedy)
    #expect(r.stop == .length)
}

@Test(arguments: ["llama-tiny", "gpt2-tiny"])
func batchedPromptEqualsTokenByToken(_ fixture: String) throws {
    let ref = try Reference(fixture)
    let model = try Model(path: try fixtureGGUF(fixture, .q8_0))
    let batched = try allLogits(model, ref.promptIDs)
    var o = SessionOptions()
    o.batch = 1
    o.allLogits = true
    o.halfCache = false
    let s = try Session(model, o)
    var single: [[Float]] = []
    _ = try ref.promptIDs.withUnsafeBufferPointer { try s.evaluate($0) { _, l, _ in single.append(Array(l)) } }
    let (d, _) = maxDiff(single, batched)
    // Same weights and the same activation quantization per row: only the batched kernels' tiling differs.
    #expect(d < 1e-4, "max |Δ| \(d)")
}

@Test func prefixReuseGivesTheSameLogitsAsAFreshSession() throws {
    let ref = try Reference("llama-tiny")
    let model = try Model(path: try fixtureGGUF("llama-tiny", .f32))
    var o = SessionOptions()
    o.halfCache = false
    let s = try Session(model, o)
    let first = ref.promptIDs, second = Array(ref.promptIDs.prefix(6)) + [300, 301, 302]
    _ = try first.withUnsafeBufferPointer { try s.evaluate($0) }
    let reused = second.withUnsafeBufferPointer { s.reusePrefix(of: $0) }
    #expect(reused == 6)
    let logits = try second.withUnsafeBufferPointer { Array(try s.evaluate(UnsafeBufferPointer(rebasing: $0[reused...]))) }
    let fresh = try allLogits(model, second).last!
    #expect(maxDiff([logits], [fresh]).abs < 1e-5)
    // A prompt the cache holds whole still re-evaluates its last token, whose logits are needed.
    #expect(second.withUnsafeBufferPointer { s.reusePrefix(of: $0) } == second.count - 1)
}

@Test func contextShiftRerotatesKeysToTheirNewPositions() throws {
    let model = try Model(path: try fixtureGGUF("llama-tiny", .f32))
    var o = SessionOptions()
    o.context = 16
    o.halfCache = false
    let s = try Session(model, o)
    let ids: [Int32] = (0..<16).map { Int32(40 + 3 * $0) }
    _ = try ids.withUnsafeBufferPointer { try s.evaluate($0) }
    #expect(s.shift(keep: 4) == 6)
    #expect(Array(s.tokens) == Array(ids[0..<4] + ids[10...]))
    // Layer 0's keys depend only on the token and its position: after the shift they must equal a fresh
    // session's keys for the shifted sequence (deeper layers saw the dropped tokens, so they differ).
    let fresh = try Session(model, o)
    _ = try Array(s.tokens).withUnsafeBufferPointer { try fresh.evaluate($0) }
    let kvDim = model.decoderShape!.kvDim
    var a = [Float](repeating: 0, count: kvDim), b = a
    var worst: Float = 0
    for row in 0..<s.count {
        s.cache.keys[0].load(row: row, into: &a, kvDim)
        fresh.cache.keys[0].load(row: row, into: &b, kvDim)
        for i in 0..<kvDim { worst = max(worst, abs(a[i] - b[i])) }
    }
    // One float32 rotation composed with another: a few ulps of |k| ~ 1.
    #expect(worst < 1e-5, "max |Δk| \(worst)")
}

@Test func fullContextStopsOrShifts() throws {
    let model = try Model(path: try fixtureGGUF("llama-tiny", .q8_0))
    let prompt: [Int32] = [10, 11, 12, 13, 14, 15]
    let stopped = try greedy(model, prompt, 50, context: 16)
    #expect(stopped.stop == .context)
    #expect(stopped.ids.count == 16 - prompt.count + 1)  // the last sampled id needs no room
    var o = SessionOptions()
    o.context = 16
    let s = try Session(model, o)
    var p = SamplerParams()
    p.temperature = 0
    var sampler = Sampler(p, vocabSize: model.vocabSize)
    var g = GenerateOptions()
    g.maxTokens = 50
    g.contextShift = true
    g.keep = 2
    g.ignoreEOS = true
    let shifted = try s.generate(prompt: prompt, g, sampler: &sampler) { _ in true }
    #expect(shifted.stop == .length)
    #expect(shifted.ids.count == 50)
    #expect(shifted.shiftedTokens > 0)
    #expect(Array(s.tokens.prefix(2)) == [10, 11])  // the kept prefix survives every shift
}

@Test func badInputFailsWithClearErrors() throws {
    let model = try Model(path: try fixtureGGUF("llama-tiny", .q8_0))
    var o = SessionOptions()
    o.context = 8
    let s = try Session(model, o)
    let vocab = model.vocabSize
    #expect(throws: ModelError.invalidInput("token id \(vocab) at index 1 is not in the vocabulary (0..<\(vocab))")) {
        _ = try [Int32(1), Int32(vocab)].withUnsafeBufferPointer { try s.evaluate($0) }
    }
    #expect(throws: ModelError.contextFull("the prompt has 9 tokens, more than the context of 8")) {
        _ = try greedy(model, Array(repeating: 5, count: 9), 4, context: 8)
    }
    #expect(throws: ModelError.invalidInput("-n 0: at least one new token is needed")) {
        var sampler = Sampler(SamplerParams(), vocabSize: vocab)
        var g = GenerateOptions()
        g.maxTokens = 0
        _ = try s.generate(prompt: [1], g, sampler: &sampler) { _ in true }
    }
}

@Test func tensorsContradictingMetadataAreRejectedAtLoad() throws {
    let path = try fixtureGGUF("llama-tiny", .q8_0)
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    // llama.feed_forward_length: key, then u32 type 4, then the u32 value 160; make it 161.
    let key = Array("llama.feed_forward_length".utf8)
    let at = try #require((0..<bytes.count - key.count).first { Array(bytes[$0..<$0 + key.count]) == key }) + key.count + 4
    #expect(bytes[at] == 160)
    bytes[at] = 161
    let edited = path + ".edited.gguf"
    try Data(bytes).write(to: URL(fileURLWithPath: edited))
    #expect(throws: ModelError.shape(tensor: "blk.0.ffn_gate.weight", expected: [96, 161], found: [96, 160])) {
        _ = try Model(path: edited)
    }
}

@Test func truncatedFileIsRejectedAtLoad() throws {
    let path = try fixtureGGUF("gpt2-tiny", .q4_0)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    let cut = path + ".cut.gguf"
    try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: cut))
    #expect(throws: ModelError.self) { _ = try Model(path: cut) }
    do { _ = try Model(path: cut) } catch { #expect("\(error)".contains("run past the end of the file"), "\(error)") }
}

/// Mixtral (4 experts, top 2, head_dim 24 ≠ 64/4), Mistral (one KV head, a sliding window of 5 shorter than the
/// prompt), CTRL (sinusoidal positions, ReLU, a head bias) and XLNet (relative positions; logits are the content
/// stream's, greedy tokens come from the query stream as transformers' generate runs it) against transformers.
@Suite struct MoreDecoderTests {
    @Test(arguments: ["mixtral-tiny", "mistral-tiny", "ctrl-tiny", "xlnet-tiny"])
    func logitsAndGreedyMatchTransformers(model name: String) throws {
        let ref = try Reference(name)
        let model = try Model(path: try fixtureGGUF(name, .f32))
        let (d, scale) = maxDiff(try allLogits(model, ref.promptIDs), ref.logits)
        #expect(d <= 1e-4 * scale, "\(name): max |Δ| \(d), scale \(scale)")
        #expect(try greedy(model, ref.promptIDs, ref.greedy.count).ids == ref.greedy, "\(name) greedy")
        #expect(try greedy(model, ref.promptIDs, ref.greedy.count, halfCache: true).ids == ref.greedy, "\(name) greedy, f16 cache")
    }
}

/// Mistral with a context longer than its window plus a batch keeps a ring of window + batch − 1 cache rows
/// (here 5 + 2 − 1 = 6 for a 14-token prompt): the same logits and greedy tokens as transformers, in less memory.
@Test func slidingWindowRingCacheMatchesTransformers() throws {
    let ref = try Reference("mistral-tiny")
    let model = try Model(path: try fixtureGGUF("mistral-tiny", .f32))
    var o = SessionOptions()
    o.context = 64
    o.batch = 2
    o.allLogits = true
    o.halfCache = false
    let s = try Session(model, o)
    #expect(s.cache.layout.ring && s.cache.layout.rows == 6)
    #expect(s.kvBytes == 2 * model.decoderShape!.layers * 6 * model.decoderShape!.kvDim * 4)
    #expect(s.memorySummary.contains("a ring of 6"))
    var rows: [[Float]] = []
    _ = try ref.promptIDs.withUnsafeBufferPointer { try s.evaluate($0) { _, logits, _ in rows.append(Array(logits)) } }
    let (d, scale) = maxDiff(rows, ref.logits)
    #expect(d <= 1e-4 * scale, "max |Δ| \(d)")

    o.allLogits = false
    let g = try Session(model, o)
    var p = SamplerParams()
    p.temperature = 0
    var sampler = Sampler(p, vocabSize: model.vocabSize)
    var options = GenerateOptions()
    options.maxTokens = ref.greedy.count
    #expect(try g.generate(prompt: ref.promptIDs, options, sampler: &sampler) { _ in true }.ids == ref.greedy)
    // A prefix whose window the ring has overwritten is evaluated again from the start.
    #expect(ref.promptIDs.withUnsafeBufferPointer { g.reusePrefix(of: UnsafeBufferPointer(rebasing: $0.prefix(4))) } == 0)
}


/// The same fixtures at Q8_0: every logit finite and within a few percent of the logits' range of transformers'
/// float32 ones (weight rounding's size; this catches garbage, such as quantized scratch too small for XLNet's
/// relative positions, not precision, which QuantizedDecoderTests checks against a float computation).
@Test(arguments: ["mixtral-tiny", "mistral-tiny", "ctrl-tiny", "xlnet-tiny"])
func quantizedDecodersStayNearTransformers(model name: String) throws {
    let ref = try Reference(name)
    let rows = try allLogits(try Model(path: try fixtureGGUF(name, .q8_0)), ref.promptIDs)
    #expect(rows.allSatisfy { $0.allSatisfy(\.isFinite) }, "\(name): non-finite logits")
    let spread = ref.logits.map { ($0.max() ?? 0) - ($0.min() ?? 0) }.max() ?? 1
    let (d, _) = maxDiff(rows, ref.logits)
    #expect(d <= 0.05 * spread, "\(name): max |Δ| \(d) against a spread of \(spread)")
}
