// SentencePiece BPE (llama.cpp's "llama" vocabulary) against sentencepiece itself (Tests/Fixtures/spm, written by
// tools/reference/spm_cases.py): ids, offsets and decoding of hard texts with the Mistral and Mixtral fixtures'
// tokenizer.model (converted by quantize) and Tests/Fixtures/sentencepiece/bpe.model (no dummy prefix,
// remove_extra_whitespaces; written to a tokenizer-only GGUF here); then made-up vocabularies for the merge order.

@testable import Engine
import Converter
import Foundation
import Testing
import TestSupport
import TensorFile
@testable import Tokenizer

@Suite struct SentencePieceBPETests {
    /// The SentencePiece BPE of a GGUF file, tokens and types read as Tokenizer reads them.
    static func load(_ path: String) throws -> SentencePieceBPE {
        let f = try GGUFFile(path: path)
        let tokens = try f.stringArray(MetadataKey.tokens)
        let types = try f.intArray(MetadataKey.tokenTypes).map { TokenType(rawValue: Int32(clamping: $0)) ?? .undefined }
        return try SentencePieceBPE(f, tokens: tokens, types: types)
    }

    /// A fixture's GGUF: the HF directory converted by quantize, or for "bpe" the bare sentencepiece model's pieces
    /// with its normalizer's settings (types as llama.cpp's converter maps them).
    static func path(_ name: String) throws -> String {
        guard name == "bpe" else { return try fixtureGGUF(name, .f32) }
        let sp = try SentencePieceModel(path: fixtures.appendingPathComponent("sentencepiece/bpe.model").path)
        let types: [Int32] = sp.pieces.map {
            switch $0.type {
            case .unknown: TokenType.unknown.rawValue
            case .control: TokenType.control.rawValue
            case .unused: TokenType.unused.rawValue
            case .byte: TokenType.byte.rawValue
            case .normal, .userDefined: TokenType.normal.rawValue
            }
        }
        return try file("bpe-model", [
            (MetadataKey.tokens, .array(.string(sp.pieces.map(\.text)))),
            (MetadataKey.tokenScores, .array(.float32(sp.pieces.map(\.score)))),
            (MetadataKey.tokenTypes, .array(.int32(types))),
            (MetadataKey.addSpacePrefix, .bool(sp.addDummyPrefix)),
            (MetadataKey.removeExtraWhitespaces, .bool(sp.removeExtraWhitespaces)),
            (MetadataKey.unknownTokenID, .uint32(UInt32(sp.unknownID))),
        ])
    }

    /// A tokenizer-only "llama" GGUF with `metadata`.
    static func file(_ name: String, _ metadata: [(key: String, value: GGUFValue)]) throws -> String {
        let path = try temporaryDirectory("spm-" + name).appendingPathComponent("t.gguf").path
        let w = try GGUFWriter(path: path, metadata: [(MetadataKey.tokenizerModel, .string("llama"))] + metadata,
                               tensors: [])
        try w.finish()
        return path
    }

    static func ints(_ v: JSONValue?) -> [Int32] { v?.array?.compactMap { $0.int.map(Int32.init) } ?? [] }

