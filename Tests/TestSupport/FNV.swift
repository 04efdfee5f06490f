// What more than one test target needs: the FNV-1a 64 digest the Python reference tools record for tensor data.

/// FNV-1a 64 of `bytes` as 16 lower-case hex digits, as tools/reference/gguf_listing.py's fnv1a64 computes it.
public func fnv1a64(_ bytes: UnsafeRawBufferPointer) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    let s = String(h, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}
