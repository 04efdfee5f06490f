// What the fuzz targets share: an input as a file (in memory), the fixtures' GGUF files, argument splitting.

import Glibc

/// Runs `body` with `bytes` as a file at the path it is given (in /dev/shm: memory, not disk), removed after.
func withFile(_ bytes: UnsafeRawBufferPointer, _ body: (String) -> Void) {
    let path = "/dev/shm/swiftlet-fuzz-\(getpid())"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot create \(path)")
    var done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        precondition(n > 0, "write to \(path) failed")
        done += n
    }
    close(fd)
    body(path)
    unlink(path)
}

/// The directory tools/fuzz.sh put the fixtures' GGUF files and directories in (SWIFTLET_FUZZ_DATA).
let dataDirectory: String = {
    guard let p = getenv("SWIFTLET_FUZZ_DATA") else { fatalError("set SWIFTLET_FUZZ_DATA (tools/fuzz.sh does)") }
    return String(cString: p)
}()

/// The input split at NUL bytes into strings (invalid UTF-8 repaired, as CommandLine.arguments repairs it).
func split(_ bytes: UnsafeRawBufferPointer) -> [String] {
    bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
}
