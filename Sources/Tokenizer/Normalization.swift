// Unicode normalization (UAX #15: NFC, NFD, NFKC, NFKD) and the tokenizers library's StripAccents and Lowercase
// normalizers, over text whose every scalar remembers the scalar of the original text it came from, so that
// tokens can be given offsets into the original as transformers' offset_mapping gives them (tokenizers'
// NormalizedString alignments). Tables: UnicodeNormalizationData.swift (tools/gen_unicode_data.py).

/// A Unicode normalization form, spelled as `tokenizer.swiftlet.normalizer.unicode_form` stores it.
public enum UnicodeForm: String, Sendable { case nfc = "NFC", nfd = "NFD", nfkc = "NFKC", nfkd = "NFKD" }

/// Text being normalized, each scalar remembering which scalar of the original text it came from.
struct NormalizedText {
    var scalars: [Unicode.Scalar]
    /// sources[i]: the index into the original text's unicodeScalars that scalars[i] came from.
    var sources: [Int32]

    /// The text as it is: sources 0..<n.
    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
        sources = Array(0..<Int32(scalars.count))
    }

    /// Full Unicode normalization: decompose (canonically, or by compatibility for NFKC/NFKD), order canonically,
    /// and compose for NFC/NFKC. Sources follow tokenizers (its unicode-normalization-alignments crate and
    /// NormalizedString.transform): each scalar out carries a change (0: takes the next original scalar; 1: a
    /// scalar added after the last one taken, its source; -n: takes the next and drops n more), decomposition adds
    /// scalars, ordering moves them with their changes, a composite takes its starter's and drops the mark's,
    /// and sources are then handed out in order. So a composite takes its starter's source, and ordering can
    /// move a source to another scalar ("a\u{301}\u{323}" gives a, U+0323, U+0301 with sources 0, 1, 2).
    mutating func normalize(_ form: UnicodeForm) {
        // Nothing below U+00A0 decomposes or composes.
        guard let first = scalars.firstIndex(where: { $0.value >= 0xA0 }) else { return }
        var changes = [Int32](repeating: 0, count: first)
        decompose(from: first, compatibility: form == .nfkc || form == .nfkd, &changes)
        orderCanonically(&changes)
        if form == .nfc || form == .nfkc { compose(&changes) }
        let old = sources
        var cursor = 0
        sources = changes.map { change in
            guard change <= 0 else { return old[max(cursor - 1, 0)] }
            defer { cursor += 1 - Int(change) }
            return old[cursor]
        }
    }

    /// tokenizers' StripAccents normalizer: drops every combining mark (general category M: Mn, Mc and Me, not
    /// only Mn as BertNormalizer does) that Unicode 9.0 knows, as its unicode-normalization-alignments crate does
    /// (U+0D00, Unicode 10, stays). Callers decompose first (NFD or NFKD) for accents to be marks.
    mutating func stripAccents() {
        removeAll { s in
            switch s.properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark:
                guard let age = s.properties.age else { return false }
                return age.major < 9 || (age.major == 9 && age.minor == 0)
            default: return false
            }
        }
    }

    /// tokenizers' Lowercase normalizer: each scalar's full lowercase mapping (Rust's char::to_lowercase, no
    /// context: a final sigma stays σ); every scalar of a longer mapping (İ → i, U+0307) keeps the source.
    mutating func lowercase() {
        guard scalars.contains(where: { $0.value >= 0x80 || ($0.value >= 0x41 && $0.value <= 0x5A) }) else { return }
        var outScalars: [Unicode.Scalar] = [], outSources: [Int32] = []
        outScalars.reserveCapacity(scalars.count)
        outSources.reserveCapacity(scalars.count)
        for (s, source) in zip(scalars, sources) {
            if s.value < 0x80 {
                outScalars.append(s.value >= 0x41 && s.value <= 0x5A ? Unicode.Scalar(UInt8(s.value) + 0x20) : s)
                outSources.append(source)
                continue
            }
            for l in s.properties.lowercaseMapping.unicodeScalars {
                outScalars.append(l)
                outSources.append(source)
            }
        }
        scalars = outScalars
        sources = outSources
    }

    /// Drops the scalars `remove` picks, with their sources.
    mutating func removeAll(where remove: (Unicode.Scalar) -> Bool) {
        var kept = 0
        for i in scalars.indices where !remove(scalars[i]) {
            scalars[kept] = scalars[i]
            sources[kept] = sources[i]
            kept += 1
        }
        scalars.removeLast(scalars.count - kept)
        sources.removeLast(sources.count - kept)
    }

    // MARK: The three steps of UAX #15

    /// Replaces each scalar from `first` on by its full decomposition; `changes` gets 0 for the first scalar of
    /// each, 1 for the rest.
    private mutating func decompose(from first: Int, compatibility: Bool, _ changes: inout [Int32]) {
        var out = Array(scalars[..<first])
        out.reserveCapacity(scalars.count + scalars.count / 2)
        changes.reserveCapacity(out.capacity)
        func add(_ s: Unicode.Scalar, first: Bool) {
            out.append(s)
            changes.append(first ? 0 : 1)
        }
        for s in scalars[first...] {
            let hangul = s.value &- Hangul.s
            if hangul < Hangul.count {
                add(Unicode.Scalar(Hangul.l + hangul / Hangul.nCount)!, first: true)
                add(Unicode.Scalar(Hangul.v + hangul % Hangul.nCount / Hangul.tCount)!, first: false)
                if hangul % Hangul.tCount != 0 { add(Unicode.Scalar(Hangul.t + hangul % Hangul.tCount)!, first: false) }
            } else if s.value >= 0xA0, let d = Self.decomposition(s.value, compatibility: compatibility) {
                for k in d { add(Unicode.Scalar(decompositionScalars[k])!, first: k == d.lowerBound) }
            } else {
                add(s, first: true)
            }
        }
        scalars = out
    }

    /// Canonical ordering: each run of non-starters sorted by combining class, stably (insertion sort: runs are
    /// short), each scalar's change moving with it.
    private mutating func orderCanonically(_ changes: inout [Int32]) {
        var i = 1
        while i < scalars.count {
            let c = Self.combiningClass(scalars[i].value)
            if c != 0 {
                var j = i
                while j > 0, Self.combiningClass(scalars[j - 1].value) > c {
                    scalars.swapAt(j - 1, j)
                    changes.swapAt(j - 1, j)
                    j -= 1
                }
            }
            i += 1
        }
    }

    /// Canonical composition: each scalar not blocked from the last starter (nothing between them of class 0 or of
    /// its class or higher) that forms a primary composite with it replaces the starter by the composite, whose
    /// change is the sum of both less one.
    private mutating func compose(_ changes: inout [Int32]) {
        var kept = 0, starter = -1, lastClass: UInt8 = 0
        for i in scalars.indices {
            let s = scalars[i], c = Self.combiningClass(s.value)
            if starter >= 0, kept - 1 == starter || (lastClass != 0 && lastClass < c),
               let composite = Self.composite(scalars[starter].value, s.value) {
                scalars[starter] = composite
                changes[starter] += changes[i] - 1
                continue
            }
            if c == 0 { starter = kept }
            lastClass = c
            scalars[kept] = s
            changes[kept] = changes[i]
            kept += 1
        }
        scalars.removeLast(scalars.count - kept)
        changes.removeLast(changes.count - kept)
    }

    // MARK: Table look-ups

    /// Hangul syllables, decomposed and composed by arithmetic (Unicode §3.12).
    private enum Hangul {
        static let s: UInt32 = 0xAC00, l: UInt32 = 0x1100, v: UInt32 = 0x1161, t: UInt32 = 0x11A7
        static let lCount: UInt32 = 19, vCount: UInt32 = 21, tCount: UInt32 = 28
        static let nCount = vCount * tCount, count = lCount * nCount
    }

    /// Canonical combining class of `c`.
    static func combiningClass(_ c: UInt32) -> UInt8 {
        guard c >= 0x300 else { return 0 }
        // The last range starting at or before c.
        var lo = 0, hi = combiningClassRanges.count
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if combiningClassRanges[mid] >> 8 <= c { lo = mid } else { hi = mid }
        }
        return UInt8(truncatingIfNeeded: combiningClassRanges[lo])
    }

    /// Where `c`'s full decomposition lies in `decompositionScalars`; nil when it has none (of that kind).
    static func decomposition(_ c: UInt32, compatibility: Bool) -> Range<Int>? {
        // The first entry of c, if any: canonical (bit 5 clear) before compatibility.
        let key = c << 6
        var lo = 0, hi = decompositionKeys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if decompositionKeys[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        guard lo < decompositionKeys.count, decompositionKeys[lo] >> 6 == c else { return nil }
        if compatibility, lo + 1 < decompositionKeys.count, decompositionKeys[lo + 1] >> 6 == c { lo += 1 }
        let k = decompositionKeys[lo]
        guard compatibility || k & 32 == 0 else { return nil }
        let start = Int(decompositionStarts[lo])
        return start..<start + Int(k & 31)
    }

    /// The primary composite of `first` and `second`, if there is one.
    static func composite(_ first: UInt32, _ second: UInt32) -> Unicode.Scalar? {
        let l = first &- Hangul.l, v = second &- Hangul.v
        if l < Hangul.lCount, v < Hangul.vCount {
            return Unicode.Scalar(Hangul.s + (l * Hangul.vCount + v) * Hangul.tCount)
        }
        let lv = first &- Hangul.s, t = second &- Hangul.t
        if lv < Hangul.count, lv % Hangul.tCount == 0, t > 0, t < Hangul.tCount {
            return Unicode.Scalar(first + t)
        }
        let key = UInt64(first) << 21 | UInt64(second)
        var lo = 0, hi = canonicalCompositions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if canonicalCompositions[mid] >> 21 < key { lo = mid + 1 } else { hi = mid }
        }
        guard lo < canonicalCompositions.count, canonicalCompositions[lo] >> 21 == key else { return nil }
        return Unicode.Scalar(UInt32(truncatingIfNeeded: canonicalCompositions[lo] & 0x1F_FFFF))
    }
}

/// Where each entry of `decompositionKeys` starts in `decompositionScalars`: the running sum of their counts.
private let decompositionStarts: [UInt16] = {
    var starts: [UInt16] = [], at = 0
    starts.reserveCapacity(decompositionKeys.count)
    for k in decompositionKeys {
        starts.append(UInt16(at))
        at += Int(k & 31)
    }
    precondition(at == decompositionScalars.count, "decompositionKeys' counts do not add up to decompositionScalars")
    return starts
}()
