// Tokenizers read from GGUF metadata as llama.cpp's llama-vocab.cpp reads them: vocabulary, token types, special
// ids and add-BOS/EOS flags, and one algorithm: byte-level BPE (GPT-2, SmolLM2, Llama 3, RoBERTa, BART), WordPiece
// (BERT, DistilBERT), SentencePiece Unigram (ALBERT, T5), SentencePiece BPE (Llama 2), CTRL's BPE, or Marian's
// (sentencepiece's Unigram mapped through vocab.json). Encoding: special tokens cut out first
// (tokenizer_st_partition), then the algorithm on each piece of text between them.

import TensorFile

public final class Tokenizer: Sendable {
    public let vocabSize: Int
    public let bos: Int32?, eos: Int32?, eot: Int32?, eom: Int32?
    /// Encoders: the separator, the mask and the padding tokens.
    public let sep: Int32?, mask: Int32?, pad: Int32?
    /// Whether `encode(_, addSpecial: true)` puts `bos` first and `eos` last.
    public let addBOS: Bool, addEOS: Bool
    /// RoBERTa's pairs: `eos` twice between the two texts (llama.cpp's add_sep_token).
    public let addSEP: Bool
    /// Tokens `encode(_, addSpecial: true)` puts after the text: XLNet's <sep> <cls>.
    public let appended: [Int32]
    /// The longest piece `TextStream` can be handed for one token, in bytes.
    public let maxPieceBytes: Int

    /// What cuts text without special tokens into ids.
    enum Algorithm: Sendable {
        case bytePairs(ByteLevelBPE)
        case wordPiece(WordPiece)
        case unigram(Unigram)
        case sentencePieceBPE(SentencePieceBPE)
        case ctrl(CTRLBPE)
        case marian(MarianVocab)
    }
    let algorithm: Algorithm
    /// The byte-level BPE parts, for a BPE tokenizer.
    var byteLevel: ByteLevelBPE? {
        if case let .bytePairs(b) = algorithm { b } else { nil }
    }
    let tokens: [String]
    /// `tokenizer.ggml.token_type`, with llama.cpp's overrides (end-of-turn spellings become control tokens).
    let kinds: [TokenType]
    let ids: [String: Int32]
    /// What each token shows as in text (detokenize with special=false): token i is
    /// `pieces[pieceStarts[i]..<pieceStarts[i+1]]`; empty for control and unknown tokens.
    let pieces: [UInt8]
    let pieceStarts: [Int]
    /// Control, user-defined and unknown tokens, matched whole in text: longest first, then by id.
    let specials: [Int32]
    /// Special tokens that take the whitespace before or after them (lstrip, rstrip in tokenizers: RoBERTa's <mask>).
    let leftStripped: Set<Int32>, rightStripped: Set<Int32>
    /// The tokens that end generation: eos, eot, eom and those llama.cpp treats so.
    public let endOfGeneration: Set<Int32>

    /// The tokenizer metadata as stored: types checked, meaning not yet.
    private struct Stored {
        let model: String
        let pre: String?
        let tokens, merges: [String]?
        let types: [Int]?
        let bos, eos, eot, eom, sep, mask, pad: Int?
        let addBOS, addEOS, addSEP: Bool?
        let cleanSpaces: Bool?
        let leftStripped, rightStripped, appended: [Int]

