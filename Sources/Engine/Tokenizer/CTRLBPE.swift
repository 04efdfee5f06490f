// CTRL's tokenizer ("ctrl" in the GGUF: vocabulary and merges from vocab.json and merges.txt), as transformers'
// tokenization_ctrl.py runs it: words are runs of non-whitespace with at most one newline after them; each word's
// characters, the last marked "</w>", merge by rank (merges.txt order) until no ranked pair is left; the pieces
// are spelled with "@@" on all but the last (whose "</w>" goes), and a piece the vocabulary lacks is unknown.

import TensorFile

struct CTRLBPE: Sendable {
    let tokens: [String]
    let types: [TokenType]
    let unknown: Int32?
    private let ids: [String: Int32]
    private let ranks: [Pair: Int]

    private struct Pair: Hashable {
        let a, b: String
    }

    init(_ file: GGUFFile, tokens: [String], types: [TokenType]) throws(ModelError) {
        typealias K = MetadataKey
        guard let merges = try Tokenizer.optional(file, K.merges, file.stringArray) else {
            throw .config(key: K.merges, reason: "missing (CTRL's BPE merges)")
        }
        unknown = try Tokenizer.unknownID(file, types: types)
        var ranks: [Pair: Int] = [:]
        for (rank, m) in merges.enumerated() {
            let parts = m.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw .config(key: K.merges, reason: "merge #\(rank) '\(m)' is not two symbols") }
            let pair = Pair(a: String(parts[0]), b: String(parts[1]))
            if ranks[pair] == nil { ranks[pair] = rank }
        }
        var ids: [String: Int32] = [:]
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = Int32(i) }
        self.tokens = tokens
        self.types = types
        self.ids = ids
        self.ranks = ranks
    }

    func encode(_ text: String, into out: inout [TokenSpan]) {
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            guard !scalars[i].properties.isWhitespace else {
                i += 1
                continue
            }
            var end = i
            while end < scalars.count, !scalars[end].properties.isWhitespace { end += 1 }
            if end < scalars.count, scalars[end] == "\n" { end += 1 }  // `\S+\n?`
            word(scalars, i..<end, into: &out)
            i = end
        }
    }

    /// One word's pieces, each covering its characters of the text.
    private func word(_ scalars: [Unicode.Scalar], _ range: Range<Int>, into out: inout [TokenSpan]) {
        var symbols = scalars[range].map { String($0) }
        guard symbols.count > 1 else {  // no pairs: the word itself
            let w = symbols.joined()
            out.append(TokenSpan(id: ids[w] ?? unknown ?? 0, start: Int32(range.lowerBound), end: Int32(range.upperBound)))
            return
        }
        symbols[symbols.count - 1] += "</w>"
        while symbols.count > 1 {
            var best: (rank: Int, pair: Pair)?
            for k in 0..<symbols.count - 1 {
                let p = Pair(a: symbols[k], b: symbols[k + 1])
                if let r = ranks[p], r < (best?.rank ?? Int.max) { best = (r, p) }
            }
            guard let (_, pair) = best else { break }
            var merged: [String] = []
            var k = 0
            while k < symbols.count {
                if k + 1 < symbols.count, symbols[k] == pair.a, symbols[k + 1] == pair.b {
                    merged.append(pair.a + pair.b)
                    k += 2
                } else {
                    merged.append(symbols[k])
                    k += 1
                }
            }
            symbols = merged
        }
        var at = range.lowerBound
        for (k, s) in symbols.enumerated() {
            let last = k == symbols.count - 1
            let piece = last ? String(s.dropLast(4)) : s + "@@"  // "</w>" off the last, "@@" on the others
            let length = (last ? piece : s).unicodeScalars.count
            out.append(TokenSpan(id: ids[piece] ?? unknown ?? 0, start: Int32(at), end: Int32(at + length)))
            at += length
        }
    }

    /// transformers' convert_tokens_to_string: the tokens joined by spaces, "@@ " removed, trimmed.
    func decode(_ ids: [Int32], skipSpecial: Bool) -> String {
        let pieces = ids.compactMap { id -> String? in
            guard id >= 0, Int(id) < tokens.count else { return nil }
            if skipSpecial, types[Int(id)] == .control { return nil }
            return tokens[Int(id)]
        }
        var text = Array(pieces.joined(separator: " ").unicodeScalars)
        var out = String.UnicodeScalarView()
        var k = 0
        while k < text.count {
            if k + 2 < text.count, text[k] == "@", text[k + 1] == "@", text[k + 2] == " " {
                k += 3
                continue
            }
            out.append(text[k])
            k += 1
        }
        text = Array(out)
        while let f = text.first, f.properties.isWhitespace { text.removeFirst() }
        while let l = text.last, l.properties.isWhitespace { text.removeLast() }
        var result = String.UnicodeScalarView()
        result.append(contentsOf: text)
        return String(result)
    }
}
