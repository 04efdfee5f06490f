// Thin wrappers over the Glibc calls the file readers and writers need; each failure names the path.
#if canImport(Glibc)
import Glibc
#endif

func errnoText(_ e: Int32) -> String {
    guard let s = strerror(e) else { return "errno \(e)" }
    return String(cString: s)
}

/// A read-only memory mapping of a whole file, unmapped when the last reference goes.
/// Views into it (tensor data) are valid while the `MappedFile` is alive.
public final class MappedFile: @unchecked Sendable {  // immutable after init: shared read-only across threads
    public let path: String
    public let base: UnsafeRawPointer?
    public let count: Int

    public init(path: String) throws(TensorFileError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, operation: "stat", errno: errno) }
        guard (st.st_mode & S_IFMT) != S_IFDIR else { throw .io(path: path, operation: "map", errno: EISDIR) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .io(path: path, operation: "map (not a regular file)", errno: EINVAL) }
        count = Int(st.st_size)
        if count == 0 {
            base = nil
            return
        }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw .io(path: path, operation: "mmap", errno: errno) }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Tells the kernel the pages holding `range` are not needed for now, so streaming through a large
    /// file keeps resident memory bounded; the bytes stay readable (they are paged in again on access).
    public func dropPages(_ range: Range<Int>) {
        guard let base, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = range.lowerBound / page * page
        let end = min(count, range.upperBound)
        guard end > start else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }
}

/// Writes a file whole or not at all: data goes to a temporary file beside the target, which is
/// fsynced and renamed over it only by `commit()`; dropping the writer without committing removes it.
public final class AtomicFileWriter {
    public let path: String
    let temporaryPath: String
    private var fd: Int32
    private var committed = false
    public private(set) var bytesWritten = 0

    public init(path: String) throws(TensorFileError) {
        self.path = path
        var template = Array("\(path).tmp.XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .io(path: path, operation: "create temporary file", errno: errno) }
        self.fd = fd
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        fchmod(fd, 0o644)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(TensorFileError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: temporaryPath, operation: "write", errno: errno)
            }
            done += n
        }
        bytesWritten += bytes.count
    }

    public func write(_ bytes: [UInt8]) throws(TensorFileError) {
        var failure: TensorFileError?
        bytes.withUnsafeBytes { b in
            do throws(TensorFileError) { try write(b) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    public func writeZeros(_ n: Int) throws(TensorFileError) {
        if n > 0 { try write([UInt8](repeating: 0, count: n)) }
    }

    /// Flushes to disk and renames the temporary file to `path`.
    public func commit() throws(TensorFileError) {
        guard fsync(fd) == 0 else { throw .io(path: temporaryPath, operation: "fsync", errno: errno) }
        guard close(fd) == 0 else { throw .io(path: temporaryPath, operation: "close", errno: errno) }
        fd = -1
        guard rename(temporaryPath, path) == 0 else { throw .io(path: path, operation: "rename", errno: errno) }
        committed = true
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !committed { unlink(temporaryPath) }
    }
}
