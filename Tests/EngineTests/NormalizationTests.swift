// Unicode normalization with offset provenance (NormalizedText) against Python's unicodedata and the tokenizers
// library's alignments, on hard strings and on every code point of planes 0-3 and 14
// (Tests/Fixtures/normalization/cases.json, made by tools/reference/normalization_cases.py).

@testable import Engine
import Foundation
import Testing
import TestSupport
import TensorFile
@testable import Tokenizer

struct NormalizationTests {
    static let fixture = fixtures.appendingPathComponent("normalization/cases.json")

    /// The text after the fixture's normalizer `name`.
    static func apply(_ name: String, _ text: String) -> NormalizedText {
        var t = NormalizedText(text)
        switch name {
        case "NFC": t.normalize(.nfc)
        case "NFD": t.normalize(.nfd)
        case "NFKC": t.normalize(.nfkc)
        case "NFKD": t.normalize(.nfkd)
        case "NFD+StripAccents":
            t.normalize(.nfd)
            t.stripAccents()
        case "Lowercase": t.lowercase()
        default: Issue.record("unknown normalizer \(name)")
        }
        return t
    }

    @Test func tablesAreUnicode14LikeTheFixture() throws {
        #expect(try json(Self.fixture)["unicode_version"]?.string == unicodeNormalizationVersion)
        #expect(unicodeNormalizationVersion == unicodeDataVersion)
    }

    @Test func hardStringsMatchTokenizersTextAndSources() throws {
        let cases = try #require(json(Self.fixture)["cases"]?.array)
        #expect(cases.count == 18)
        var checked = 0
        for c in cases {
            let text = try #require(c["text"]?.string)
            for (name, expected) in try #require(c["forms"]?.object?.entries) {
                let t = Self.apply(name, text)
                let got = String(String.UnicodeScalarView(t.scalars))
                let want = try #require(expected["text"]?.string)
                // Compare scalars, not Strings: Swift's String == is canonical equivalence.
                #expect(Array(got.unicodeScalars) == Array(want.unicodeScalars), "\(name) of \(text.debugDescription)")
                #expect(t.sources == ints(expected["sources"]), "\(name) sources of \(text.debugDescription)")
                #expect(t.scalars.count == t.sources.count)
                checked += 1
            }
        }
        #expect(checked == 18 * 6)
    }

    /// Every table entry at once: each block of 4096 code points normalized whole, hashed as the fixture hashed
    /// Python's result.
    @Test(arguments: [UnicodeForm.nfc, .nfd, .nfkc, .nfkd])
    func everyCodePointMatchesUnicodedata(form: UnicodeForm) throws {
        let doc = try json(Self.fixture)
        let starts = ints(doc["block_starts"])
        let hashes = try #require(doc["blocks"]?[form.rawValue]?.array).compactMap(\.string)
        #expect(starts.count == 80 && hashes.count == starts.count)
        var wrong: [String] = []
        for (start, hash) in zip(starts, hashes) {
            let block = (UInt32(start)..<UInt32(start) + 4096).compactMap(Unicode.Scalar.init)
            var t = NormalizedText(String(String.UnicodeScalarView(block)))
            t.normalize(form)
            var utf8 = Array(String(String.UnicodeScalarView(t.scalars)).utf8)
            if utf8.withUnsafeMutableBytes({ fnv1a64(UnsafeRawBufferPointer($0)) }) != hash {
                wrong.append("U+" + String(start, radix: 16, uppercase: true))
            }
        }
        #expect(wrong.isEmpty, "\(form.rawValue) differs from unicodedata in the blocks at \(wrong)")
    }

    @Test func sourcesFollowDecompositionCompositionAndOrdering() {
        // ﬁ decomposes to two scalars of one source; 가 + ᆨ composes to 각 with the starter's source.
        var t = NormalizedText("x\u{FB01}\u{AC00}\u{11A8}")
        t.normalize(.nfkc)
        #expect(t.scalars == ["x", "f", "i", "\u{AC01}"])
        #expect(t.sources == [0, 1, 1, 2])
        // Sources are handed out in order, as tokenizers does: reordering two marks leaves the sources in place,
        t = NormalizedText("a\u{301}\u{323}b")
        t.normalize(.nfd)
        #expect(t.scalars == ["a", "\u{323}", "\u{301}", "b"])
        #expect(t.sources == [0, 1, 2, 3])
        // an added scalar moved past a taken one takes that one's source (ẛ U+0323 → ſ U+0323 U+0307),
        t = NormalizedText("\u{1E9B}\u{323}")
        t.normalize(.nfd)
        #expect(t.scalars == ["\u{17F}", "\u{323}", "\u{307}"])
        #expect(t.sources == [0, 1, 1])
        // and a composite drops its mark's source from the first scalar after it (a U+0316 U+0301 → á U+0316).
        t = NormalizedText("a\u{316}\u{301}")
        t.normalize(.nfc)
        #expect(t.scalars == ["\u{E1}", "\u{316}"])
        #expect(t.sources == [0, 2])
    }

    @Test func stripAccentsDropsMarksUnicode9Knows() {
        // Mn, Mc and Me go (BertNormalizer's own stripping keeps Mc and Me); U+0D00 (Unicode 10) stays, as in
        // tokenizers 0.23, whose unicode-normalization-alignments tables are Unicode 9.0.
        var t = NormalizedText("x\u{301}\u{903}\u{20DD}\u{D00}é")
        t.normalize(.nfd)
        t.stripAccents()
        #expect(t.scalars == ["x", "\u{D00}", "e"])
        #expect(t.sources == [0, 4, 5])
    }

    @Test func lowercaseKeepsTheSourceOfLongerMappings() {
        var t = NormalizedText("AİΣ")
        t.lowercase()
        #expect(t.scalars == ["a", "i", "\u{307}", "\u{3C3}"])
        #expect(t.sources == [0, 1, 1, 2])
    }
}
