// Thin wrappers over the Glibc calls the file readers and writers need; each failure names the path.
import Synchronization
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
        // Non-blocking: opening a FIFO without a writer would wait forever; fstat then refuses it.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
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
    /// Its slot in the list of files a signal removes (TemporaryFiles), nil when the list is full.
    private let slot: Int?
    public private(set) var bytesWritten = 0

    public init(path: String) throws(TensorFileError) {
        self.path = path
        try Self.checkReplaceable(path)
        var template = Array("\(path).tmp.XXXXXX".utf8CString)
        let (fd, slot) = TemporaryFiles.create(&template)
        guard fd >= 0 else { throw .io(path: path, operation: "create temporary file", errno: errno) }
        self.fd = fd
        self.slot = slot
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
        try Self.checkReplaceable(path)  // again: it may have changed while the file was written
        guard rename(temporaryPath, path) == 0 else { throw .io(path: path, operation: "rename", errno: errno) }
        committed = true
        slot.map(TemporaryFiles.remove)
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !committed { unlink(temporaryPath) }
        slot.map(TemporaryFiles.remove)
    }

    /// Only a regular file (or nothing) may be replaced: renaming over /dev/null, a FIFO or a directory's symlink
    /// would replace the node itself (as root, breaking the machine's /dev/null; a symlink would be replaced, not its
    /// target).
    public static func checkReplaceable(_ path: String) throws(TensorFileError) {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { return }
            throw .io(path: path, operation: "stat", errno: errno)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw .inFile(path, "not a regular file; only a regular file is replaced by the output")
        }
    }
}

/// The position of the first command-line argument that is not valid UTF-8, nil when all are: CommandLine.arguments
/// replaces such bytes silently, so a tool that takes text and paths as UTF-8 refuses them instead.
public func invalidUTF8Argument() -> Int? {
    for i in 1..<Int(CommandLine.argc) {
        guard let arg = CommandLine.unsafeArgv[i] else { continue }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(arg).assumingMemoryBound(to: UInt8.self), count: strlen(arg))
        if String(validating: bytes, as: UTF8.self) == nil { return i }
    }
    return nil
}

/// The temporary files of unfinished AtomicFileWriters, for a signal handler to remove: process-wide because signal
/// dispositions are, and in fixed memory read with atomics because a handler may not lock or allocate.
public enum TemporaryFiles {
    static let slots = 8, pathBytes = 4096
    // Unchecked: the states are atomics, and a path is written only by whoever moved its state from 0 to 1.
    /// Per slot: 0 free, 1 being filled, 2 holding a path.
    nonisolated(unsafe) private static let states: UnsafeMutablePointer<Atomic<Int>> = {
        let p = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: slots)
        for i in 0..<slots { (p + i).initialize(to: Atomic(0)) }
        return p
    }()
    nonisolated(unsafe) private static let paths = UnsafeMutablePointer<CChar>.allocate(capacity: slots * pathBytes)

    /// mkstemp(template) and the file listed, with SIGINT and SIGTERM held in between (a signal arriving there would
    /// find it unlisted); the descriptor (-1 and errno on failure) and the slot.
    static func create(_ template: inout [CChar]) -> (fd: Int32, slot: Int?) {
        var held = sigset_t(), old = sigset_t()
        sigemptyset(&held)
        sigaddset(&held, SIGINT)
        sigaddset(&held, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &held, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return (fd, nil) }
        return (fd, template.withUnsafeBufferPointer { add($0) })
    }

    /// Lists the NUL-terminated `path`; its slot, or nil when every slot is taken or the path is too long.
    private static func add(_ path: UnsafeBufferPointer<CChar>) -> Int? {
        guard path.count <= pathBytes else { return nil }
        for i in 0..<slots where states[i].compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
            (paths + i * pathBytes).update(from: path.baseAddress!, count: path.count)
            states[i].store(2, ordering: .releasing)
            return i
        }
        return nil
    }

    static func remove(_ slot: Int) {
        states[slot].store(0, ordering: .releasing)
    }

    /// On SIGINT and SIGTERM, removes the listed files, then ends the process by the same signal (its status says
    /// so): an interrupted `quantize` leaves no OUTPUT.tmp.XXXXXX behind. For command-line tools, which own their
    /// signals; a library's host keeps its own handlers. A signal the parent set to be ignored (a shell's background
    /// job) stays ignored; one it left blocked (threads of a Dispatch pool block them, and children inherit that) is
    /// unblocked, so that it ends the process as it would one started from a shell.
    public static func removeOnInterrupt() {
        _ = (states, paths)  // initialized here, never in the handler
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for sig in [SIGINT, SIGTERM] {
            var action = sigaction(), old = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                for i in 0..<TemporaryFiles.slots where TemporaryFiles.states[i].load(ordering: .acquiring) == 2 {
                    unlink(TemporaryFiles.paths + i * TemporaryFiles.pathBytes)
                }
                signal(sig, SIG_DFL)
                raise(sig)
            }
            sigemptyset(&action.sa_mask)
            guard sigaction(sig, nil, &old) == 0,
                  unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self) != unsafeBitCast(SIG_IGN, to: Int.self)
            else { continue }
            sigaction(sig, &action, nil)
            sigaddset(&unblock, sig)
        }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }
}