        init(_ f: GGUFFile) throws(TensorFileError) {
            func optional<T>(_ key: String, _ read: (String) throws(TensorFileError) -> T) throws(TensorFileError) -> T? {
                f.contains(key) ? try read(key) : nil
            }
            model = try f.string(MetadataKey.tokenizerModel)
            pre = try optional(MetadataKey.tokenizerPre, f.string)
            tokens = try optional(MetadataKey.tokens, f.stringArray)
            merges = try optional(MetadataKey.merges, f.stringArray)
            types = try optional(MetadataKey.tokenTypes, f.intArray)
            bos = try optional(MetadataKey.bosTokenID, f.int)
            eos = try optional(MetadataKey.eosTokenID, f.int)
            eot = try optional(MetadataKey.eotTokenID, f.int)
            eom = try optional(MetadataKey.eomTokenID, f.int)
            sep = try optional(MetadataKey.separatorTokenID, f.int)
            mask = try optional(MetadataKey.maskTokenID, f.int)
            pad = try optional(MetadataKey.paddingTokenID, f.int)
            addBOS = try optional(MetadataKey.addBOS, f.bool)
            addEOS = try optional(MetadataKey.addEOS, f.bool)
            addSEP = try optional(MetadataKey.addSEP, f.bool)
            leftStripped = try optional(MetadataKey.leftStrippedTokenIDs, f.intArray) ?? []
            rightStripped = try optional(MetadataKey.rightStrippedTokenIDs, f.intArray) ?? []
            appended = try optional(MetadataKey.appendTokenIDs, f.intArray) ?? []
            cleanSpaces = try optional(MetadataKey.cleanSpaces, f.bool)
        }
    }

