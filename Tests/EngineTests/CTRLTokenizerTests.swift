// CTRL's BPE against transformers' CTRLTokenizer (Tests/Fixtures/ctrl-tokenizer, tools/reference/ctrl_cases.py)
// on the ctrl-tiny fixture: ids, offsets and decoded text for hard texts; merge order and bad metadata on
// made-up vocabularies (the expected pieces checked with CTRLTokenizer by hand).

@testable import Engine
import Foundation
import Testing
import TestSupport
import TensorFile
@testable import Tokenizer

@Suite struct CTRLTokenizerTests {
    let cases: [JSONValue]
    let decodeOnly: [JSONValue]

    init() throws {
        let doc = try json(fixtures.appendingPathComponent("ctrl-tokenizer/cases.json"))
        cases = try #require(doc["cases"]?.array)
        decodeOnly = try #require(doc["decode_only"]?.array)
    }

    /// CTRLBPE from a GGUF file, with tokens and types read as Tokenizer reads them.
    static func bpe(_ path: String) throws -> CTRLBPE {
        let file = try GGUFFile(path: path)
        let tokens = try file.stringArray(MetadataKey.tokens)
        let types = try file.intArray(MetadataKey.tokenTypes).map { TokenType(rawValue: Int32($0)) ?? .undefined }
        return try CTRLBPE(file, tokens: tokens, types: types)
    }

    static func ids(_ c: JSONValue, _ key: String = "ids") -> [Int32] { c[key]!.array!.map { Int32($0.int!) } }

