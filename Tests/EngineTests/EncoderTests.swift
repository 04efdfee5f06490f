// The encoder engine against transformers on the tiny random-weight fixtures (odd widths, odd head sizes, ALBERT's
// factorized embedding and shared layers): hidden states after every layer, and every head's outputs; packed
// batches against one sequence at a time.

@testable import Engine
import Foundation
import Quant
import Testing
import TestSupport
import TensorFile

struct EncoderReference {
    let ids: [Int32]
    let typeIds: [Int32]
    let json: JSONValue

    init(_ model: String) throws {
        json = try TestSupport.json(fixtures.appendingPathComponent("\(model)/reference.json"))
        ids = try #require(json["input_ids"]?.array).map { Int32($0.int!) }
        typeIds = json["token_type_ids"]?.array?.map { Int32($0.int!) } ?? []
    }

    func rows(_ key: String) -> [[Float]]? { json[key]?.array?.map { $0.array!.map { Float($0.double!) } } }
    func vector(_ key: String) -> [Float]? { json[key]?.array?.map { Float($0.double!) } }
    var layers: [[[Float]]] { json["hidden_states"]!.array!.map { $0.array!.map { $0.array!.map { Float($0.double!) } } } }
}

func encoderSession(_ model: String, _ type: GGMLType = .f32, tokens: Int = 0) throws -> EncoderSession {
    var o = EncoderOptions()
    o.threads = 2
    o.tokens = tokens
    return try EncoderSession(try Model(path: try fixtureGGUF(model, type)), o)
}

/// Rows of `flat` (row-major, `cols` wide).
func unflatten(_ flat: [Float], _ cols: Int) -> [[Float]] {
    stride(from: 0, to: flat.count, by: cols).map { Array(flat[$0..<$0 + cols]) }
}

/// Within `tolerance` of the largest reference magnitude, entry by entry.
func expectClose(_ a: [[Float]], _ b: [[Float]], _ what: String, tolerance: Float = 1e-4) {
    #expect(a.count == b.count && zip(a, b).allSatisfy { $0.count == $1.count }, "\(what): shapes differ")
    let (d, scale) = maxDiff(a, b)
    #expect(d <= tolerance * max(scale, 1), "\(what): max |diff| \(d), scale \(scale)")
}

@Suite struct EncoderTests {
    static let bodies = ["bert-tiny", "roberta-tiny", "distilbert-tiny", "albert-tiny", "bert-seqcls-tiny",
                         "bert-tokcls-tiny", "bert-qa-tiny", "bert-st-tiny"]

    @Test(arguments: bodies)
    func hiddenStatesMatchTransformers(model: String) throws {
        let r = try EncoderReference(model)
        let s = try encoderSession(model)
        let dim = s.encoder.shape.dim
        var layers: [[[Float]]] = []
        try s.run([EncoderInput(ids: r.ids, typeIds: r.typeIds)]) { _, x in layers.append(unflatten(Array(x), dim)) }
        let expected = r.layers
        #expect(layers.count == expected.count)
        for (i, (got, want)) in zip(layers, expected).enumerated() { expectClose(got, want, "\(model) hidden state \(i)") }
        expectClose(unflatten(Array(s.hidden(0)), dim), expected.last!, "\(model) final hidden")
    }

