// sentencepiece's precompiled normalization rules (NormalizerSpec.precompiled_charsmap, tokenizer.ggml.
// precompiled_charsmap): a darts-clone double array over UTF-8 keys whose values index a pool of NUL-terminated
// replacements, laid out as [u32 trie bytes][u32 units][pool]. Two libraries apply it differently:
// sentencepiece's Normalizer takes the longest rule at each position of the text (Unigram's sentencePiece mode);
// the tokenizers library's Precompiled normalizer, below, goes grapheme by grapheme and takes the first (shortest)
// rule a grapheme starts with (spm_precompiled; tokenizers/src/normalizers/precompiled.rs).

struct PrecompiledCharsmap: Sendable {
    private let units: [UInt32]
    private let pool: [UInt8]

    init(_ blob: [UInt8]) throws(TokenizerError) {
        func fail(_ reason: String) -> TokenizerError { .invalid("precompiled charsmap: \(reason)") }
        guard blob.count > 4 else { throw fail("\(blob.count) bytes, too short for a trie") }
        func u32(_ at: Int) -> UInt32 {
            (0..<4).reduce(0) { v, k in v | UInt32(blob[at + k]) << (8 * UInt32(k)) }
        }
        let size = Int(u32(0))
        guard size > 0, size % 4 == 0, size <= blob.count - 4 else {
            throw fail("a trie of \(size) bytes in a blob of \(blob.count)")
        }
        units = stride(from: 4, to: 4 + size, by: 4).map(u32)
        pool = Array(blob[(4 + size)...])
    }

    /// darts-clone's commonPrefixSearch: `body(length, replacement)` for every rule whose key is a prefix of `key`,
    /// shortest first, until it returns false. A malformed trie or pool ends the search instead of trapping.
    func prefixes(of key: some Collection<UInt8>, _ body: (Int, ArraySlice<UInt8>) -> Bool) {
        func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }
        guard let root = units.first else { return }
        var node = offset(root), length = 0
        for c in key {
            node ^= Int(c)
            length += 1
            guard node < units.count else { return }
            let unit = units[node]
            guard unit & ((1 << 31) | 0xFF) == UInt32(c) else { return }  // label (a leaf's bit 31 never matches)
            node ^= offset(unit)
            if (unit >> 8) & 1 == 1 {  // has a leaf: the value sits at the next node
                guard node < units.count else { return }
                let start = Int(units[node] & ((1 << 31) - 1))
                guard start < pool.count else { return }
                let end = pool[start...].firstIndex(of: 0) ?? pool.count
                guard body(length, pool[start..<end]) else { return }
            }
        }
    }

    /// The replacement of the shortest rule `key` starts with (what spm_precompiled's transform takes).
    func shortest(_ key: some Collection<UInt8>) -> ArraySlice<UInt8>? {
        var found: ArraySlice<UInt8>?
        prefixes(of: key) { _, r in
            found = r
            return false
        }
        return found
    }

    /// The longest rule `key` starts with: its key's length in bytes and its replacement (sentencepiece's
    /// Normalizer::NormalizePrefix).
    func longest(_ key: some Collection<UInt8>) -> (length: Int, replacement: ArraySlice<UInt8>)? {
        var found: (length: Int, replacement: ArraySlice<UInt8>)?
        prefixes(of: key) { n, r in
            found = (n, r)
            return true
        }
        return found
    }

    /// The tokenizers library's Precompiled normalizer: a grapheme shorter than 6 bytes that starts a rule is
    /// replaced whole by that rule's replacement (a mark after "Ａ" goes with it); otherwise each of its scalars is
    /// replaced by its own rule or kept. Sources follow tokenizers' alignments: each new scalar carries a change
    /// (0 takes the next old scalar's source, 1 repeats the last one taken, -n takes the next and drops n more), a
    /// replacement of k scalars by m marks its last m - k scalars 1 or its last one k - m less, and a deletion is
    /// charged to the scalar before it, so one at the very start shifts the sources that follow (as tokenizers does).
    func apply(_ t: NormalizedText) -> NormalizedText {
        var scalars: [Unicode.Scalar] = [], changes: [Int] = []
        scalars.reserveCapacity(t.scalars.count)
        changes.reserveCapacity(t.scalars.count)
        var modified = false
        func replace(_ replacement: ArraySlice<UInt8>, replacing k: Int) {
            modified = true
            let new = String(decoding: replacement, as: UTF8.self).unicodeScalars
            scalars += new
            changes += repeatElement(0, count: new.count)
            let diff = new.count - k
            if diff > 0 {
                for i in changes.count - diff..<changes.count { changes[i] = 1 }
            } else if diff < 0, !changes.isEmpty {
                changes[changes.count - 1] += diff
            }
        }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: t.scalars)
        var utf8: [UInt8] = []
        for grapheme in String(text) {
            utf8.removeAll(keepingCapacity: true)
            utf8 += grapheme.utf8
            if utf8.count < 6, let r = shortest(utf8) {
                replace(r, replacing: grapheme.unicodeScalars.count)
                continue
            }
            for s in grapheme.unicodeScalars {
                if let r = shortest(s.utf8) {
                    replace(r, replacing: 1)
                } else {
                    scalars.append(s)
                    changes.append(0)
                }
            }
        }
        guard modified else { return t }
        var out = t, cursor = 0
        out.scalars = scalars
        out.sources = changes.map { change in
            guard change <= 0 else { return t.sources[max(cursor - 1, 0)] }
            defer { cursor += 1 - change }
            return t.sources[cursor]
        }
        return out
    }
}
