// SentencePiece Unigram against its references (Tests/Fixtures/unigram, tools/reference/unigram_cases.py): the
// fixtures' tokenizers converted to GGUF (ALBERT: replacements, NFKD, accents, lowercase, a charsmap; XLNet; T5 and
// FLAN-T5: a charsmap) against transformers; SentencePiece models (nmt_nfkc's full charsmap, byte fallback,
// Marian's source vocabulary) against both the tokenizers library and sentencepiece itself. Ids, offsets, decoding.

import Converter
@testable import Engine
import Foundation
import TensorFile
import Testing
import TestSupport
@testable import Tokenizer

@Suite struct UnigramTests {
    struct Case {
        let text: String
        let ids: [Int32]
        let offsets: [[Int32]]
        let decoded: String?, decodedSpecial: String?
    }

    /// The texts of `file` with one model's (and library's) cases.
    static func cases(_ file: String, _ path: [String]) throws -> [Case] {
        let root = try json(fixtures.appendingPathComponent("unigram/\(file)"))
        var node: JSONValue? = root["models"]
        for key in path { node = node?[key] }
        let texts = try #require(root["texts"]?.array), list = try #require(node?.array)
        #expect(texts.count == list.count)
        return zip(texts, list).map { text, c in
            Case(text: text.string!, ids: c["ids"]!.array!.map { Int32($0.int!) },
                 offsets: c["offsets"]?.array?.map { $0.array!.map { Int32($0.int!) } } ?? [],
                 decoded: c["decoded"]?.string, decodedSpecial: c["decoded_special"]?.string)
        }
    }

