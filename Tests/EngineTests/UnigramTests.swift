// SentencePiece Unigram against transformers (Tests/Fixtures/unigram, tools/reference/unigram_cases.py) on the
// fixtures' tokenizers: ALBERT (replacements, NFKD, accents, lowercase, a precompiled charsmap, whitespace split),
// XLNet and T5: ids, character offsets and decoded text for hard texts.

@testable import Engine
import Foundation
import Testing
import TestSupport
import TensorFile

@Suite struct UnigramTests {
    @Test(arguments: ["albert-tiny", "xlnet-tiny", "t5-tiny"])
    func idsOffsetsAndDecodingMatchTransformers(model: String) throws {
        let cases = try #require(try json(fixtures.appendingPathComponent("unigram/cases.json"))["models"]?[model]?.array)
        let tokenizer = try Tokenizer(GGUFFile(path: try fixtureGGUF(model, .f32)))
        for c in cases {
            let text = c["text"]!.string!
            let spans = tokenizer.spans(text)
            let ids = c["ids"]!.array!.map { Int32($0.int!) }
            #expect(spans.map(\.id) == ids, "\(model) ids of \(text.debugDescription)")
            let offsets = c["offsets"]!.array!.map { [Int32($0.array![0].int!), Int32($0.array![1].int!)] }
            #expect(spans.map { [$0.start, $0.end] } == offsets, "\(model) offsets of \(text.debugDescription)")
            #expect(tokenizer.decode(ids) == c["decoded"]!.string!, "\(model) decoding of \(text.debugDescription)")
        }
    }
}