    @Test(arguments: ["bert-tiny", "roberta-tiny", "distilbert-tiny", "albert-tiny"])
    func maskedLMLogits(model: String) throws {
        let r = try EncoderReference(model)
        let s = try encoderSession(model)
        try s.run([EncoderInput(ids: r.ids, typeIds: r.typeIds)])
        var rows: [[Float]] = []
        try s.maskedLM(0, at: Array(r.ids.indices)) { _, logits in rows.append(Array(logits)) }
        expectClose(rows, try #require(r.rows("mlm_logits")), "\(model) MLM logits")
    }

    @Test func sequenceHeads() throws {
        for (model, key, head) in [("bert-tiny", "nsp_logits", SequenceHead.nextSentence),
                                   ("albert-tiny", "sop_logits", .sentenceOrder),
                                   ("bert-seqcls-tiny", "logits", .classifier)] {
            let r = try EncoderReference(model)
            let s = try encoderSession(model)
            try s.run([EncoderInput(ids: r.ids, typeIds: r.typeIds)])
            expectClose([try s.sequenceLogits(0, head)], [try #require(r.vector(key))], "\(model) \(key)")
        }
        let s = try encoderSession("bert-qa-tiny")
        try s.run([EncoderInput(ids: [2, 50, 3])])
        #expect(throws: ModelError.unsupported("next-sentence prediction: this model has no such head")) {
            try s.sequenceLogits(0, .nextSentence)
        }
    }

    @Test func tokenHeads() throws {
        let tok = try EncoderReference("bert-tokcls-tiny")
        let s = try encoderSession("bert-tokcls-tiny")
        try s.run([EncoderInput(ids: tok.ids, typeIds: tok.typeIds)])
        let labels = try #require(tok.rows("logits"))
        expectClose(unflatten(try s.tokenLogits(0, .tokenClassifier), labels[0].count), labels, "token classification")
        #expect(s.encoder.labels.count == labels[0].count)

        let qa = try EncoderReference("bert-qa-tiny")
        let q = try encoderSession("bert-qa-tiny")
        try q.run([EncoderInput(ids: qa.ids, typeIds: qa.typeIds)])
        let pairs = unflatten(try q.tokenLogits(0, .span), 2)
        expectClose([pairs.map { $0[0] }, pairs.map { $0[1] }],
                    [try #require(qa.vector("start_logits")), try #require(qa.vector("end_logits"))], "QA logits")
    }

    @Test func sentenceTransformersPooling() throws {
        let r = try EncoderReference("bert-st-tiny")
        let s = try encoderSession("bert-st-tiny")
        #expect(s.encoder.pooling == .mean)
        try s.run([EncoderInput(ids: r.ids, typeIds: r.typeIds)])
        expectClose([s.embedding(0, pooling: .mean, normalize: false)], [try #require(r.vector("mean_pooled"))], "mean pooling")
        expectClose([s.embedding(0, pooling: s.encoder.pooling, normalize: s.encoder.normalize)],
                    [try #require(r.vector("sentence_embedding"))], "sentence embedding")
    }

    /// Sequences of different lengths packed into one pass give exactly what each gives alone: every token of a
    /// batch goes through the same four-token kernel, whatever its place.
    @Test(arguments: ["bert-tiny", "albert-tiny"])
    func packedBatchMatchesOneAtATime(model: String) throws {
        let r = try EncoderReference(model)
        let s = try encoderSession(model, .q8_0)
        let inputs = [5, 16, 2, 11, 3].map { n in
            EncoderInput(ids: Array(r.ids.prefix(n)), typeIds: Array(r.typeIds.prefix(n)))
        }
        var alone: [[Float]] = []
        for input in inputs {
            try s.run([input])
            alone.append(Array(s.hidden(0)))
        }
        try s.run(inputs)
        for i in inputs.indices { #expect(Array(s.hidden(i)) == alone[i], "\(model) sequence \(i)") }
    }

    @Test func badInputsAreErrors() throws {
        let s = try encoderSession("bert-tiny", tokens: 48)
        #expect(throws: ModelError.invalidInput("an encoder input with no tokens")) { try s.run([EncoderInput(ids: [])]) }
        #expect(throws: ModelError.invalidInput("token id 300 at index 1 is not in the vocabulary (0..<300)")) {
            try s.run([EncoderInput(ids: [2, 300])])
        }
        #expect(throws: ModelError.invalidInput("token type 2 at index 0: the model has 2 token type(s)")) {
            try s.run([EncoderInput(ids: [2], typeIds: [2])])
        }
        #expect(throws: ModelError.invalidInput("49 tokens, more than the model's 48 positions")) {
            try s.run([EncoderInput(ids: [Int32](repeating: 5, count: 49))])
        }
        #expect(throws: ModelError.invalidInput("60 tokens do not fit in one pass of 48")) {
            try s.run([EncoderInput(ids: [Int32](repeating: 5, count: 30)), EncoderInput(ids: [Int32](repeating: 5, count: 30))])
        }
        #expect(throws: ModelError.self) { try Session(try Model(path: try fixtureGGUF("bert-tiny", .f32))) }
    }
}