    public init(_ file: GGUFFile) throws(TokenizerError) {
        let m: Stored
        do { m = try Stored(file) } catch { throw .file(error) }
        guard ["gpt2", "bert", "t5", "llama", "ctrl", "marian"].contains(m.model) else {
            throw .invalid("\(MetadataKey.tokenizerModel) '\(m.model)' is not supported (byte-level BPE 'gpt2', WordPiece "
                + "'bert', Unigram 't5', SentencePiece BPE 'llama', CTRL's 'ctrl' and Marian's 'marian' are)")
        }
        guard let tokens = m.tokens, !tokens.isEmpty, tokens.count < Int(Int32.max) else {
            throw .config(key: MetadataKey.tokens, reason: m.tokens == nil ? "missing" : "\(m.tokens!.count) tokens")
        }
        var kinds = [TokenType](repeating: .normal, count: tokens.count)
        if let types = m.types {
            guard types.count >= tokens.count else {
                throw .config(key: MetadataKey.tokenTypes, reason: "\(types.count) types for \(tokens.count) tokens")
            }
            for i in tokens.indices { kinds[i] = TokenType(rawValue: Int32(clamping: types[i])) ?? .undefined }
        }
        func id(_ key: String, _ value: Int?) throws(TokenizerError) -> Int32? {
            guard let value else { return nil }
            guard value >= 0, value < tokens.count else {
                throw .config(key: key, reason: "token id \(value) is outside the vocabulary (0..<\(tokens.count))")
            }
            return Int32(value)
        }
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() { ids[t] = Int32(i) }  // a repeated spelling keeps its last id, as llama.cpp's map does


        // llama.cpp finds end-of-turn tokens by their text and makes them control tokens (llama-vocab.cpp,
        // "auto-detect special tokens by text"); all of these end generation, as do the FIM repo/pad/sep tokens.
        let eotSpellings = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
                            "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"]
        let eogSpellings = eotSpellings + ["<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "</s>", "<|eom_id|>", "[EOS]",
                                           "<eos>", "<turn|>", "<|tool_response>", "[e~["]
        let fimSpellings = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
                            "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>"]
        var eog = Set<Int32>()
        for s in eogSpellings + fimSpellings {
            guard let id = ids[s] else { continue }
            kinds[Int(id)] = .control
            eog.insert(id)
        }
        bos = try id(MetadataKey.bosTokenID, m.bos)
        eos = try id(MetadataKey.eosTokenID, m.eos)
        eom = try id(MetadataKey.eomTokenID, m.eom)
        // llama.cpp takes the first spelling its hash map yields; the list's order is deterministic.
        eot = try id(MetadataKey.eotTokenID, m.eot) ?? eotSpellings.lazy.compactMap { ids[$0] }.first
        for case let id? in [eos, eot, eom] { eog.insert(id) }
        endOfGeneration = eog

        sep = try id(MetadataKey.separatorTokenID, m.sep)
        mask = try id(MetadataKey.maskTokenID, m.mask)
        pad = try id(MetadataKey.paddingTokenID, m.pad)

        switch m.model {
        case "gpt2":
            guard let preName = m.pre else {
                throw .invalid("\(MetadataKey.tokenizerPre) is missing (known: \(PreTokenizer.knownNames))")
            }
            guard let pre = PreTokenizer(name: preName) else {
                throw .invalid("pre-tokenizer '\(preName)' (\(MetadataKey.tokenizerPre)) is not supported (known: \(PreTokenizer.knownNames))")
            }
            guard let merges = m.merges else { throw .config(key: MetadataKey.merges, reason: "missing") }
            let prefix = try Self.optional(file, MetadataKey.addSpacePrefix, file.bool) ?? false
            algorithm = .bytePairs(ByteLevelBPE(pre: pre, bpe: BPE(merges: merges, ids: ids),
                                                cleanSpaces: m.cleanSpaces ?? (preName != "smollm" && preName != "trillion"),
                                                ignoreMerges: pre == .llama3, addPrefixSpace: prefix))
        case "bert": algorithm = .wordPiece(try WordPiece(file, tokens: tokens, types: kinds))
        case "t5": algorithm = .unigram(try Unigram(file, tokens: tokens, types: kinds))
        case "llama": algorithm = .sentencePieceBPE(try SentencePieceBPE(file, tokens: tokens, types: kinds))
        case "marian": algorithm = .marian(try MarianVocab(file, types: kinds))
        default: algorithm = .ctrl(try CTRLBPE(file, tokens: tokens, types: kinds))
        }
        // llama.cpp's default for Llama 3's pre-tokenizer names
        addBOS = m.addBOS ?? (m.model == "gpt2" && m.pre.flatMap(PreTokenizer.init(name:)) == .llama3)
        addEOS = m.addEOS ?? false
        addSEP = m.addSEP ?? false
        if addBOS, bos == nil { throw .config(key: MetadataKey.addBOS, reason: "true, but \(MetadataKey.bosTokenID) is missing") }
        if addEOS, eos == nil { throw .config(key: MetadataKey.addEOS, reason: "true, but \(MetadataKey.eosTokenID) is missing") }
        func idSet(_ key: String, _ list: [Int]) throws(TokenizerError) -> Set<Int32> {
            var out = Set<Int32>()
            for i in list { if let t = try id(key, i) { out.insert(t) } }
            return out
        }
        var appended: [Int32] = []
        for i in m.appended { if let t = try id(MetadataKey.appendTokenIDs, i) { appended.append(t) } }
        self.appended = appended
        leftStripped = try idSet(MetadataKey.leftStrippedTokenIDs, m.leftStripped)
        rightStripped = try idSet(MetadataKey.rightStrippedTokenIDs, m.rightStripped)

        var pieces: [UInt8] = [], pieceStarts = [0]
        for (t, kind) in zip(tokens, kinds) {
            switch (kind, m.model) {
            case (.normal, "gpt2"), (.byte, "gpt2"): ByteLevel.decode(t, into: &pieces)
            case (.normal, _):  // phantom space / Metaspace: ▁ shows as a space
                for u in t.unicodeScalars {
                    if u == "\u{2581}" { pieces.append(0x20) } else { pieces += String(u).utf8 }
                }
            case (.byte, _): pieces += Self.byteToken(t).map { [$0] } ?? []
            case (.userDefined, _): pieces += t.utf8
            default: break  // control, unknown, unused
            }
            pieceStarts.append(pieces.count)
        }
        maxPieceBytes = zip(pieceStarts, pieceStarts.dropFirst()).map { $1 - $0 }.max() ?? 0

        specials = tokens.indices.filter { [.control, .userDefined, .unknown].contains(kinds[$0]) }
            .sorted { tokens[$0].utf8.count != tokens[$1].utf8.count ? tokens[$0].utf8.count > tokens[$1].utf8.count : $0 < $1 }
            .map { Int32($0) }

        vocabSize = tokens.count
        self.tokens = tokens
        self.kinds = kinds
        self.ids = ids
        self.pieces = pieces
        self.pieceStarts = pieceStarts
    }

    /// The vocabulary string of `id`: byte-level BPE's as stored ("Ġworld"), WordPiece's as Hugging Face spells it
    /// ("world", "##ing"); "" for an id outside the vocabulary.
    public func token(_ id: Int32) -> String {
        guard id >= 0, Int(id) < tokens.count else { return "" }
        if case let .wordPiece(w) = algorithm { return w.token(id) }
        return tokens[Int(id)]
    }

    /// Whether token `id` starts a word (as the pre-tokenizer cut the text): WordPiece's and Unigram's word-start
    /// pieces carry "▁", byte-level BPE's carry "Ġ" (a space) when a space came before; special and unknown tokens
    /// are words of their own. (A word of byte-level BPE after punctuation, "don" "'t", reads as one word.)
    public func startsWord(_ id: Int32) -> Bool {
        guard id >= 0, Int(id) < tokens.count else { return true }
        switch kinds[Int(id)] {
        case .normal, .byte:
            switch algorithm {
            case .bytePairs: return withPiece(id) { $0.first == UInt8(ascii: " ") }
            case .wordPiece, .unigram, .sentencePieceBPE, .marian: return tokens[Int(id)].hasPrefix("\u{2581}")
            case .ctrl: return true  // CTRL marks continuation on the piece before ("@@"), which one id cannot tell
            }
        default: return true
        }
    }

    /// The id of a vocabulary string as stored.
    public func id(_ token: String) -> Int32? { ids[token] }

    /// Whether generation stops at `id`: eos, eot, eom, and the tokens llama.cpp treats as end of generation
    /// (<|im_end|>, <|endoftext|>, <|eot_id|>, FIM repo/pad/sep tokens, ...).
    public func isEndOfGeneration(_ id: Int32) -> Bool { endOfGeneration.contains(id) }

    // MARK: Encoding

    /// Token ids of `text`. `addSpecial`: BOS/EOS as `addBOS`/`addEOS` say, then `appended`. `parseSpecial`: control tokens
    /// written in the text (`<|im_start|>`) become their ids; user-defined tokens are matched either way.
    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool = true) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecial, addBOS, let bos { out.append(bos) }
        if case let .bytePairs(b) = algorithm {
            var text = text
            text.withUTF8 { bytes in
                var scratch = BPE.Scratch()
                var cps: [UInt32] = [], starts: [Int] = []
                for fragment in partition(bytes, parseSpecial: parseSpecial) {
                    switch fragment {
                    case let .token(id, _): out.append(id)
                    case let .text(range):
                        b.encode(UnsafeBufferPointer(rebasing: bytes[range]), ids, &cps, &starts, &scratch, into: &out)
                    }
                }
            }
        } else {
            out += spans(text, parseSpecial: parseSpecial).map(\.id)
        }
        if addSpecial, addEOS, let eos { out.append(eos) }
        if addSpecial { out += appended }
        return out
    }

    /// The tokens of `text` with the Unicode-scalar offsets each came from (transformers' offset_mapping), no
    /// special tokens added around it; special tokens written in the text are matched as in `encode`.
    public func spans(_ text: String, parseSpecial: Bool = true) -> [TokenSpan] {
        var out: [TokenSpan] = []
        var text = text
        text.withUTF8 { bytes in
            // scalarAt[i]: the scalars that start before byte i (so a byte inside a scalar rounds down for a
            // start, and an end inside one rounds up by taking the next byte's count).
            var scalarAt = [Int32](repeating: 0, count: bytes.count + 1)
            var n: Int32 = 0
            for i in 0..<bytes.count {
                if bytes[i] & 0xC0 != 0x80 { n += 1 }
                scalarAt[i + 1] = n
            }
            func start(_ byte: Int) -> Int32 { byte < bytes.count && bytes[byte] & 0xC0 == 0x80 ? scalarAt[byte] - 1 : scalarAt[byte] }
            var scratch = BPE.Scratch()
            var cps: [UInt32] = [], starts: [Int] = [], ids: [Int32] = []
            var afterSpecial = true  // SentencePiece BPE: text at the start or after a special token gets its "▁"
            for fragment in partition(bytes, parseSpecial: parseSpecial) {
                switch fragment {
                case let .token(id, r):
                    out.append(TokenSpan(id: id, start: start(r.lowerBound), end: scalarAt[r.upperBound]))
                    afterSpecial = true
                case let .text(r):
                    defer { afterSpecial = false }
                    let piece = UnsafeBufferPointer(rebasing: bytes[r])
                    switch algorithm {
                    case let .wordPiece(w): shifted(w.encode, piece, by: scalarAt[r.lowerBound], into: &out)
                    case let .unigram(u): shifted(u.encode, piece, by: scalarAt[r.lowerBound], into: &out)
                    case let .ctrl(c): shifted(c.encode, piece, by: scalarAt[r.lowerBound], into: &out)
                    case let .marian(m): shifted({ m.encode($0, ids: self.ids, into: &$1) }, piece, by: scalarAt[r.lowerBound], into: &out)
                    case let .sentencePieceBPE(b):
                        shifted({ b.encode($0, startsInput: afterSpecial, into: &$1) }, piece, by: scalarAt[r.lowerBound], into: &out)
                    case let .bytePairs(b):
                        // Offsets from the tokens' byte lengths, trimmed as RoBERTa's trim_offsets (process_offsets)
                        // trims them: past a token's leading spaces and before its trailing ones, never crossing, the
                        // text's first token keeping its one leading space when spaces are prefixed; a prefix space
                        // (at r.lowerBound − 1, in no byte of the text) takes the piece's first byte as its place.
                        ids.removeAll(keepingCapacity: true)
                        b.encode(piece, self.ids, &cps, &starts, &scratch, into: &ids)
                        let prefixed = b.prefixes(piece)
                        var at = r.lowerBound - (prefixed ? 1 : 0)
                        for (n, id) in ids.enumerated() {
                            let (length, leading, trailing) = withPiece(id) { p in
                                (p.count, p.prefix { $0 == UInt8(ascii: " ") }.count, p.reversed().prefix { $0 == UInt8(ascii: " ") }.count)
                            }
                            var lower = max(at, r.lowerBound), upper = at + length
                            if prefixed, n == 0 { upper = max(upper, lower + 1) }  // the prefix stands for the first byte
                            let first = out.isEmpty || lower == 0
                            if leading > 0, !(first && b.addPrefixSpace && leading == 1) { lower = min(lower + leading, upper) }
                            if trailing > 0 { upper = max(upper - trailing, lower) }
                            out.append(TokenSpan(id: id, start: start(lower), end: scalarAt[upper]))
                            at += length
                        }
                    }
                }
            }
        }
        return out
    }

    private func shifted(_ encode: (String, inout [TokenSpan]) -> Void, _ bytes: UnsafeBufferPointer<UInt8>, by offset: Int32,
                         into out: inout [TokenSpan]) {
        let first = out.count
        encode(String(decoding: bytes, as: UTF8.self), &out)
        for i in first..<out.count {
            out[i].start += offset
            out[i].end += offset
        }
    }

    /// An encoder's input: `a` (and `b`) with the special tokens around them, cut to `maxTokens` in all.
    public struct Encoding: Sendable {
        public var ids: [Int32] = []
        public var typeIds: [Int32] = []
        /// Offsets into the text each token came from; (0, 0) for the added special tokens.
        public var spans: [TokenSpan] = []
        /// Which text each token came from: 0 (a), 1 (b), or -1 for an added special token.
        public var sequence: [Int8] = []
        /// Text tokens dropped to fit maxTokens.
        public var truncated = 0
        public init() {}
    }

    /// Encodes one text or a pair as the model's tokenizer post-processor does: BERT's [CLS] a [SEP] b [SEP] with
    /// token types 0 then 1, or RoBERTa's <s> a </s></s> b </s> (add_sep) with types 0. Longer inputs are cut
    /// as transformers' truncation="longest_first" cuts them: a token at a time from the end of the longer text.
    public func encode(_ a: String, pair b: String? = nil, maxTokens: Int) -> Encoding {
        var first = spans(a), second = b.map { spans($0) }
        let specials = (addBOS ? 1 : 0) + (addEOS ? 1 : 0) + (second == nil ? 0 : (addSEP ? 2 : 1))
        let budget = max(0, maxTokens - specials)
        var e = Encoding()
        while first.count + (second?.count ?? 0) > budget {
            if let s = second, s.count > first.count { second!.removeLast() } else if !first.isEmpty { first.removeLast() }
            else { second!.removeLast() }
            e.truncated += 1
        }
        func special(_ id: Int32?, type: Int32) {
            guard let id else { return }
            e.ids.append(id)
            e.typeIds.append(type)
            e.spans.append(TokenSpan(id: id, start: 0, end: 0))
            e.sequence.append(-1)
        }
        func text(_ tokens: [TokenSpan], _ index: Int8, type: Int32) {
            for t in tokens {
                e.ids.append(t.id)
                e.typeIds.append(type)
                e.spans.append(t)
                e.sequence.append(index)
            }
        }
        if addBOS { special(bos, type: 0) }
        text(first, 0, type: 0)
        if addEOS { special(eos, type: 0) }
        if let second {
            let type: Int32 = addSEP ? 0 : 1
            if addSEP { special(eos, type: 0) }
            text(second, 1, type: type)
            special(eos ?? sep, type: type)
        }
        return e
    }

    enum Fragment: Equatable {
        case text(Range<Int>)
        case token(Int32, Range<Int>)
    }

    /// Cuts the special tokens out of `text` as llama.cpp's tokenizer_st_partition does: each token in turn,
    /// longest first, splits every piece of text still unmatched at each of its occurrences, left to right.
    func partition(_ text: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Fragment] {
        guard !text.isEmpty else { return [] }
        var fragments: [Fragment] = [.text(0..<text.count)]
        for id in specials {
            let kind = kinds[Int(id)]
            if !parseSpecial, kind == .control || kind == .unknown { continue }
            var t = tokens[Int(id)]
            t.withUTF8 { needle in
                guard !needle.isEmpty else { return }
                var i = 0
                while i < fragments.count {
                    guard case let .text(r) = fragments[i], let first = find(needle, in: text, r) else {
                        i += 1
                        continue
                    }
                    var split: [Fragment] = []
                    var start = r.lowerBound, at: Int? = first
                    while let m = at {
                        if m > start { split.append(.text(start..<m)) }
                        split.append(.token(id, m..<m + needle.count))
                        start = m + needle.count
                        at = find(needle, in: text, start..<r.upperBound)
                    }
                    if start < r.upperBound { split.append(.text(start..<r.upperBound)) }
                    fragments.replaceSubrange(i...i, with: split)
                    i += split.count
                }
            }
        }
        // A left-stripped token takes the whitespace before it, a right-stripped one the whitespace after it.
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        for i in fragments.indices {
            guard case let .token(id, _) = fragments[i] else { continue }
            if i > 0, leftStripped.contains(id), case let .text(r) = fragments[i - 1] {
                var end = r.upperBound
                while end > r.lowerBound, isSpace(text[end - 1]) { end -= 1 }
                fragments[i - 1] = .text(r.lowerBound..<end)
            }
            if i + 1 < fragments.count, rightStripped.contains(id), case let .text(r) = fragments[i + 1] {
                var start = r.lowerBound
                while start < r.upperBound, isSpace(text[start]) { start += 1 }
                fragments[i + 1] = .text(start..<r.upperBound)
            }
        }
        return fragments.filter { !isEmptyText($0) }
    }

    private func isEmptyText(_ f: Fragment) -> Bool {
        if case let .text(r) = f { r.isEmpty } else { false }
    }

    /// The first occurrence of `needle` in `text[range]`.
    private func find(_ needle: UnsafeBufferPointer<UInt8>, in text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        let n = needle.count, first = needle[0]
        guard range.count >= n else { return nil }
        var i = range.lowerBound
        let last = range.upperBound - n
        while i <= last {
            if text[i] == first {
                var k = 1
                while k < n, text[i + k] == needle[k] { k += 1 }
                if k == n { return i }
            }
            i += 1
        }
        return nil
    }

    // MARK: Decoding

    /// The bytes `id` shows as in text (empty for control tokens and ids outside the vocabulary).
    @inline(__always)
    func withPiece<R>(_ id: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        guard id >= 0, Int(id) < vocabSize else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        let a = pieceStarts[Int(id)], b = pieceStarts[Int(id) + 1]
        return pieces.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[a..<b])) }
    }

    /// Text of `ids` as llama.cpp's detokenize (remove_special and unparse_special false) gives it: control
    /// tokens show as nothing, and llama.cpp's clean-up of spaces before punctuation applies where it does
    /// (`cleanSpaces`: not for SmolLM2). Bytes that are not valid UTF-8 become U+FFFD.
    public func decode(_ ids: [Int32]) -> String {
        switch algorithm {
        case let .bytePairs(b):
            var bytes: [UInt8] = []
            for id in ids { withPiece(id) { bytes += $0 } }
            if b.cleanSpaces { bytes = Self.cleanUpSpaces(bytes) }
            return String(decoding: bytes, as: UTF8.self)
        case let .wordPiece(w): return w.decode(ids, skipSpecial: true)
        case let .unigram(u): return u.decode(ids, skipSpecial: true)
        case let .sentencePieceBPE(b): return b.decode(ids, skipSpecial: true)
        case let .ctrl(c): return c.decode(ids, skipSpecial: true)
        case .marian: return MarianVocab.decode(ids, tokens: tokens, kinds: kinds)
        }
    }

    /// A tokenizer key's value when the file has it; read errors as TokenizerError (for the algorithms' own keys).
    static func optional<T>(_ file: GGUFFile, _ key: String, _ read: (String) throws(TensorFileError) -> T) throws(TokenizerError) -> T? {
        guard file.contains(key) else { return nil }
        do { return try read(key) } catch { throw .file(error) }
    }

    /// The unknown token: tokenizer.ggml.unknown_token_id, checked against the vocabulary, else the first token
    /// typed UNKNOWN.
    static func unknownID(_ file: GGUFFile, types: [TokenType]) throws(TokenizerError) -> Int32? {
        guard let u = try optional(file, MetadataKey.unknownTokenID, file.int) else {
            return types.firstIndex(of: .unknown).map { Int32($0) }
        }
        guard types.indices.contains(u) else {
            throw .config(key: MetadataKey.unknownTokenID, reason: "token id \(u) is outside the vocabulary (0..<\(types.count))")
        }
        return Int32(u)
    }

    /// `<0x41>` → 0x41: a byte-fallback token's byte.
    static func byteToken(_ t: String) -> UInt8? {
        guard t.hasPrefix("<0x"), t.hasSuffix(">"), t.utf8.count == 6 else { return nil }
        return UInt8(t.dropFirst(3).dropLast(), radix: 16)
    }

    /// llama.cpp's three clean-up passes (llama_vocab::impl::detokenize): " ?" " !" " ." " ," lose the space,
    /// " ' " loses both, and " 's" " 'm" " 're" " 've" lose theirs.
    static func cleanUpSpaces(_ t: [UInt8]) -> [UInt8] {
        let space = UInt8(ascii: " "), quote = UInt8(ascii: "'")
        guard !t.isEmpty else { return t }
        var a = [t[0]]
        for i in 1..<t.count {
            if t[i - 1] == space, "?!.,".utf8.contains(t[i]) { a.removeLast() }
            a.append(t[i])
        }
        var src = a, b = [a[0]], i = 1
        while i < src.count {
            let x = src[i]
            if x == quote, i + 1 < src.count, src[i - 1] == space, src[i + 1] == space {
                b.removeLast()
                i += 1
                src[i] = 0  // the space after is dropped, and reads as no space from here on
            }
            b.append(x)
            i += 1
        }
        var c = [b[0]]
        for i in 1..<b.count {
            if b[i - 1] == space, b[i] == quote, i + 1 < b.count {
                let x1 = b[i + 1], x2: UInt8? = i + 2 < b.count ? b[i + 2] : nil
                if x1 == UInt8(ascii: "s") || x1 == UInt8(ascii: "m") {
                    c.removeLast()
                } else if let x2, (x1 == UInt8(ascii: "r") || x1 == UInt8(ascii: "v")) && x2 == UInt8(ascii: "e") {
                    c.removeLast()
                }
            }
            c.append(b[i])
        }
        return c
    }
}

