// The session arena: every buffer of the forward pass and the KV cache, planned from the model's
// hyperparameters and the context size, allocated once, freed once.

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
