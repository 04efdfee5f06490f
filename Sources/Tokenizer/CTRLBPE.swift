// CTRL's tokenizer ("ctrl" in the GGUF: vocabulary and merges from vocab.json and merges.txt), as transformers'
// tokenization_ctrl.py runs it: words are runs of non-whitespace with at most one newline after them; each word's
// characters, the last marked "</w>", merge by rank (merges.txt order) until no ranked pair is left; the pieces
// are spelled with "@@" on all but the last (whose "</w>" goes), and a piece the vocabulary lacks is unknown.

import TensorFile

struct CTRLBPE: Sendable {
    let tokens: [String]
    let types: [TokenType]
    /// Where pieces the vocabulary lacks go, and what ids outside it decode as.
    let unknown: Int32
    /// The vocabulary without padding (UNUSED) entries: a repeated spelling keeps its last id, as Tokenizer's map does.
    private let ids: [String: Int32]
    /// Each spelling that appears in a merge, as a symbol number; a word's characters start as these (the last
    /// with "</w>"), or as `noSymbol` when no merge names them.
    private let symbols: [String: Int32]
    /// (left << 32 | right) → the merge's rank and the symbol it makes. A pair listed twice keeps its last rank,
    /// as CTRLTokenizer's dict(zip(merges, range(...))) does.
    private let merges: [UInt64: Merge]
    private static let noSymbol: Int32 = -1

    private struct Merge: Sendable {
        let rank: Int32
        let result: Int32
    }

    init(_ file: GGUFFile, tokens: [String], types: [TokenType]) throws(TokenizerError) {
        typealias K = MetadataKey
        precondition(types.count == tokens.count, "one type per token")
        guard let list = try Tokenizer.optional(file, K.merges, file.stringArray) else {
            throw .config(key: K.merges, reason: "missing (CTRL's BPE merges, merges.txt without its header line)")
        }
        guard list.count < Int(Int32.max) / 3 else { throw .config(key: K.merges, reason: "\(list.count) merges") }
        guard let unknown = try Tokenizer.unknownID(file, types: types) else {
            throw .config(key: K.unknownTokenID, reason: "missing, and no token is typed UNKNOWN (CTRL gives unknown pieces that id)")
        }
        var symbols: [String: Int32] = [:], merges: [UInt64: Merge] = [:]
        func symbol(_ s: String) -> Int32 {
            if let n = symbols[s] { return n }
            let n = Int32(symbols.count)
            symbols[s] = n
            return n
        }
        for (rank, m) in list.enumerated() {
            let parts = m.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw .config(key: K.merges, reason: "merge #\(rank) '\(m)' is not two symbols \"a b\"")
            }
            let a = symbol(String(parts[0])), b = symbol(String(parts[1])), ab = symbol(String(parts[0] + parts[1]))
            merges[UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))] = Merge(rank: Int32(rank), result: ab)
        }
        var ids: [String: Int32] = [:]
        for (i, t) in tokens.enumerated() where types[i] != .unused { ids[t] = Int32(i) }
        self.tokens = tokens
        self.types = types
        self.unknown = unknown
        self.ids = ids
        self.symbols = symbols
        self.merges = merges
    }

    func encode(_ text: String, into out: inout [TokenSpan]) {
        let scalars = Array(text.unicodeScalars)
        var word: [Int32] = [], starts: [Int] = []  // the word's symbols, and the scalar each starts at
        var i = 0
        while i < scalars.count {
            // regex's \s is Unicode White_Space, as isWhitespace is (U+001C...U+001F, str.isspace() but not \s, are word characters)
            guard !scalars[i].properties.isWhitespace else {
                i += 1
                continue
            }
            var end = i
            while end < scalars.count, !scalars[end].properties.isWhitespace { end += 1 }
            if end < scalars.count, scalars[end] == "\n" { end += 1 }  // `\S+\n?`
            word.removeAll(keepingCapacity: true)
            starts.removeAll(keepingCapacity: true)
            for k in i..<end {
                let spelling = k == end - 1 ? String(scalars[k]) + "</w>" : String(scalars[k])
                word.append(symbols[spelling] ?? Self.noSymbol)
                starts.append(k)
            }
            merge(&word, &starts)
            for (k, start) in starts.enumerated() {
                let last = k == starts.count - 1, stop = last ? end : starts[k + 1]
                var piece = String(String.UnicodeScalarView(scalars[start..<stop]))
                if !last { piece += "@@" }  // the last piece's "</w>" goes
                out.append(TokenSpan(id: ids[piece] ?? unknown, start: Int32(start), end: Int32(stop)))
            }
            i = end
        }
    }

    /// CTRLTokenizer.bpe: while some adjacent pair has a rank, every occurrence of the lowest-ranked pair, left to
    /// right and not overlapping, becomes one symbol (starting where its left part did).
    private func merge(_ word: inout [Int32], _ starts: inout [Int]) {
        while word.count > 1 {
            var best: Merge?, left = Self.noSymbol, right = Self.noSymbol
            for k in 0..<word.count - 1 where word[k] != Self.noSymbol && word[k + 1] != Self.noSymbol {
                if let m = merges[UInt64(UInt32(word[k])) << 32 | UInt64(UInt32(word[k + 1]))], m.rank < best?.rank ?? .max {
                    best = m
                    (left, right) = (word[k], word[k + 1])
                }
            }
            guard let best else { return }
            var n = 0, k = 0
            while k < word.count {
                let pair = k + 1 < word.count && word[k] == left && word[k + 1] == right
                word[n] = pair ? best.result : word[k]
                starts[n] = starts[k]
                n += 1
                k += pair ? 2 : 1
            }
            word.removeLast(word.count - n)
            starts.removeLast(starts.count - n)
        }
    }

    /// transformers' convert_tokens_to_string: the tokens joined by spaces, "@@ " removed, then str.strip(). An id
    /// outside the vocabulary (or a padding entry) reads as the unknown token, as CTRLTokenizer's decoder.get does.
    func decode(_ ids: [Int32], skipSpecial: Bool) -> String {
        var joined: [Unicode.Scalar] = [], count = 0
        for id in ids {
            let known = id >= 0 && Int(id) < tokens.count && types[Int(id)] != .unused
            if skipSpecial, known, types[Int(id)] == .control { continue }
            if count > 0 { joined.append(" ") }
            joined += tokens[Int(known ? id : unknown)].unicodeScalars
            count += 1
        }
        var out = String.UnicodeScalarView()
        var k = 0
        while k < joined.count {
            if k + 2 < joined.count, joined[k] == "@", joined[k + 1] == "@", joined[k + 2] == " " {
                k += 3
                continue
            }
            out.append(joined[k])
            k += 1
        }
        // str.strip(): str.isspace() is White_Space and the separators U+001C...U+001F
        func isSpace(_ u: Unicode.Scalar) -> Bool { u.properties.isWhitespace || (0x1C...0x1F).contains(u.value) }
        let first = out.firstIndex { !isSpace($0) } ?? out.endIndex
        let last = out.lastIndex { !isSpace($0) }.map(out.index(after:)) ?? first
        return String(out[first..<last])
    }
}
