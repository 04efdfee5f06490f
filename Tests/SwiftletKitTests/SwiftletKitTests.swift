// The Swift API (SwiftletKit) against the engine's own paths on the tiny fixtures: the greedy tokens of a Session
// and the text the CLI streams, the vectors of an EncoderSession, the translations of a Seq2SeqSession, the
// tokenizer, and errors with the C API's statuses.

import Engine
import Foundation
import Quant
import SwiftletKit
import Testing
import TestSupport

private let prompt = "def add(a, b):"

/// Greedy decoding in a context within every fixture's positions (gpt2-tiny has 64, bart-tiny 40); two threads, as
/// the engine sessions compared with.
private func greedy(context: Int = 32, beams: Int = 1) -> Swiftlet.Parameters {
    var p = Swiftlet.Parameters()
    p.temperature = 0
    p.context = context
    p.threads = 2
    p.beams = beams
    return p
}

private func session(_ fixture: String, _ type: GGMLType = .q8_0, _ p: Swiftlet.Parameters = greedy()) throws -> Swiftlet.Session {
    try Swiftlet.Session(model: try Swiftlet.Model(path: try fixtureGGUF(fixture, type)), parameters: p)
}

/// Every piece `generate` hands over, and why it stopped.
private func pieces(_ s: Swiftlet.Session, _ prompt: String, _ n: Int) throws -> ([Swiftlet.Piece], Swiftlet.StopReason) {
    var all: [Swiftlet.Piece] = []
    let stop = try s.generate(prompt, maxTokens: n) { all.append($0); return true }
    return (all, stop)
}

/// The engine's own greedy continuation of `ids`, in a fresh session of the same size.
private func engineGreedy(_ model: Engine.Model, _ ids: [Int32], _ n: Int) throws -> [Int32] {
    var o = SessionOptions()
    o.context = 32
    o.threads = 2
    var p = SamplerParams()
    p.temperature = 0
    var sampler = Sampler(p, vocabSize: model.vocabSize)
    var g = GenerateOptions()
    g.maxTokens = n
    return try Engine.Session(model, o).generate(prompt: ids, g, sampler: &sampler) { _ in true }.ids
}

/// The status `body` fails with; nil when it succeeds. (Closures do not infer typed throws: the type is checked here.)
private func status(_ body: () throws -> Void) -> Swiftlet.Error.Status? {
    do { try body() } catch {
        #expect(error is Swiftlet.Error, "\(error)")
        return (error as? Swiftlet.Error)?.status
    }
    return nil
}

@Test(arguments: ["llama-tiny", "gpt2-tiny"])
func greedyPiecesAreTheSessionsTokensAndTheCLIsText(fixture: String) throws {
    let path = try fixtureGGUF(fixture, .q8_0)
    let (got, stop) = try pieces(try session(fixture), prompt, 12)
    let engine = try Engine.Model(path: path)
    let expected = try engineGreedy(engine, engine.tokenizer.encode(prompt, addSpecial: true), 12)
    #expect(got.compactMap(\.token) == expected)
    #expect(stop == (expected.count == 12 && !engine.tokenizer.isEndOfGeneration(expected.last!) ? .length : .eos))
    let exe = builtExecutable("swiftlet")
    try #require(FileManager.default.isExecutableFile(atPath: exe), "build the swiftlet executable first: \(exe)")
    let cli = try run(exe, ["generate", "-m", path, "-p", prompt, "-n", "12", "--temp", "0", "--ctx", "32"])
    #expect(cli.status == 0, "\(cli.stderr)")
    #expect(got.map(\.text).joined() + "\n" == cli.stdout)  // the CLI ends its text with a newline
}

@Test func streamGivesTheClosuresPiecesAndStopsWhenLeft() async throws {
    let s = try session("llama-tiny")
    let (expected, _) = try pieces(s, prompt, 12)
    s.reset()
    var streamed: [Swiftlet.Piece] = []
    for try await piece in s.stream(prompt, maxTokens: 12) { streamed.append(piece) }
    #expect(streamed == expected)
    // Leaving the loop stops the generation; the session's next call waits for it, then runs as usual.
    s.reset()
    var taken = 0
    for try await _ in s.stream(prompt, maxTokens: 12) {
        taken += 1
        if taken == 2 { break }
    }
    s.reset()
    #expect(try pieces(s, prompt, 12).0 == expected)
}

