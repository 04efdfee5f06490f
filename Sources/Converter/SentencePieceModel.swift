// Reads a SentencePiece model file (tokenizer.model, spiece.model, Marian's source.spm): the protobuf
// ModelProto of sentencepiece_model.proto, decoded directly (no protobuf library), every length checked.

import TensorFile

public struct SentencePieceModel: Sendable {
    public enum PieceType: Int32, Sendable { case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6 }
    public enum Kind: Int32, Sendable { case unigram = 1, bpe = 2, word = 3, char = 4 }

    public struct Piece: Sendable, Equatable {
        public var text: String
        public var score: Float
        public var type: PieceType
    }

    public var pieces: [Piece] = []
    public var kind: Kind = .unigram
    public var byteFallback = false
    public var unknownID: Int32 = 0, bosID: Int32 = 1, eosID: Int32 = 2, padID: Int32 = -1
    public var normalizerName = ""
    public var precompiledCharsmap: [UInt8] = []
    public var addDummyPrefix = true, removeExtraWhitespaces = true, escapeWhitespaces = true

    public init(path: String) throws(TensorFileError) {
        let file = try MappedFile(path: path)
        try withExtendedLifetime(file) { () throws(TensorFileError) in
            var r = ProtoReader(bytes: file.bytes, path: path)
            try parseModel(&r)
        }
    }

    private mutating func parseModel(_ r: inout ProtoReader) throws(TensorFileError) {
        while let (field, wire) = try r.nextField() {
            switch (field, wire) {
            case (1, 2):
                var sub = try r.message()
                var piece = Piece(text: "", score: 0, type: .normal)
                while let (f, w) = try sub.nextField() {
                    switch (f, w) {
                    case (1, 2): piece.text = try sub.string("piece #\(pieces.count)")
                    case (2, 5): piece.score = Float(bitPattern: try sub.fixed32())
                    case (3, 0):
                        let t = try sub.varint()
                        guard let type = PieceType(rawValue: Int32(truncatingIfNeeded: t)) else {
                            throw sub.fail("piece #\(pieces.count) has unknown type \(t)")
                        }
                        piece.type = type
                    default: try sub.skip(w)
                    }
                }
                pieces.append(piece)
            case (2, 2):
                var sub = try r.message()
                while let (f, w) = try sub.nextField() {
                    switch (f, w) {
                    case (3, 0):
                        let k = try sub.varint()
                        guard let kind = Kind(rawValue: Int32(truncatingIfNeeded: k)) else { throw sub.fail("unknown model_type \(k)") }
                        self.kind = kind
                    case (35, 0): byteFallback = try sub.varint() != 0
                    case (40, 0): unknownID = Int32(truncatingIfNeeded: try sub.varint())
                    case (41, 0): bosID = Int32(truncatingIfNeeded: try sub.varint())
                    case (42, 0): eosID = Int32(truncatingIfNeeded: try sub.varint())
                    case (43, 0): padID = Int32(truncatingIfNeeded: try sub.varint())
                    default: try sub.skip(w)
                    }
                }
            case (3, 2):
                var sub = try r.message()
                while let (f, w) = try sub.nextField() {
                    switch (f, w) {
                    case (1, 2): normalizerName = try sub.string("normalizer name")
                    case (2, 2): precompiledCharsmap = Array(try sub.lengthDelimited())
                    case (3, 0): addDummyPrefix = try sub.varint() != 0
                    case (4, 0): removeExtraWhitespaces = try sub.varint() != 0
                    case (5, 0): escapeWhitespaces = try sub.varint() != 0
                    default: try sub.skip(w)
                    }
                }
            default: try r.skip(wire)
            }
        }
        guard !pieces.isEmpty else { throw r.fail("no pieces") }
        for (name, id) in [("unk_id", unknownID), ("bos_id", bosID), ("eos_id", eosID), ("pad_id", padID)]
        where id >= pieces.count {
            throw r.fail("\(name) \(id) is outside the \(pieces.count) pieces")
        }
    }
}

/// Protobuf wire-format reader over a byte range; every length is checked against what remains.
struct ProtoReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    let base: Int  // offset of `bytes` in the file, for messages
    var i = 0

    init(bytes: UnsafeRawBufferPointer, path: String, base: Int = 0) {
        self.bytes = bytes
        self.path = path
        self.base = base
    }

    func fail(_ reason: String) -> TensorFileError { .inFile(path, "\(reason) (protobuf at byte \(base + i))") }

    mutating func varint() throws(TensorFileError) -> UInt64 {
        var v: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            guard i < bytes.count else { throw fail("truncated varint") }
            let b = bytes[i]
            i += 1
            v |= UInt64(b & 0x7f) << UInt64(shift)
            if b & 0x80 == 0 { return v }
        }
        throw fail("varint longer than 10 bytes")
    }

    mutating func nextField() throws(TensorFileError) -> (Int, Int)? {
        guard i < bytes.count else { return nil }
        let key = try varint()
        return (Int(key >> 3), Int(key & 7))
    }

    mutating func fixed32() throws(TensorFileError) -> UInt32 {
        guard bytes.count - i >= 4 else { throw fail("truncated fixed32") }
        defer { i += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self))
    }

    /// A length-delimited field's bytes.
    mutating func lengthDelimited() throws(TensorFileError) -> UnsafeRawBufferPointer {
        let n = try varint()
        guard n <= UInt64(bytes.count - i) else { throw fail("length \(n) runs past the end") }
        defer { i += Int(n) }
        return UnsafeRawBufferPointer(rebasing: bytes[i..<i + Int(n)])
    }

    mutating func string(_ what: String) throws(TensorFileError) -> String {
        let b = try lengthDelimited()
        guard let s = String(validating: b.bindMemory(to: UInt8.self), as: UTF8.self) else { throw fail("\(what) is not UTF-8") }
        return s
    }

    mutating func message() throws(TensorFileError) -> ProtoReader {
        let b = try lengthDelimited()
        return ProtoReader(bytes: b, path: path, base: base + i - b.count)
    }

    mutating func skip(_ wire: Int) throws(TensorFileError) {
        switch wire {
        case 0: _ = try varint()
        case 1:
            guard bytes.count - i >= 8 else { throw fail("truncated fixed64") }
            i += 8
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed32()
        default: throw fail("unsupported wire type \(wire)")
        }
    }
}
