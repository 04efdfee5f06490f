// CTRL's BPE against transformers' CTRLTokenizer (Tests/Fixtures/ctrl-tokenizer, tools/reference/ctrl_cases.py)
// on the ctrl-tiny fixture: ids, offsets within the text, and decoded text for hard texts.

@testable import Engine
import Foundation
import Testing
import TestSupport
import TensorFile

@Test func ctrlTokenizerMatchesTransformers() throws {
    let cases = try #require(try json(fixtures.appendingPathComponent("ctrl-tokenizer/cases.json"))["cases"]?.array)
    let tokenizer = try Tokenizer(GGUFFile(path: try fixtureGGUF("ctrl-tiny", .f32)))
    for c in cases {
        let text = c["text"]!.string!
        let ids = c["ids"]!.array!.map { Int32($0.int!) }
        let spans = tokenizer.spans(text)
        #expect(spans.map(\.id) == ids, "ids of \(text.debugDescription)")
        #expect(spans.allSatisfy { $0.start < $0.end && Int($0.end) <= text.unicodeScalars.count }, "offsets of \(text.debugDescription)")
        #expect(tokenizer.encode(text, addSpecial: true) == ids, "CTRL adds no special tokens")
        #expect(tokenizer.decode(ids) == c["decoded"]!.string!, "decoding of \(text.debugDescription)")
    }
}
