// MarianMT's tokenizer as transformers' MarianTokenizer runs it: the source SentencePiece model
// (tokenizer.swiftlet.source.*, read by `quantize` from source.spm) cuts the text as the sentencepiece library
// does, then each piece is looked up by its text in vocab.json (the file's tokens, whose ids are the model's and
// differ from the spm's); a piece vocab.json lacks is the unknown token. Decoding is sentencepiece's DecodePieces
// over the target pieces (▁ as a space), the result stripped as MarianTokenizer strips it.

import TensorFile

struct MarianVocab: Sendable {
    let source: Unigram
    let unknown: Int32

    init(_ file: GGUFFile, types: [TokenType]) throws(TokenizerError) {
        source = try Unigram(marianSource: file)
        guard let u = try Tokenizer.unknownID(file, types: types) else {
            throw .config(key: MetadataKey.unknownTokenID, reason: "missing, and no token is of the unknown type (Marian maps unknown pieces to it)")
        }
        unknown = u
    }

    /// The tokens of `text` with their offsets, as model ids.
    func encode(_ text: String, ids: [String: Int32], into out: inout [TokenSpan]) {
        var spans: [TokenSpan] = [], pieces: [String] = []
        source.encode(text, into: &spans, pieces: &pieces)
        for (span, piece) in zip(spans, pieces) {
            out.append(TokenSpan(id: ids[piece] ?? unknown, start: span.start, end: span.end))
        }
    }

    /// MarianTokenizer.decode(ids, skip_special_tokens=True): the pieces of every token that is not a special one,
    /// joined, ▁ read as a space, then stripped of surrounding whitespace (Python's str.strip()).
    static func decode(_ ids: [Int32], tokens: [String], kinds: [TokenType]) -> String {
        var text = ""
        for id in ids where tokens.indices.contains(Int(id)) {
            switch kinds[Int(id)] {
            case .control, .unknown, .unused: continue
            default: text += tokens[Int(id)]
            }
        }
        var scalars = String.UnicodeScalarView()
        for u in text.unicodeScalars { scalars.append(u == "\u{2581}" ? " " : u) }
        func isSpace(_ u: Unicode.Scalar) -> Bool { u.properties.isWhitespace || (0x1C...0x1F).contains(u.value) }
        let trimmed = scalars.drop(while: isSpace)
        return String(String.UnicodeScalarView(trimmed.reversed().drop(while: isSpace).reversed()))
    }
}
