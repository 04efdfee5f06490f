// The session arena: every buffer of the forward pass and the KV cache, planned from the model's
// hyperparameters and the context size, checked against the memory limit, allocated once, freed once; and the rest of
// what every session kind plans and checks the same way (threads, scratch, token ids).

import Kernels
import Quant
#if canImport(Glibc)
import Glibc
#endif

/// Named regions laid out one after another, each 64-byte aligned.
public struct ArenaPlan: Sendable {
    public struct Region: Sendable {
        public let name: String
        public let offset: Int, bytes: Int
    }
    public private(set) var regions: [Region] = []
    public private(set) var bytes = 0

    /// Reserves `count` floats; returns the region's offset.
    mutating func floats(_ name: String, _ count: Int) -> Int { reserve(name, count * MemoryLayout<Float>.stride) }

    mutating func reserve(_ name: String, _ size: Int) -> Int {
        let offset = (bytes + 63) & ~63
        regions.append(Region(name: name, offset: offset, bytes: size))
        bytes = offset + size
        return offset
    }

    /// "arena 285.0 KiB (logits 192.0 KiB, att 72.0 KiB, +5)": the largest regions first.
    public func summary(excluding excluded: Set<String> = []) -> String {
        let shown = regions.filter { !excluded.contains($0.name) }.sorted { $0.bytes > $1.bytes }
        let total = shown.reduce(0) { $0 + $1.bytes }
        var parts = shown.prefix(3).map { "\($0.name) \(formatBytes($0.bytes))" }
        if shown.count > 3 { parts.append("+\(shown.count - 3)") }
        return "\(formatBytes(total)) (\(parts.joined(separator: ", ")))"
    }
}

/// One allocation holding a plan's regions; freed when the owner goes.
struct Arena: ~Copyable {
    let base: UnsafeMutableRawPointer
    let bytes: Int

    init(_ plan: ArenaPlan) throws(ModelError) {
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, max(plan.bytes, 64)) == 0, let raw else {
            throw .outOfMemory("cannot allocate the \(formatBytes(plan.bytes)) arena")
        }
        // Zeroed so that never-written cache rows read as numbers, not garbage, and pages are committed now.
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: plan.bytes)
        base = raw
        bytes = plan.bytes
    }

    deinit { free(base) }

    func floats(at offset: Int) -> UnsafeMutablePointer<Float> {
        (base + offset).assumingMemoryBound(to: Float.self)
    }
}

/// 1536 → "1.5 KiB", with one decimal, binary units.
public func formatBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(n), unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    if unit == 0 { return "\(n) B" }
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10) \(units[unit])"
}

/// A session's threads: `requested`, or every online core when it is 0; at most 4 per core (the pool's threads spin
/// while they wait, so more than the cores only take turns) and 512 (ggml's GGML_MAX_N_THREADS).
func sessionThreads(_ requested: Int) -> Int {
    let cores = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    return requested > 0 ? min(requested, 4 * cores, 512) : cores
}

/// A session's pool; a thread the system will not start is an error, not a trap.
func startPool(threads: Int) throws(ModelError) -> ThreadPool {
    do { return try ThreadPool(threads: threads) } catch { throw .outOfMemory(error.description) }
}

/// Refuses a plan larger than `limit` (nil: the machine's physical memory, or the address-space limit when lower)
/// before anything is allocated: "the session needs 1.2 GiB (detail), more than the limit of 1.0 GiB; advice".
func checkMemory(_ plan: ArenaPlan, limit: Int?, detail: String? = nil, advice: String? = nil) throws(ModelError) {
    var limit = limit ?? sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE))
    var r = rlimit()
    if getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &r) == 0, r.rlim_cur < rlim_t(Int.max) {
        limit = min(limit, Int(r.rlim_cur))
    }
    guard plan.bytes > limit else { return }
    throw .outOfMemory("the session needs \(formatBytes(plan.bytes))\(detail.map { " (\($0))" } ?? ""), more than the limit "
        + "of \(formatBytes(limit))\(advice.map { "; \($0)" } ?? "")")
}

/// Scratch bytes for the quantized activations of up to `rows` rows multiplied by weights of any of `types`, at any
/// of `widths` (row lengths).
func matMulScratchBytes(_ types: Set<GGMLType>, widths: [Int], rows: Int, threads: Int) -> Int {
    var bytes = 0
    for type in types {
        for cols in widths { bytes = max(bytes, matMulScratchBytes(type, cols: cols, tokens: rows, threads: threads)) }
    }
    return bytes
}

/// Every id must index a vocabulary of `vocab` rows.
func checkTokenIDs(_ ids: UnsafeBufferPointer<Int32>, vocab: Int) throws(ModelError) {
    for i in 0..<ids.count where ids[i] < 0 || Int(ids[i]) >= vocab {
        throw .invalidInput("token id \(ids[i]) at index \(i) is not in the vocabulary (0..<\(vocab))")
    }
}

/// Every id must index a vocabulary of `vocab` rows.
func checkTokenIDs(_ ids: [Int32], vocab: Int) throws(ModelError) {
    try ids.withUnsafeBufferPointer { (p) throws(ModelError) in try checkTokenIDs(p, vocab: vocab) }
}
