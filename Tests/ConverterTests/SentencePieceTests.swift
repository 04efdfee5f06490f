// SentencePiece model files decode as the sentencepiece library decodes them
// (Tests/Fixtures/sentencepiece: a unigram model with nmt_nfkc and a byte-fallback BPE model, plus
// expected.json written with sentencepiece_model_pb2).

import Converter
import Foundation
import Testing
import TestSupport
import TensorFile

@Test(arguments: ["unigram", "bpe"])
func sentencePieceModelMatchesProtobufLibrary(_ name: String) throws {
    let m = try SentencePieceModel(path: fixtures.appendingPathComponent("sentencepiece/\(name).model").path)
    let e = try #require(try json(fixtures.appendingPathComponent("sentencepiece/expected.json"))[name])
    let pieces = try #require(e["pieces"]?.array)
    #expect(m.pieces.count == pieces.count)
    for (p, q) in zip(m.pieces, pieces) {
        #expect(p.text == q.array?[0].string && Double(p.score) == q.array?[1].double && Int(p.type.rawValue) == q.array?[2].int, "\(p)")
    }
    #expect(Int(m.kind.rawValue) == e["model_type"]?.int)
    #expect(m.byteFallback == e["byte_fallback"]?.bool)
    #expect(Int(m.unknownID) == e["unk_id"]?.int && Int(m.bosID) == e["bos_id"]?.int)
    #expect(Int(m.eosID) == e["eos_id"]?.int && Int(m.padID) == e["pad_id"]?.int)
    #expect(m.normalizerName == e["normalizer_name"]?.string)
    #expect(m.precompiledCharsmap.count == e["precompiled_charsmap_bytes"]?.int)
    #expect(m.addDummyPrefix == e["add_dummy_prefix"]?.bool && m.removeExtraWhitespaces == e["remove_extra_whitespaces"]?.bool)
}

@Test func truncatedSentencePieceModelIsAnError() throws {
    let whole = try Data(contentsOf: fixtures.appendingPathComponent("sentencepiece/bpe.model"))
    let dir = try temporaryDirectory("spm-trunc")
    var failures = 0
    for n in stride(from: 1, to: whole.count, by: 7) {
        let url = dir.appendingPathComponent("t.model")
        try whole.prefix(n).write(to: url)
        do { _ = try SentencePieceModel(path: url.path) } catch { failures += 1 }
    }
    // Most prefixes cut a field in half; those that end on a field boundary may still parse. None may crash.
    #expect(failures > 0)
}