/// Successive prompts continue one conversation, as the C API's: a fresh engine session given the whole token
/// history (the second prompt without BOS) generates what the second call did.
@Test func successiveCallsContinueOneConversation() throws {
    let path = try fixtureGGUF("llama-tiny", .q8_0)
    let s = try session("llama-tiny")
    let first = try pieces(s, prompt, 6).0.compactMap(\.token)
    let second = try pieces(s, " return", 6).0.compactMap(\.token)
    let engine = try Engine.Model(path: path)
    let history = engine.tokenizer.encode(prompt, addSpecial: true) + first + engine.tokenizer.encode(" return", addSpecial: false)
    #expect(second == (try engineGreedy(engine, history, 6)))
    s.reset()
    #expect(try pieces(s, prompt, 6).0.compactMap(\.token) == first)
}

@Test func logitsAreTheSessionsLastRowWhateverTheCallingThread() throws {
    let path = try fixtureGGUF("llama-tiny", .q8_0)
    let engine = try Engine.Model(path: path)
    let ids = engine.tokenizer.encode(prompt, addSpecial: true)
    var o = SessionOptions()
    o.context = 32
    o.threads = 2
    let reference = try Engine.Session(engine, o)  // alive while its logits are copied (they are in its arena)
    let expected = try ids.withUnsafeBufferPointer { Array(try reference.evaluate($0)) }
    let s = try session("llama-tiny")
    #expect(try s.logits(ids) == expected)
    // Four calls at once on one session take turns: each gets the very same row.
    let rows = Locked<[[Float]]>([])
    DispatchQueue.concurrentPerform(iterations: 4) { _ in
        let row = (try? s.logits(ids)) ?? []
        rows.withLock { $0.append(row) }
    }
    #expect(rows.withLock { $0 } == Array(repeating: expected, count: 4))
}

@Test func embeddingIsTheEncoderSessionsPooledUnitVector() throws {
    let path = try fixtureGGUF("bert-st-tiny", .f32)
    let text = "The quick brown fox jumps over the lazy dog."
    let got = try session("bert-st-tiny", .f32).embed(text)
    let e = try EncoderSession(try Engine.Model(path: path))
    let encoding = e.model.tokenizer.encode(text, maxTokens: e.encoder.maxTokens)
    try e.run([EncoderInput(ids: encoding.ids, typeIds: encoding.typeIds)])
    #expect(e.encoder.pooling == .mean)
    #expect(got == e.embedding(0, pooling: .mean, normalize: true))
    #expect(abs(got.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
}

@Test func maskedLMLogitsAreTheEncoderSessions() throws {
    let path = try fixtureGGUF("bert-tiny", .f32)
    let s = try session("bert-tiny", .f32)
    let ids = s.model.tokenize("The capital of France is [MASK].")
    let e = try EncoderSession(try Engine.Model(path: path))
    try e.run([EncoderInput(ids: ids)])
    var expected: [Float] = []
    try e.maskedLM(0, at: [ids.count - 1]) { _, row in expected = Array(row) }
    #expect(try s.logits(ids) == expected)
}

/// A translation is the Seq2SeqSession's: sampled greedily, or the best of 4 beams with the model's own length
/// penalty and early stopping (BART's are 2 and true).
@Test(arguments: ["t5-tiny", "bart-tiny", "marian-tiny"])
func translationIsTheSeq2SeqSessions(fixture: String) throws {
    let path = try fixtureGGUF(fixture, .q8_0)
    let source = "translate English to German: The quick brown fox."
    let engine = try Engine.Model(path: path)
    var o = Seq2SeqOptions()
    o.target = 32
    o.threads = 2
    o.beams = 4
    let e = try Seq2SeqSession(engine, o)
    try e.encode(engine.tokenizer.encode(source, addSpecial: true))
    var p = SamplerParams()
    p.temperature = 0
    var sampler = Sampler(p, vocabSize: engine.vocabSize)
    let sampled = try e.generate(maxTokens: 8, sampler: &sampler) { _ in true }.ids
    #expect(try pieces(try session(fixture), source, 8).0.compactMap(\.token) == sampled)
    try e.encode(engine.tokenizer.encode(source, addSpecial: true))
    let g = engine.generation
    let best = try e.beamSearch(maxTokens: 8, lengthPenalty: g.lengthPenalty, earlyStopping: g.earlyStopping)[0]
    #expect(try pieces(try session(fixture, .q8_0, greedy(beams: 4)), source, 8).0.compactMap(\.token) == Array(best.ids.dropFirst()))
}