/// Byte-level BPE: the pre-tokenizer's words, each merged up by BPE.
struct ByteLevelBPE: Sendable {
    let pre: PreTokenizer
    let bpe: BPE
    /// llama.cpp's `clean_spaces` (clean_up_tokenization_spaces) in decode: on for byte-level BPE except the
    /// pre-tokenizers llama-vocab.cpp turns it off for (smollm, trillion), unless tokenizer.swiftlet.clean_spaces says.
    let cleanSpaces: Bool
    /// llama.cpp's `ignore_merges` (Llama 3): a word that is itself a token is not merged up.
    let ignoreMerges: Bool
    /// tokenizers' ByteLevel add_prefix_space (tokenizer.ggml.add_space_prefix): each piece of text between special
    /// tokens that does not start with a space is encoded with one before it.
    let addPrefixSpace: Bool

    /// Whether `bytes` (a piece of text) is encoded with a space before it.
    func prefixes(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        addPrefixSpace && (bytes.first.map { $0 != UInt8(ascii: " ") } ?? false)
    }

    /// Pre-tokenizes and BPE-encodes text that holds no special token (a space before it when `prefixes` says).
    func encode(_ bytes: UnsafeBufferPointer<UInt8>, _ ids: [String: Int32], _ cps: inout [UInt32], _ starts: inout [Int],
                _ scratch: inout BPE.Scratch, into out: inout [Int32]) {
        if prefixes(bytes) {
            ([UInt8(ascii: " ")] + bytes).withUnsafeBufferPointer { encodeWords($0, ids, &cps, &starts, &scratch, into: &out) }
        } else {
            encodeWords(bytes, ids, &cps, &starts, &scratch, into: &out)
        }
    }

    private func encodeWords(_ bytes: UnsafeBufferPointer<UInt8>, _ ids: [String: Int32], _ cps: inout [UInt32],
                             _ starts: inout [Int], _ scratch: inout BPE.Scratch, into out: inout [Int32]) {
        cps.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        var i = 0
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {  // bytes are valid: they came from a String
            cps.append(scalar.value)
            starts.append(i)
            i += UTF8.width(scalar)
        }
        starts.append(i)
        cps.withUnsafeBufferPointer { c in
            var wordStart = 0
            pre.split(c) { end in
                let word = UnsafeBufferPointer(rebasing: bytes[starts[wordStart]..<starts[end]])
                wordStart = end
                if ignoreMerges, let id = ids[ByteLevel.encode(word)] {
                    out.append(id)
                    return
                }
                bpe.encode(word, &scratch, into: &out)
            }
        }
    }
}
