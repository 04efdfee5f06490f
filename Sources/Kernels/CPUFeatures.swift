// What this CPU can run, read once from CPUID, for choosing a kernel set (KernelSet.selected). Whether the OS saves
// the YMM registers is not asked (XGETBV's intrinsic is a macro Swift cannot import): every binary of this package
// already needs AVX to start, being built for haswell. An AVX-512 set would have to check the ZMM state first.

#if arch(x86_64)
import _Builtin_intrinsics.intel.cpuid
#endif

public struct CPUFeatures: Sendable {
    public var avx2 = false, fma = false, f16c = false
    /// AVX-512 F, BW and VL with VNNI (vpdpbusd), as CPUID reports them (the OS's ZMM state unchecked).
    public var avx512VNNI = false

    public static let current = CPUFeatures.detect()

    /// Whether the kernel set `name` runs here.
    public func runs(_ name: String) -> Bool {
        switch name {
        case "generic": true
        case "avx2": avx2 && fma && f16c
        case "avx512": avx512VNNI && avx2 && fma && f16c
        default: false
        }
    }

    static func detect() -> CPUFeatures {
        var f = CPUFeatures()
        #if arch(x86_64)
        var a: UInt32 = 0, b: UInt32 = 0, c: UInt32 = 0, d: UInt32 = 0
        guard __get_cpuid_count(1, 0, &a, &b, &c, &d) != 0 else { return f }
        f.fma = c & (1 << 12) != 0
        f.f16c = c & (1 << 29) != 0
        guard __get_cpuid_count(7, 0, &a, &b, &c, &d) != 0 else { return f }
        f.avx2 = b & (1 << 5) != 0
        let avx512 = b & (1 << 16) != 0 && b & (1 << 30) != 0 && b & (1 << 31) != 0   // F, BW, VL
        f.avx512VNNI = avx512 && c & (1 << 11) != 0
        #endif
        return f
    }
}
