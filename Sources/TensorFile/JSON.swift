// A strict JSON parser (RFC 8259: no duplicate keys, depth-limited) and the string/number
// spelling used to write JSON. Foundation stays out of the library, so this is the one JSON in Swiftlet.

public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)        // integers that fit in Int, kept exact (offsets, ids)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public subscript(key: String) -> JSONValue? {
        if case let .object(o) = self { return o[key] }
        return nil
    }

    public var string: String? { if case let .string(s) = self { s } else { nil } }
    public var bool: Bool? { if case let .bool(b) = self { b } else { nil } }
    public var int: Int? {
        switch self {
        case let .int(i): i
        case let .double(d): d.rounded() == d && abs(d) < 9e15 ? Int(d) : nil
        default: nil
        }
    }
    public var double: Double? {
        switch self {
        case let .int(i): Double(i)
        case let .double(d): d
        default: nil
        }
    }
    public var array: [JSONValue]? { if case let .array(a) = self { a } else { nil } }
    public var object: JSONObject? { if case let .object(o) = self { o } else { nil } }
    public var isNull: Bool { self == .null }

    /// Parses a whole document; `what` names it in errors (a path).
    public static func parse(_ bytes: UnsafeRawBufferPointer, what: String) throws(TensorFileError) -> JSONValue {
        var p = JSONParser(bytes: bytes.bindMemory(to: UInt8.self), what: what)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == p.b.count else { throw p.fail("unexpected data after the document") }
        return v
    }

    /// Parses the file at `path`, which names it in errors.
    public static func parse(contentsOf path: String) throws(TensorFileError) -> JSONValue {
        let file = try MappedFile(path: path)
        // The mapping must outlive the parse: without this, `file` may be released right after `.bytes`.
        return try withExtendedLifetime(file) { () throws(TensorFileError) in try parse(file.bytes, what: path) }
    }

    public static func parse(_ text: String, what: String) throws(TensorFileError) -> JSONValue {
        var result = JSONValue.null, failure: TensorFileError?
        Array(text.utf8).withUnsafeBytes { b in
            do throws(TensorFileError) { result = try parse(b, what: what) } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    }
}

/// An object with its keys in document order.
public struct JSONObject: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var values: [String: JSONValue] = [:]

    public init() {}
    /// An object of `entries`, in their order; a repeated key keeps its first value.
    public init(_ entries: [(String, JSONValue)]) {
        for (k, v) in entries { _ = insert(k, v) }
    }
    public subscript(key: String) -> JSONValue? { values[key] }
    public var count: Int { keys.count }
    public var entries: [(key: String, value: JSONValue)] { keys.map { ($0, values[$0]!) } }

    /// Adds a key; false when it was already there.
    mutating func insert(_ key: String, _ value: JSONValue) -> Bool {
        guard values[key] == nil else { return false }
        keys.append(key)
        values[key] = value
        return true
    }
}

struct JSONParser {
    let b: UnsafeBufferPointer<UInt8>
    let what: String
    var i = 0
    static let maxDepth = 128

    init(bytes: UnsafeBufferPointer<UInt8>, what: String) {
        b = bytes
        self.what = what
    }

    func fail(_ reason: String) -> TensorFileError { .json(what: what, reason: reason, offset: i) }

    mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0a || b[i] == 0x0d || b[i] == 0x09 { i += 1 }
    }

    mutating func expect(_ word: String) throws(TensorFileError) {
        for c in word.utf8 {
            guard i < b.count, b[i] == c else { throw fail("expected '\(word)'") }
            i += 1
        }
    }

    mutating func value(depth: Int) throws(TensorFileError) -> JSONValue {
        guard depth < Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
        guard i < b.count else { throw fail("unexpected end") }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var o = JSONObject()
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let keyAt = i
                let key = try string()
                skipSpace()
                try expect(":")
                skipSpace()
                let v = try value(depth: depth + 1)
                guard o.insert(key, v) else { throw JSONValue.duplicate(what, key, keyAt) }
                skipSpace()
                guard i < b.count else { throw fail("unterminated object") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                throw fail("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            i += 1
            var a: [JSONValue] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true {
                skipSpace()
                a.append(try value(depth: depth + 1))
                skipSpace()
                guard i < b.count else { throw fail("unterminated array") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        default: return try number()
        }
    }

    mutating func number() throws(TensorFileError) -> JSONValue {
        let start = i
        var isInteger = true
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        let digitsStart = i
        while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
        guard i > digitsStart else { throw fail("invalid value") }
        guard b[digitsStart] != 0x30 || i == digitsStart + 1 else { throw fail("leading zero in number") }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            let f = i
            while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
            guard i > f else { throw fail("digits expected after '.'") }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            isInteger = false
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            let e = i
            while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
            guard i > e else { throw fail("digits expected in exponent") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        if isInteger, let n = Int(text) { return .int(n) }
        guard let d = Double(text) else { throw fail("invalid number") }
        return .double(d)
    }

    mutating func hex4() throws(TensorFileError) -> UInt32 {
        guard b.count - i >= 4 else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    mutating func string() throws(TensorFileError) -> String {
        i += 1  // opening quote
        var out: [UInt8] = []
        var runStart = i
        while true {
            guard i < b.count else { throw fail("unterminated string") }
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[runStart..<i]))
                i += 1
                break
            }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") { i += 1; continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[runStart..<i]))
            i += 1
            guard i < b.count else { throw fail("unterminated escape") }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0c)
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xd800..<0xdc00).contains(scalar) {
                    guard b.count - i >= 2, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xdc00..<0xe000).contains(low) else { throw fail("unpaired surrogate") }
                    scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
                } else if (0xdc00..<0xe000).contains(scalar) {
                    throw fail("unpaired surrogate")
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
            default: throw fail("invalid escape")
            }
            runStart = i
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
        return s
    }
}

extension JSONValue {
    static func duplicate(_ what: String, _ key: String, _ at: Int) -> TensorFileError {
        .json(what: what, reason: "duplicate key \"\(key)\"", offset: at)
    }
}

// MARK: Writing

/// `s` as a JSON string literal.
public func jsonQuoted(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where u.value < 0x20:
            let h = String(u.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}

/// A float in JSON: the shortest text that reads back to the same value; NaN and infinities, which
/// JSON cannot spell, become null.
public func jsonNumber(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }
public func jsonNumber(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }

extension JSONValue: CustomStringConvertible {
    /// Compact JSON text, for error messages.
    public var description: String {
        switch self {
        case .null: "null"
        case let .bool(b): b ? "true" : "false"
        case let .int(i): "\(i)"
        case let .double(d): jsonNumber(d)
        case let .string(s): jsonQuoted(s)
        case let .array(a): "[" + a.map(\.description).joined(separator: ",") + "]"
        case let .object(o): "{" + o.entries.map { jsonQuoted($0.key) + ":" + $0.value.description }.joined(separator: ",") + "}"
        }
    }
}