    static func check(_ u: Unigram, _ cases: [Case], _ name: String) {
        for c in cases {
            var spans: [TokenSpan] = []
            u.encode(c.text, into: &spans)
            #expect(spans.map(\.id) == c.ids, "\(name) ids of \(c.text.debugDescription)")
            #expect(spans.map { [$0.start, $0.end] } == c.offsets, "\(name) offsets of \(c.text.debugDescription)")
            if let d = c.decoded { #expect(u.decode(c.ids, skipSpecial: true) == d, "\(name) decoding of \(c.text.debugDescription)") }
            if let d = c.decodedSpecial {
                #expect(u.decode(c.ids, skipSpecial: false) == d, "\(name) decoding (special kept) of \(c.text.debugDescription)")
            }
        }
    }

    /// `quantize`'s GGUF of the fixture, read as `Unigram(file, tokens:, types:)`.
    static func converted(_ model: String) throws -> (GGUFFile, Unigram) {
        let file = try GGUFFile(path: try fixtureGGUF(model, .f32))
        let tokens = try file.stringArray(MetadataKey.tokens)
        let types = try file.intArray(MetadataKey.tokenTypes).map { TokenType(rawValue: Int32($0)) ?? .undefined }
        return (file, try Unigram(file, tokens: tokens, types: types))
    }

    @Test(arguments: ["albert-tiny", "xlnet-tiny", "t5-tiny", "flan-t5-tiny"])
    func convertedTokenizersMatchTransformers(model: String) throws {
        let (_, u) = try Self.converted(model)
        Self.check(u, try Self.cases("cases.json", [model]), model)
    }

    /// A SentencePiece model's pieces as arrays (types as llama.cpp stores them, user-defined ones kept).
    static func model(_ path: String, _ library: Unigram.Library) throws -> Unigram {
        let sp = try SentencePieceModel(path: fixtures.appendingPathComponent(path).path)
        var o = Unigram.Options()
        o.library = library
        o.addSpacePrefix = sp.addDummyPrefix
        // transformers' T5Tokenizer splits on whitespace whatever the model says.
        o.removeExtraWhitespaces = library == .tokenizers || sp.removeExtraWhitespaces
        o.precompiledCharsmap = sp.precompiledCharsmap.isEmpty ? nil : sp.precompiledCharsmap
        return try Unigram(tokens: sp.pieces.map(\.text), scores: sp.pieces.map(\.score),
                           types: sp.pieces.map { TokenType(rawValue: $0.type.rawValue)! }, unknown: sp.unknownID, options: o)
    }

    @Test(arguments: ["unigram", "bytes"])
    func sentencePieceModelsMatchTokenizersAndSentencePiece(name: String) throws {
        let path = try #require(try json(fixtures.appendingPathComponent("unigram/sentencepiece.json"))["models"]?[name]?["path"]?.string)
        Self.check(try Self.model(path, .tokenizers), try Self.cases("sentencepiece.json", [name, "tokenizers"]), "\(name) tokenizers")
        Self.check(try Self.model(path, .sentencePiece), try Self.cases("sentencepiece.json", [name, "sentencepiece"]), "\(name) sentencepiece")
    }

    @Test func marianSourceMatchesSentencePieceAndMarianIDs() throws {
        let file = try GGUFFile(path: try fixtureGGUF("marian-tiny", .f32))
        let u = try Unigram(marianSource: file)
        let cases = try Self.cases("sentencepiece.json", ["marian-source", "sentencepiece"])
        Self.check(u, cases, "marian source")
        // The pieces (an unknown one as its text) looked up in the model's vocabulary, else <unk>, as MarianTokenizer does.
        let root = try json(fixtures.appendingPathComponent("unigram/sentencepiece.json"))
        let expected = try #require(root["models"]?["marian-source"]?["marian_ids"]?.array)
        let tokens = try file.stringArray(MetadataKey.tokens), unk = Int32(try file.int(MetadataKey.unknownTokenID))
        let ids = Dictionary(tokens.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { a, _ in a })
        for (c, e) in zip(cases, expected) {
            var spans: [TokenSpan] = [], pieces: [String] = []
            u.encode(c.text, into: &spans, pieces: &pieces)
            #expect(spans.map(\.id) == c.ids)
            #expect(pieces.map { ids[$0] ?? unk } == e.array!.map { Int32($0.int!) }, "Marian ids of \(c.text.debugDescription)")
        }
        // The same through the model's tokenizer, as `generate` runs it.
        let tokenizer = try Tokenizer(file)
        for (c, e) in zip(cases, expected) {
            #expect(tokenizer.encode(c.text, addSpecial: false) == e.array!.map { Int32($0.int!) }, "Marian tokenizer on \(c.text.debugDescription)")
        }
    }

    /// A hand-made vocabulary where the unknown token's score (the lowest of the real pieces', not of the padding),
    /// a user-defined piece and a piece across "▁" decide the segmentation.
    @Test(arguments: [Unigram.Library.tokenizers, .sentencePiece])
    func syntheticVocabularyMatchesBothLibraries(library: Unigram.Library) throws {
        let root = try json(fixtures.appendingPathComponent("unigram/synthetic.json"))
        let pieces = try #require(root["models"]?["synthetic"]?["pieces"]?.array)
        // As a GGUF file pads the vocabulary: UNUSED [PADi] at -10000, a CONTROL sentinel at -1000 (T5's).
        var tokens = pieces.map { $0.array![0].string! } + ["<extra_id_0>", "[PAD16]", "[PAD17]"]
        var scores = pieces.map { Float($0.array![1].double!) } + [-1000, -10000, -10000]
        var types = pieces.map { TokenType(rawValue: Int32($0.array![2].int!))! } + [.control, .unused, .unused]
        var o = Unigram.Options()
        o.library = library
        let name = library == .tokenizers ? "tokenizers" : "sentencepiece"
        let cases = try Self.cases("synthetic.json", ["synthetic", name])
        Self.check(try Unigram(tokens: tokens, scores: scores, types: types, unknown: 0, options: o), cases, "synthetic \(name)")
        // The same pieces in another order and ids: the same segmentation (by piece).
        tokens.reverse()
        scores.reverse()
        types.reverse()
        let u = try Unigram(tokens: tokens, scores: scores, types: types, unknown: Int32(tokens.count - 1), options: o)
        for c in cases {
            var spans: [TokenSpan] = []
            u.encode(c.text, into: &spans)
            #expect(spans.map { Int32(tokens.count - 1) - $0.id } == c.ids, "reversed synthetic \(name) ids of \(c.text.debugDescription)")
        }
    }

    @Test func byteRunsThatAreNotUTF8DecodeAsOneReplacementCharacterPerByte() throws {
        let u = try Self.model("unigram/bytes.model", .tokenizers)
        func id(_ piece: String) throws -> Int32 { Int32(try #require(u.tokens.firstIndex(of: piece))) }
        let (e2, x98, x83, the) = (try id("<0xE2>"), try id("<0x98>"), try id("<0x83>"), try id("▁do"))
        // E2 98 83 is "☃"; E2 98 alone is not UTF-8, and tokenizers' ByteFallback gives U+FFFD for each byte.
        #expect(u.decode([e2, x98, x83], skipSpecial: true) == "☃")
        #expect(u.decode([the, e2, x98, the], skipSpecial: true) == "do\u{FFFD}\u{FFFD} do")
        // Metaspace drops "▁" only in the first token.
        #expect(u.decode([e2, x98, x83, the], skipSpecial: true) == "☃ do")
    }

    @Test func malformedCharsmapIsAnErrorAndNeverTraps() throws {
        let tokens = ["<unk>", "▁a", "a"], scores: [Float] = [0, -1, -2], types: [TokenType] = [.unknown, .normal, .normal]
        var o = Unigram.Options()
        for blob: [UInt8] in [[1, 0, 0], [8, 0, 0, 0, 0, 0, 0, 0], [6, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7]] {
            o.precompiledCharsmap = blob
            #expect(throws: TokenizerError.self) { try Unigram(tokens: tokens, scores: scores, types: types, unknown: 0, options: o) }
        }
        // Tries whose units point anywhere: lookups stop at the array's or the pool's end.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt8 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 32)
        }
        for _ in 0..<200 {
            o.precompiledCharsmap = [16, 0, 0, 0] + (0..<24).map { _ in next() }
            for library in [Unigram.Library.tokenizers, .sentencePiece] {
                o.library = library
                let u = try Unigram(tokens: tokens, scores: scores, types: types, unknown: 0, options: o)
                var spans: [TokenSpan] = []
                u.encode("a ☃ Ａ\u{301}bc \u{1}", into: &spans)
                #expect(spans.allSatisfy { $0.start <= $0.end })
            }
        }
    }
}
