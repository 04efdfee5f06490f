// Fuzz target: arbitrary bytes through every tokenizer the fixtures have (byte-level BPE, WordPiece, Unigram,
// SentencePiece BPE, CTRL's, Marian's): encode (with and without special tokens, as a pair, cut short), decode,
// and stream the ids back; also the bytes as token ids.

import Engine
import TensorFile

let tokenizers: [Tokenizer] = {
    ["llama", "gpt2", "ctrl", "xlnet", "bert", "albert", "t5", "bart", "marian", "mistral", "roberta"].map {
        try! Tokenizer(try! GGUFFile(path: "\(dataDirectory)/\($0).gguf"))
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    let rawIDs = UnsafeRawBufferPointer(bytes).chunks(4).map { Int32(bitPattern: $0) }
    for t in tokenizers {
        let ids = t.encode(text, addSpecial: true)
        _ = t.encode(text, addSpecial: false, parseSpecial: false)
        let halves = text.split(separator: "\t", maxSplits: 1).map(String.init)
        _ = t.encode(halves[0...].first ?? "", pair: halves.count > 1 ? halves[1] : nil, maxTokens: 16)
        _ = t.decode(ids)
        _ = t.decode(rawIDs)
        var stream = TextStream(t)
        for id in ids + rawIDs { stream.push(id) { _ in } }
        stream.finish { _ in }
    }
    return 0
}

extension UnsafeRawBufferPointer {
    /// Little-endian 32-bit words (the last, partial one left out).
    func chunks(_ n: Int) -> [UInt32] {
        (0..<count / n).map { i in (0..<n).reduce(UInt32(0)) { $0 | UInt32(self[i * n + $1]) << (8 * $1) } }
    }
}
