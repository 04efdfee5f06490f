// SentencePiece BPE (llama.cpp's "llama" vocabulary) against sentencepiece itself (Tests/Fixtures/spm,
// tools/reference/spm_cases.py) on the Mistral and Mixtral fixtures: ids and decoded text for hard texts.

@testable import Engine
import Foundation
import Testing
import TestSupport
import TensorFile

@Suite struct SentencePieceBPETests {
    @Test(arguments: ["mistral-tiny", "mixtral-tiny"])
    func idsAndDecodingMatchSentencePiece(model: String) throws {
        let cases = try #require(try json(fixtures.appendingPathComponent("spm/cases.json"))["models"]?[model]?.array)
        let tokenizer = try Tokenizer(GGUFFile(path: try fixtureGGUF(model, .f32)))
        for c in cases {
            let text = c["text"]!.string!
            let ids = c["ids"]!.array!.map { Int32($0.int!) }
            let spans = tokenizer.spans(text)
            #expect(spans.map(\.id) == ids, "\(model) ids of \(text.debugDescription)")
            #expect(spans.allSatisfy { $0.start <= $0.end && Int($0.end) <= text.unicodeScalars.count }, "\(model) offsets")
            #expect(tokenizer.encode(text, addSpecial: true) == (ids.isEmpty && text.isEmpty ? [1] : [1] + ids))
            #expect(tokenizer.decode(ids) == c["decoded"]!.string!, "\(model) decoding of \(text.debugDescription)")
        }
    }
}