    @Test func idsOffsetsAndDecodingMatchTransformers() throws {
        let bpe = try Self.bpe(try fixtureGGUF("ctrl-tiny", .f32))
        var checked = 0
        for c in cases {
            let text = c["text"]!.string!
            guard let offsets = c["offsets"]?.array else { continue }  // has special tokens: the caller cuts them out
            var spans: [TokenSpan] = []
            bpe.encode(text, into: &spans)
            #expect(spans.map(\.id) == Self.ids(c), "ids of \(text.debugDescription)")
            #expect(spans.map { [Int($0.start), Int($0.end)] } == offsets.map { [$0.array![0].int!, $0.array![1].int!] },
                    "offsets of \(text.debugDescription)")
            // Each known piece covers its own characters: the token's spelling less a continuation's "@@".
            let scalars = Array(text.unicodeScalars)
            for s in spans where s.id != bpe.unknown {
                #expect(s.start < s.end && Int(s.end) <= scalars.count)
                let covered = String(String.UnicodeScalarView(scalars[Int(s.start)..<Int(s.end)]))
                let token = bpe.tokens[Int(s.id)]
                #expect(token == covered || token == covered + "@@", "\(token.debugDescription) at \(s.start)..<\(s.end) of \(text.debugDescription)")
            }
            #expect(bpe.decode(Self.ids(c), skipSpecial: true) == c["decoded"]!.string!, "decoding of \(text.debugDescription)")
            checked += 1
        }
        #expect(checked == cases.count - 1)
    }

    @Test func tokenizerWithSpecialTokensMatchesTransformers() throws {
        let tokenizer = try Tokenizer(GGUFFile(path: try fixtureGGUF("ctrl-tiny", .f32)))
        for c in cases {
            let text = c["text"]!.string!
            #expect(tokenizer.spans(text).map(\.id) == Self.ids(c), "ids of \(text.debugDescription)")
            #expect(tokenizer.encode(text, addSpecial: true) == Self.ids(c), "CTRL adds no special tokens: \(text.debugDescription)")
            #expect(tokenizer.decode(Self.ids(c)) == c["decoded"]!.string!, "decoding of \(text.debugDescription)")
        }
    }

    @Test func decodingJoinsDropsContinuationMarksAndStrips() throws {
        let bpe = try Self.bpe(try fixtureGGUF("ctrl-tiny", .f32))
        for c in decodeOnly {
            #expect(bpe.decode(Self.ids(c), skipSpecial: false) == c["decoded"]!.string!, "decoding of \(Self.ids(c))")
        }
    }

    @Test func offsetsCoverWordsNewlinesAndSkipWhitespace() throws {
        let bpe = try Self.bpe(try fixtureGGUF("ctrl-tiny", .f32))
        func spans(_ text: String) -> [[Int32]] {
            var out: [TokenSpan] = []
            bpe.encode(text, into: &out)
            return out.map { [$0.start, $0.end] }
        }
        #expect(spans(" the\tmodel\n") == [[1, 4], [5, 6], [6, 9], [9, 10], [10, 11]])  // m@@ ode@@ l@@ "\n"
        #expect(spans("é a") == [[0, 1], [2, 3]])
        #expect(spans("🎉x") == [[0, 1], [1, 2]])  // scalars, not UTF-8 bytes or UTF-16 units
    }

    // MARK: Made-up vocabularies

    /// A tokenizer-only GGUF: `tokens` (the first the unknown one), NORMAL except the first, and `merges`.
    static func file(_ name: String, tokens: [String], merges: [String]?, unknown: Bool = true) throws -> String {
        let path = try temporaryDirectory("ctrl-" + name).appendingPathComponent("t.gguf").path
        let types = tokens.indices.map { ($0 == 0 && unknown ? TokenType.unknown : .normal).rawValue }
        var metadata: [(key: String, value: GGUFValue)] = [
            (MetadataKey.tokenizerModel, .string("ctrl")),
            (MetadataKey.tokens, .array(.string(tokens))),
            (MetadataKey.tokenTypes, .array(.int32(types))),
        ]
        if let merges { metadata.append((MetadataKey.merges, .array(.string(merges)))) }
        let w = try GGUFWriter(path: path, metadata: metadata, tensors: [])
        try w.finish()
        return path
    }

    static let vocab = ["<unk>", "a@@", "bc", "ab@@", "c", "a", "b@@", "ab", "abc", "l@@", "ll@@", "l", "ll"]

    @Test func lowestRankMergesFirstEveryOccurrenceLeftToRight() throws {
        // "b c</w>" is listed twice: CTRLTokenizer's dict keeps the last rank (3), so "a b" (2) merges first.
        let bpe = try Self.bpe(try Self.file("ranks", tokens: Self.vocab, merges: ["b c</w>", "a b", "b c</w>", "l l", "l l</w>"]))
        func pieces(_ text: String) -> [String] {
            var out: [TokenSpan] = []
            bpe.encode(text, into: &out)
            return out.map { bpe.tokens[Int($0.id)] }
        }
        #expect(pieces("abc") == ["ab@@", "c"])
        #expect(pieces("ab") == ["a@@", "<unk>"])  // "a b" does not join "a" and "b</w>"; "b" is no token
        #expect(pieces("lll") == ["ll@@", "l"])
        #expect(pieces("llll") == ["ll@@", "ll"])
        #expect(pieces("lllll") == ["ll@@", "ll@@", "l"])
        #expect(pieces("a abcx") == ["a", "ab@@", "<unk>", "<unk>"])
    }

    @Test func badMetadataIsNamed() throws {
        func error(_ name: String, merges: [String]?, unknown: Bool = true) throws -> String {
            do {
                _ = try Self.bpe(try Self.file(name, tokens: Self.vocab, merges: merges, unknown: unknown))
                return "no error"
            } catch let e as TokenizerError {
                return e.description
            }
        }
        #expect(try error("missing", merges: nil).contains("'tokenizer.ggml.merges': missing"))
        for (n, bad) in ["a", "a b c", "a  b", " b", ""].enumerated() {
            let message = try error("bad\(n)", merges: ["a b", bad])
            #expect(message.contains("tokenizer.ggml.merges") && message.contains("merge #1"), "\(bad.debugDescription): \(message)")
        }
        #expect(try error("nounk", merges: ["a b"], unknown: false).contains("tokenizer.ggml.unknown_token_id"))
    }
}
