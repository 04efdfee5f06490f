// BPE merges over one pre-tokenized word, lowest merge rank first (leftmost among equals), as Hugging Face
// tokenizers' Word::merge_all and llama.cpp's llm_tokenizer_bpe_session do; and GPT-2's byte-level alphabet.

/// GPT-2's bytes_to_unicode: every byte spelled as one printable code point, so that vocabulary strings
/// are text. Printable Latin-1 bytes stand for themselves; the other 68 become U+0100, U+0101, ...
enum ByteLevel {
    /// The code point spelling byte b.
    static let scalars: [UInt32] = {
        var map = [UInt32](repeating: 0, count: 256), n: UInt32 = 0
        for b in 0..<256 {
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                map[b] = UInt32(b)
            } else {
                map[b] = 256 + n
                n += 1
            }
        }
        return map
    }()

    /// The byte a code point spells, for U+0000...U+0143; -1 where it spells none.
    static let bytes: [Int16] = {
        var inverse = [Int16](repeating: -1, count: 0x144)
        for (b, s) in scalars.enumerated() { inverse[Int(s)] = Int16(b) }
        return inverse
    }()

    /// `bytes` spelled in the byte-level alphabet.
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(Unicode.Scalar(scalars[Int(b)])!) }
        return String(s)
    }

    /// Appends the bytes a vocabulary string spells. A code point outside the alphabet (which byte-level
    /// vocabularies do not have) is kept as its own UTF-8, as Hugging Face's ByteLevel decoder keeps it.
    static func decode(_ token: String, into out: inout [UInt8]) {
        for s in token.unicodeScalars {
            if Int(s.value) < bytes.count, bytes[Int(s.value)] >= 0 {
                out.append(UInt8(bytes[Int(s.value)]))
            } else {
                out += String(s).utf8
            }
        }
    }
}

struct BPE: Sendable {
    /// Merge "a b" as `id(a) << 32 | id(b)` -> `rank << 32 | id(ab)`.
    let merges: [UInt64: UInt64]
    /// The token of each single byte's spelling; -1 if the vocabulary lacks it (that byte is then dropped,
    /// as llama.cpp drops it).
    let byteTokens: [Int32]

    /// Merges whose parts or result are not tokens can never apply to a word of tokens, and are left out.
    init(merges list: [String], ids: [String: Int32]) {
        var merges: [UInt64: UInt64] = [:]
        merges.reserveCapacity(list.count)
        for (rank, m) in list.enumerated() {
            // llama.cpp splits at the first space after the first character, so a merge may start with one.
            let u = Array(m.utf8)
            guard u.count > 2, let sp = u[1...].firstIndex(of: UInt8(ascii: " ")) else { continue }
            let a = String(decoding: u[..<sp], as: UTF8.self), b = String(decoding: u[(sp + 1)...], as: UTF8.self)
            guard let x = ids[a], let y = ids[b], let xy = ids[a + b] else { continue }
            let key = Self.key(x, y)
            if merges[key] == nil { merges[key] = UInt64(rank) << 32 | UInt64(UInt32(xy)) }
        }
        self.merges = merges
        byteTokens = ByteLevel.scalars.map { ids[String(Unicode.Scalar($0)!)] ?? -1 }
    }

    @inline(__always)
    static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }

    /// Working memory reused across the words of one encode call.
    struct Scratch {
        var id: [Int32] = []      // symbol token ids; `dead` once merged into its left neighbour
        var next: [Int32] = []    // linked list of live symbols; -1 ends it
        var prev: [Int32] = []
        var heap: [UInt64] = []   // candidate merges `rank << 32 | left symbol`, a min-heap
    }

    private static let dead = Int32.min

    /// Appends the tokens of one word (its UTF-8 bytes).
    func encode(_ word: UnsafeBufferPointer<UInt8>, _ s: inout Scratch, into out: inout [Int32]) {
        let n = word.count
        if n == 1 {
            let t = byteTokens[Int(word[0])]
            if t >= 0 { out.append(t) }
            return
        }
        s.id.removeAll(keepingCapacity: true)
        s.next.removeAll(keepingCapacity: true)
        s.prev.removeAll(keepingCapacity: true)
        s.heap.removeAll(keepingCapacity: true)
        for (i, b) in word.enumerated() {
            s.id.append(byteTokens[Int(b)])
            s.prev.append(Int32(i) - 1)
            s.next.append(i + 1 < n ? Int32(i) + 1 : -1)
        }
        for i in 0..<(n - 1) { candidate(i, i + 1, &s) }

        while let top = pop(&s.heap) {
            let rank = top >> 32, left = Int(top & 0xFFFF_FFFF)
            guard s.id[left] != Self.dead else { continue }
            let right = Int(s.next[left])
            guard right >= 0, let m = merges[Self.key(s.id[left], s.id[right])], m >> 32 == rank else { continue }
            // A stale entry is one whose pair has changed since it was pushed: its rank no longer matches.
            s.id[left] = Int32(truncatingIfNeeded: m)
            s.id[right] = Self.dead
            s.next[left] = s.next[right]
            if s.next[right] >= 0 { s.prev[Int(s.next[right])] = Int32(left) }
            if s.prev[left] >= 0 { candidate(Int(s.prev[left]), left, &s) }
            if s.next[left] >= 0 { candidate(left, Int(s.next[left]), &s) }
        }

        var i = 0
        while i >= 0 {
            if s.id[i] >= 0 { out.append(s.id[i]) }
            i = Int(s.next[i])
        }
    }

    @inline(__always)
    private func candidate(_ left: Int, _ right: Int, _ s: inout Scratch) {
        guard let m = merges[Self.key(s.id[left], s.id[right])] else { return }
        push(m & 0xFFFF_FFFF_0000_0000 | UInt64(left), &s.heap)
    }

    private func push(_ x: UInt64, _ h: inout [UInt64]) {
        h.append(x)
        var i = h.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard h[p] > h[i] else { break }
            h.swapAt(p, i)
            i = p
        }
    }

    private func pop(_ h: inout [UInt64]) -> UInt64? {
        guard let last = h.popLast() else { return nil }
        guard !h.isEmpty else { return last }
        let top = h[0]
        h[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < h.count, h[l] < h[m] { m = l }
            if r < h.count, h[r] < h[m] { m = r }
            if m == i { break }
            h.swapAt(i, m)
            i = m
        }
        return top
    }
}
