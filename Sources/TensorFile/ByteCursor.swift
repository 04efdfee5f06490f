// A bounds-checked reader over mapped bytes: every read checks the bytes left before it loads.

struct ByteCursor {
    let base: UnsafeRawPointer?
    let count: Int
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        base = bytes.baseAddress
        count = bytes.count
    }

    var remaining: Int { count - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(TensorFileError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size, let base else { throw .truncated(what: what(), offset: offset, needed: size - max(remaining, 0)) }
        defer { offset += size }
        return T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// Reads a GGUF string: u64 length, then that many bytes of UTF-8.
    mutating func readString(_ what: @autoclosure () -> String) throws(TensorFileError) -> String {
        let start = offset
        let length = try read(UInt64.self, "\(what()) length")
        guard length <= UInt64(remaining) else {
            throw .countTooLarge(what: "\(what()) length", count: length, offset: start, limit: UInt64(remaining))
        }
        let n = Int(length)
        defer { offset += n }
        guard n > 0, let base else { return "" }
        let bytes = UnsafeRawBufferPointer(start: base + offset, count: n)
        guard let s = String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) else {
            throw .invalidUTF8(what: what(), offset: offset)
        }
        return s
    }
}