    @Test(arguments: ["mistral-tiny", "mixtral-tiny", "bpe"])
    func idsOffsetsAndDecodingMatchSentencePiece(_ name: String) throws {
        let fixture = try json(fixtures.appendingPathComponent("spm/\(name).json"))
        let bpe = try Self.load(try Self.path(name))
        #expect(bpe.addSpacePrefix == fixture["add_dummy_prefix"]?.bool)
        let cases = try #require(fixture["cases"]?.array)
        #expect(cases.count == 32)
        var offsetsChecked = 0
        for c in cases {
            let text = try #require(c["text"]?.string), ids = Self.ints(c["ids"])
            var spans: [TokenSpan] = []
            bpe.encode(text, into: &spans)
            #expect(spans.map(\.id) == ids, "\(name): ids of \(text.debugDescription)")
            let scalars = Array(text.unicodeScalars)
            #expect(spans.allSatisfy { 0 <= $0.start && $0.start < $0.end && Int($0.end) <= scalars.count },
                    "\(name): offsets of \(text.debugDescription) out of range")
            #expect(zip(spans, spans.dropFirst()).allSatisfy { $0.start <= $1.start && $0.end <= $1.end },
                    "\(name): offsets of \(text.debugDescription) go back")
            if spans.map(\.id) == ids { Self.expectEachTokenCoversItsText(bpe, text, spans, name) }
            // transformers' offset_mapping, where its ids are sentencepiece's
            if let offsets = c["offsets"]?.array {
                #expect(spans.map { [Int($0.start), Int($0.end)] } == offsets.map { $0.array?.compactMap(\.int) ?? [] },
                        "\(name): offsets of \(text.debugDescription)")
                offsetsChecked += 1
            }
            #expect(bpe.decode(ids, skipSpecial: true) == c["decoded"]?.string,
                    "\(name): decoding of \(text.debugDescription)")
        }
        #expect(offsetsChecked == (name == "bpe" ? 0 : 26))
        let decodes = try #require(fixture["decode_cases"]?.array)
        #expect(decodes.count == 11)
        for d in decodes {
            let ids = Self.ints(d["ids"])
            #expect(bpe.decode(ids, skipSpecial: true) == d["text"]?.string, "\(name): decoding of \(ids)")
        }
    }

    /// Each token covers what it spells: its text ("▁" for a space; with remove_extra_whitespaces, the spaces dropped
    /// after a kept one too) or, for a byte token, a character holding that byte; the prepended "▁" alone covers
    /// the first character.
    static func expectEachTokenCoversItsText(_ bpe: SentencePieceBPE, _ text: String, _ spans: [TokenSpan], _ name: String) {
        let scalars = Array(text.unicodeScalars), what = "\(name): \(text.debugDescription)"
        for (k, s) in spans.enumerated() {
            var covered = String(String.UnicodeScalarView(scalars[Int(s.start)..<Int(s.end)]))
            if bpe.removeExtraWhitespaces {
                covered = covered.replacingOccurrences(of: " +", with: " ", options: .regularExpression)
            }
            covered = covered.replacingOccurrences(of: " ", with: "\u{2581}")
            let token = bpe.tokens[Int(s.id)]
            if let b = Tokenizer.byteToken(token), bpe.types[Int(s.id)] == .byte {
                #expect(covered.unicodeScalars.count == 1 && covered.utf8.contains(b), "\(what) byte token \(k)")
            } else if k == 0, bpe.addSpacePrefix, token == "\u{2581}" {
                #expect(s.start == 0 && s.end == 1, "\(what) prefix")
            } else {
                let spelled = k == 0 && bpe.addSpacePrefix ? String(token.dropFirst()) : token
                #expect(covered == spelled, "\(what) token \(k) '\(token)' covers '\(covered)'")
            }
        }
    }

    /// The same through Tokenizer: BOS first, and special-token spellings left as text without parse_special.
    @Test(arguments: ["mistral-tiny", "mixtral-tiny"])
    func tokenizerAddsBOSAroundTheSameIds(_ name: String) throws {
        let cases = try #require(try json(fixtures.appendingPathComponent("spm/\(name).json"))["cases"]?.array)
        let tokenizer = try Tokenizer(GGUFFile(path: try Self.path(name)))
        for c in cases {
            let text = try #require(c["text"]?.string), ids = Self.ints(c["ids"])
            #expect(tokenizer.encode(text, addSpecial: true, parseSpecial: false) == [1] + ids,
                    "\(name): \(text.debugDescription)")
            #expect(tokenizer.decode(ids) == c["decoded"]?.string)
        }
    }

    // MARK: Made-up vocabularies

    /// <unk> <s> </s>, then pieces with scores; "a" is no token but "ab" is, and there are no byte tokens.
    static let vocab: [(String, Float, TokenType)] = [
        ("<unk>", 0, .unknown), ("<s>", 0, .control), ("</s>", 0, .control), ("\u{2581}", -5, .normal),
        ("b", -1, .normal), ("ab", 0, .normal), ("bc", -1, .normal), ("c", -1, .normal), ("\u{2581}ab", -2, .normal),
        ("bb", -3, .normal),
    ]

    static func made(_ name: String, _ extra: [(key: String, value: GGUFValue)] = [],
                     scores: Bool = true) throws -> SentencePieceBPE {
        var metadata: [(key: String, value: GGUFValue)] = [
            (MetadataKey.tokens, .array(.string(vocab.map(\.0)))),
            (MetadataKey.tokenTypes, .array(.int32(vocab.map(\.2.rawValue)))),
        ]
        if scores { metadata.append((MetadataKey.tokenScores, .array(.float32(vocab.map(\.1))))) }
        return try load(try file(name, metadata + extra))
    }

    @Test func highestScoreMergesFirstLeftmostAmongEquals() throws {
        let bpe = try Self.made("order")
        func encode(_ text: String, startsInput: Bool = true) -> [[Int32]] {
            var out: [TokenSpan] = []
            bpe.encode(text, startsInput: startsInput, into: &out)
            return out.map { [$0.id, $0.start, $0.end] }
        }
        // ▁ a b c: "ab" (0) before "bc" (-1), though "a" is no token; then "▁ab" (-2).
        #expect(encode("abc") == [[8, 0, 2], [7, 2, 3]])
        #expect(encode("abc", startsInput: false) == [[5, 0, 2], [7, 2, 3]])
        // ▁ b b b: both "bb" score -3, the left one merges.
        #expect(encode("bbb") == [[3, 0, 1], [9, 0, 2], [4, 2, 3]])
        // No byte tokens: a character no token spells is <unk>, once per character.
        #expect(encode("aé") == [[3, 0, 1], [0, 0, 1], [0, 1, 2]])
        #expect(encode("") == [])
        let noPrefix = try Self.made("no-prefix", [(MetadataKey.addSpacePrefix, .bool(false))])
        var out: [TokenSpan] = []
        noPrefix.encode("abc", into: &out)
        #expect(out.map(\.id) == [5, 7])
    }

    @Test func decodingShowsSpecialTokensUnlessSkipped() throws {
        let bpe = try Self.made("decode")
        #expect(bpe.decode([1, 8, 7, 2], skipSpecial: true) == "abc")
        #expect(bpe.decode([1, 8, 7, 2], skipSpecial: false) == "<s> abc</s>")
        #expect(bpe.decode([0, 3, 8], skipSpecial: true) == " ab")  // <unk> is invisible, "▁" takes the bos space
        #expect(bpe.decode([0, 8], skipSpecial: false) == "<unk> ab")
        #expect(bpe.decode([-1, 99, 8], skipSpecial: true) == "ab")
    }

    @Test func badMetadataIsNamed() throws {
        func error(_ body: () throws -> SentencePieceBPE) -> String {
            do {
                _ = try body()
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(error { try Self.made("no-scores", scores: false) }.contains(MetadataKey.tokenScores))
        let short = error {
            try Self.load(try Self.file("short-scores", [
                (MetadataKey.tokens, .array(.string(Self.vocab.map(\.0)))),
                (MetadataKey.tokenTypes, .array(.int32(Self.vocab.map(\.2.rawValue)))),
                (MetadataKey.tokenScores, .array(.float32([0, 0]))),
            ]))
        }
        #expect(short.contains(MetadataKey.tokenScores) && short.contains("2 scores for 10 tokens"), "\(short)")
        let badPrefix = error { try Self.made("bad-prefix", [(MetadataKey.addSpacePrefix, .string("yes"))]) }
        #expect(badPrefix.contains(MetadataKey.addSpacePrefix), "\(badPrefix)")
    }
}
