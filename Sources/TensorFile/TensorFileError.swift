// The one error type of the TensorFile module: what went wrong and where (file, key, tensor, byte offset).

public enum TensorFileError: Error, CustomStringConvertible, Equatable {
    case io(path: String, operation: String, errno: Int32)
    /// Another error's description, with the file it was found in.
    case inFile(String, String)
    case truncated(what: String, offset: Int, needed: Int)
    case badMagic(found: UInt32)
    case unsupportedVersion(UInt32)
    case countTooLarge(what: String, count: UInt64, offset: Int, limit: UInt64)
    case invalidValueType(key: String, type: UInt32, offset: Int)
    case invalidBool(key: String, byte: UInt8, offset: Int)
    case invalidUTF8(what: String, offset: Int)
    case emptyKey(offset: Int)
    case duplicateKey(String, offset: Int)
    case duplicateTensor(String, offset: Int)
    case badAlignment(UInt64)
    case badMetadata(key: String, reason: String)
    case badTensor(tensor: String, reason: String, offset: Int)
    case unknownTensorType(tensor: String, type: UInt32, offset: Int)
    case misaligned(tensor: String, offset: Int, alignment: Int)
    case outOfBounds(tensor: String, offset: Int, bytes: Int, fileBytes: Int)
    case wrongType(key: String, expected: String, found: String)
    case missingKey(String)
    case missingTensor(String)
    case json(what: String, reason: String, offset: Int)
    case safetensors(path: String, reason: String)

    public var description: String {
        switch self {
        case let .io(path, op, e): "\(path): \(op) failed: \(errnoText(e))"
        case let .inFile(path, reason): "\(path): \(reason)"
        case let .truncated(w, at, n): "\(w) at byte \(at): needs \(n) bytes past the end of the file"
        case let .badMagic(m): "not a GGUF file: magic 0x\(String(m, radix: 16)) at byte 0, expected 0x46554747 ('GGUF')"
        case let .unsupportedVersion(v): "GGUF version \(v) at byte 4 is not supported (2 and 3 are)"
        case let .countTooLarge(w, n, at, lim): "\(w) \(n) at byte \(at) is larger than the file allows (at most \(lim))"
        case let .invalidValueType(k, t, at): "key '\(k)': value type \(t) at byte \(at) is not a GGUF type (0-12)"
        case let .invalidBool(k, b, at): "key '\(k)': bool byte \(b) at byte \(at) is neither 0 nor 1"
        case let .invalidUTF8(w, at): "\(w) at byte \(at) is not valid UTF-8"
        case let .emptyKey(at): "empty metadata key at byte \(at)"
        case let .duplicateKey(k, at): "duplicate metadata key '\(k)' at byte \(at)"
        case let .duplicateTensor(t, at): "duplicate tensor name '\(t)' at byte \(at)"
        case let .badAlignment(a): "general.alignment \(a) is not a power of two between 1 and 65536"
        case let .badMetadata(k, r): "key '\(k)': \(r)"
        case let .badTensor(t, r, at): "tensor '\(t)' (info at byte \(at)): \(r)"
        case let .unknownTensorType(t, ty, at): "tensor '\(t)': unknown ggml type \(ty) at byte \(at)"
        case let .misaligned(t, at, a): "tensor '\(t)': data at byte \(at) is not \(a)-aligned"
        case let .outOfBounds(t, at, n, size): "tensor '\(t)': \(n) bytes at byte \(at) run past the end of the file (\(size) bytes)"
        case let .wrongType(k, e, f): "key '\(k)': expected \(e), found \(f)"
        case let .missingKey(k): "missing metadata key '\(k)'"
        case let .missingTensor(t): "missing tensor '\(t)'"
        case let .json(w, r, at): "\(w): invalid JSON at byte \(at): \(r)"
        case let .safetensors(p, r): "\(p): \(r)"
        }
    }
}

/// `s` safe to print on a terminal: control characters (C0, DEL, C1) and bidirectional overrides, which names read
/// from a file may hold, escaped as `\n`, `\t`, `\r` or `\u{1B}`; a message then stays one line that cannot move
/// the cursor, clear the screen or reorder what follows.
public func printable(_ s: String) -> String {
    func unsafe(_ u: Unicode.Scalar) -> Bool {
        u.value < 0x20 || (0x7F...0x9F).contains(u.value) || (0x202A...0x202E).contains(u.value)
            || (0x2066...0x2069).contains(u.value) || u.value == 0x200E || u.value == 0x200F || u.value == 0x061C
    }
    guard s.unicodeScalars.contains(where: unsafe) else { return s }
    var out = ""
    for u in s.unicodeScalars {
        switch u {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where unsafe(u): out += "\\u{\(String(u.value, radix: 16, uppercase: true))}"
        default: out.unicodeScalars.append(u)
        }
    }
    return out
}