@Test func tokenizeAddsTheModelsSpecialTokensAndRoundTrips() throws {
    let llama = try Swiftlet.Model(path: try fixtureGGUF("llama-tiny", .q8_0))
    let engine = try Engine.Model(path: try fixtureGGUF("llama-tiny", .q8_0))
    #expect(llama.kind == .decoder && llama.architecture == "llama")
    let text = "hello world"
    #expect(llama.tokenize(text) == engine.tokenizer.encode(text, addSpecial: true))
    #expect(try llama.detokenize(llama.tokenize(text, addSpecial: false)) == text)
    let bert = try Swiftlet.Model(path: try fixtureGGUF("bert-st-tiny", .q8_0))
    #expect(bert.kind == .encoder && bert.embeddingSize > 0)
    let ids = bert.tokenize(text)
    #expect(try bert.detokenize(Array(ids.dropFirst().dropLast())) == text)
    let wordPiece = try Engine.Model(path: try fixtureGGUF("bert-st-tiny", .q8_0)).tokenizer
    #expect(ids.first == wordPiece.id("[CLS]") && ids.last == wordPiece.id("[SEP]"))
}

@Test func parametersDefaultToTheCAPIs() {
    // swiftlet.h's documented defaults (llama.cpp's).
    let p = Swiftlet.Parameters()
    #expect(p.context == 0 && p.threads == 0 && p.temperature == 0.8 && p.topK == 40 && p.topP == 0.95)
    #expect(p.minP == 0.05 && p.repeatPenalty == 1 && p.beams == 1 && p.seed == nil)
}

@Test func badInputThrowsTheCAPIsStatuses() throws {
    #expect(status { _ = try Swiftlet.Model(path: "/nonexistent/model.gguf") } == .io)
    let notGGUF = fixtures.appendingPathComponent("llama-tiny/config.json").path
    #expect(status { _ = try Swiftlet.Model(path: notGGUF) } == .format)

    let llama = try Swiftlet.Model(path: try fixtureGGUF("llama-tiny", .q8_0))
    func create(_ change: (inout Swiftlet.Parameters) -> Void) -> Swiftlet.Error.Status? {
        var p = Swiftlet.Parameters()
        change(&p)
        return status { _ = try Swiftlet.Session(model: llama, parameters: p) }
    }
    #expect(create { $0.topP = 2 } == .invalidArgument)
    #expect(create { $0.temperature = .nan } == .invalidArgument)
    #expect(create { $0.context = -1 } == .invalidArgument)
    #expect(create { $0.beams = 65 } == .invalidArgument)
    #expect(create { $0.beams = 4 } == .unsupported)  // beam search is for encoder-decoders

    let vocab = Int32(llama.vocabularySize)
    #expect(status { _ = try llama.detokenize([1, vocab]) } == .invalidArgument)
    let decoder = try session("llama-tiny", .q8_0, greedy(context: 8))
    #expect(status { _ = try decoder.embed("hi") } == .unsupported)
    #expect(status { _ = try decoder.logits([1, vocab]) } == .invalidArgument)
    #expect(status { _ = try decoder.logits([]) } == .invalidArgument)
    #expect(status { try decoder.generate("hi", maxTokens: 0) { _ in true } } == .invalidArgument)
    #expect(status { try decoder.generate("a b c d e f g h i j k l m n o", maxTokens: 4) { _ in true } } == .contextFull)
    decoder.reset()
    // A full context ends a generation with an error, after the pieces that fitted.
    var handed = 0
    #expect(status { try decoder.generate("hi", maxTokens: 50) { _ in handed += 1; return true } } == .contextFull)
    #expect(handed > 0)
    // A callback calling into its own session is refused, not left waiting for itself.
    decoder.reset()
    var inner: Swiftlet.Error.Status?
    try decoder.generate("hi", maxTokens: 1) { _ in
        inner = status { _ = try decoder.logits([1]) }
        return true
    }
    #expect(inner == .invalidArgument)

    let encoder = try session("bert-st-tiny")
    #expect(status { try encoder.generate("hi", maxTokens: 4) { _ in true } } == .unsupported)
    #expect(status { _ = try encoder.logits([1]) } == .unsupported)  // no masked-LM head
    let seq2seq = try session("t5-tiny")
    #expect(status { _ = try seq2seq.logits([1]) } == .unsupported)
    #expect(status { _ = try seq2seq.embed("hi") } == .unsupported)
}
