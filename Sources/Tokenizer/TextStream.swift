// Streaming detokenization: token ids in, whole UTF-8 characters out, a character split across tokens
// held back until its last byte arrives. Allocation-free per push: both buffers are sized at init.

/// Feeds ids one at a time (the generation loop) and hands back only complete, valid UTF-8. Bytes that
/// can never become a character are emitted as U+FFFD, one per maximal invalid subpart (what
/// `String(decoding:as: UTF8.self)` does), so the concatenated output is `String(decoding:)` of all the
/// tokens' bytes. Control tokens show as nothing, as in `Tokenizer.decode`; no space clean-up is applied
/// (llama.cpp's token_to_piece applies none either). One stream is used by one thread at a time.
public struct TextStream {
    let tokenizer: Tokenizer
    /// The held bytes of an incomplete character (at most 3), then the current token's piece.
    private var input: [UInt8]
    private var held = 0
    /// What one push emits: each input byte becomes at most 3 (U+FFFD).
    private var output: [UInt8]

    public init(_ tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
        input = [UInt8](repeating: 0, count: tokenizer.maxPieceBytes + 3)
        output = [UInt8](repeating: 0, count: 3 * (tokenizer.maxPieceBytes + 3))
    }

    /// Appends `id`'s bytes and calls `emit` with the complete characters now available (not at all if none).
    /// The buffer is valid only during the call.
    public mutating func push(_ id: Int32, _ emit: (UnsafeRawBufferPointer) -> Void) {
        let held = self.held, tokenizer = self.tokenizer
        // The buffer outermost: a closure that captured `self` (inout) would be boxed, a malloc per push.
        let n = input.withUnsafeMutableBufferPointer { buf in
            tokenizer.withPiece(id) { piece in
                _ = UnsafeMutableBufferPointer(rebasing: buf[held...]).initialize(fromContentsOf: piece)
                return held + piece.count
            }
        }
        flush(count: n, final: false, emit)
    }

    /// Emits what is still held: an incomplete character at the end becomes U+FFFD. The stream is then empty.
    public mutating func finish(_ emit: (UnsafeRawBufferPointer) -> Void) {
        flush(count: held, final: true, emit)
    }

    private mutating func flush(count: Int, final: Bool, _ emit: (UnsafeRawBufferPointer) -> Void) {
        let (consumed, written) = input.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                UTF8Sanitizer.copy(UnsafeBufferPointer(rebasing: src[..<count]), into: dst, final: final)
            }
        }
        held = count - consumed
        input.withUnsafeMutableBufferPointer { buf in
            for i in 0..<held { buf[i] = buf[consumed + i] }
        }
        if written > 0 { output.withUnsafeBytes { emit(UnsafeRawBufferPointer(rebasing: $0[..<written])) } }
    }
}

/// Valid UTF-8 copied as is, U+FFFD for each maximal subpart of an ill-formed sequence (Unicode 15,
/// §3.9 "U+FFFD Substitution of Maximal Subparts").
enum UTF8Sanitizer {
    private static let replacement: (UInt8, UInt8, UInt8) = (0xEF, 0xBF, 0xBD)

    /// Writes U+FFFD at w. Not a nested function: one capturing `w` would box it (a malloc per call in debug).
    private static func replace(_ dst: UnsafeMutableBufferPointer<UInt8>, _ w: inout Int) {
        dst[w] = replacement.0
        dst[w + 1] = replacement.1
        dst[w + 2] = replacement.2
        w += 3
    }

    /// Copies the longest prefix of `src` that ends on a character boundary into `dst` (which holds
    /// 3 × src.count bytes); unless `final`, an incomplete but so far valid character at the end is left
    /// unconsumed. Returns the bytes consumed and written.
    static func copy(_ src: UnsafeBufferPointer<UInt8>, into dst: UnsafeMutableBufferPointer<UInt8>,
                     final: Bool) -> (consumed: Int, written: Int) {
        var i = 0, w = 0
        while i < src.count {
            let b = src[i]
            if b < 0x80 {
                dst[w] = b
                w += 1
                i += 1
                continue
            }
            // Sequence length and the range of the second byte (Table 3-7, well-formed byte sequences).
            let length: Int, lo: UInt8, hi: UInt8
            switch b {
            case 0xC2...0xDF: (length, lo, hi) = (2, 0x80, 0xBF)
            case 0xE0: (length, lo, hi) = (3, 0xA0, 0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (length, lo, hi) = (3, 0x80, 0xBF)
            case 0xED: (length, lo, hi) = (3, 0x80, 0x9F)
            case 0xF0: (length, lo, hi) = (4, 0x90, 0xBF)
            case 0xF1...0xF3: (length, lo, hi) = (4, 0x80, 0xBF)
            case 0xF4: (length, lo, hi) = (4, 0x80, 0x8F)
            default:
                replace(dst, &w)
                i += 1
                continue
            }
            var k = 1  // bytes of the sequence that are valid so far
            while k < length, i + k < src.count {
                let c = src[i + k]
                guard k == 1 ? (lo...hi).contains(c) : (0x80...0xBF).contains(c) else { break }
                k += 1
            }
            if k == length {
                for j in 0..<k { dst[w + j] = src[i + j] }
                w += k
                i += k
            } else if i + k == src.count, !final {
                break  // incomplete: wait for more bytes
            } else {
                replace(dst, &w)
                i += k
            }
        }
        return (i, w)
    }
}
