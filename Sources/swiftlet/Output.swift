// Writing to stdout and stderr without Foundation, and JSON spelling of GGUF values.

import TensorFile
#if canImport(Glibc)
import Glibc
#endif

func writeOut(_ s: String) {
    var s = s
    s.withUTF8 { writeOut(UnsafeRawBufferPointer($0)) }
}

func writeOut(_ bytes: UnsafeRawBufferPointer) {
    var done = 0
    while done < bytes.count {
        let n = write(1, bytes.baseAddress! + done, bytes.count - done)
        if n <= 0 { if n < 0, errno == EINTR { continue }; return }
        done += n
    }
}

func writeErr(_ s: String) {
    var line = s + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func json(_ v: GGUFValue) -> String {
    switch v {
    case let .uint8(x): "\(x)"
    case let .int8(x): "\(x)"
    case let .uint16(x): "\(x)"
    case let .int16(x): "\(x)"
    case let .uint32(x): "\(x)"
    case let .int32(x): "\(x)"
    case let .uint64(x): "\(x)"
    case let .int64(x): "\(x)"
    case let .float32(x): jsonNumber(x)
    case let .float64(x): jsonNumber(x)
    case let .bool(x): x ? "true" : "false"
    case let .string(s): jsonQuoted(s)
    case let .array(a): json(a)
    }
}

func json(_ a: GGUFArray) -> String {
    func list<T>(_ xs: [T], _ f: (T) -> String) -> String {
        var out = "["
        out.reserveCapacity(xs.count * 8)
        for (i, x) in xs.enumerated() {
            if i > 0 { out += "," }
            out += f(x)
        }
        return out + "]"
    }
    switch a {
    case let .uint8(x): return list(x) { "\($0)" }
    case let .int8(x): return list(x) { "\($0)" }
    case let .uint16(x): return list(x) { "\($0)" }
    case let .int16(x): return list(x) { "\($0)" }
    case let .uint32(x): return list(x) { "\($0)" }
    case let .int32(x): return list(x) { "\($0)" }
    case let .uint64(x): return list(x) { "\($0)" }
    case let .int64(x): return list(x) { "\($0)" }
    case let .float32(x): return list(x) { jsonNumber($0) }
    case let .float64(x): return list(x) { jsonNumber($0) }
    case let .bool(x): return list(x) { $0 ? "true" : "false" }
    case let .string(x): return list(x) { jsonQuoted($0) }
    }
}

/// The whole file as UTF-8 text; invalid UTF-8 is an error naming the file. /dev/stdin is read as it comes (a pipe
/// works); any other path must be a regular file: a FIFO would wait for a writer forever, a device might never end.
func readTextFile(_ path: String) throws -> String {
    let isStdin = path == "/dev/stdin"
    let fd = isStdin ? 0 : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)  // non-blocking: a FIFO's open waits
    guard fd >= 0 else { throw CLIError("\(path): cannot open (\(String(cString: strerror(errno))))") }
    defer { if !isStdin { close(fd) } }
    var st = stat()
    guard isStdin || (fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG) else {
        throw CLIError("\(path): not a regular file (give a file, or /dev/stdin for a pipe)")
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw CLIError("\(path): read failed after \(bytes.count) bytes (\(String(cString: strerror(errno))))")
        }
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw CLIError("\(path): not valid UTF-8 text")
    }
    return text
}
