// swift-tools-version:6.0
// Swiftlet: a pure-Swift quantized transformer inference engine. No package dependencies.
import PackageDescription

// AVX2 + FMA + F16C code generation on x86-64: without it SIMD multiply-adds become libm calls
// (about 20x slower) and Float16 conversion is a software routine. swiftc rejects `x86-64-v3`.
// Such builds need a Haswell-or-newer CPU; see docs/ARCHITECTURE.md ("CPU requirements").
let cpuFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"], .when(platforms: [.linux]))]

let package = Package(
    name: "Swiftlet",
    products: [
        // libSwiftlet.a: the engine and its C surface (include/swiftlet.h); tools/build-lib.sh names it libswiftlet.a.
        .library(name: "Swiftlet", type: .static, targets: ["CAPI"]),
        // The Swift API (Sources/SwiftletKit) for Swift packages; the C library is a layer over it.
        .library(name: "SwiftletKit", targets: ["SwiftletKit"]),
        .executable(name: "quantize", targets: ["quantize"]),
        .executable(name: "swiftlet", targets: ["swiftlet"]),
    ],
    targets: [
        .target(name: "Quant", swiftSettings: cpuFlags),
        .target(name: "TensorFile", dependencies: ["Quant"], swiftSettings: cpuFlags),
        // Kernels know no files and no models: pointers, sizes and a thread pool.
        // Optimized in debug builds too: unoptimized SIMD kernels run ~300x slower, which made a test that
        // generates a few tokens with the real SmolLM2 take minutes.
        .target(name: "Kernels", dependencies: ["Quant"],
                swiftSettings: cpuFlags + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Text to token ids and back, from a GGUF's tokenizer.* metadata; no weights, no kernels.
        .target(name: "Tokenizer", dependencies: ["TensorFile"], swiftSettings: cpuFlags),
        .target(name: "Engine", dependencies: ["Quant", "TensorFile", "Kernels", "Tokenizer"], swiftSettings: cpuFlags),
        // The Swift API: Model, Session (generate, stream, translate, embed, tokenize), the C API's parameters.
        .target(name: "SwiftletKit", dependencies: ["Engine", "TensorFile", "Tokenizer"], swiftSettings: cpuFlags),
        // The C declarations (include/swiftlet.h, linked into Sources/CSwiftlet/include) and their Swift side.
        .target(name: "CSwiftlet"),
        .target(name: "CAPI", dependencies: ["SwiftletKit", "CSwiftlet"], swiftSettings: cpuFlags),
        // The converter behind `quantize`; not part of the Swiftlet library product.
        .target(name: "Converter", dependencies: ["Engine"], swiftSettings: cpuFlags),
        .executableTarget(name: "quantize", dependencies: ["Converter"], swiftSettings: cpuFlags),
        .executableTarget(name: "swiftlet", dependencies: ["Engine", "Kernels"], swiftSettings: cpuFlags),
        .target(name: "TestSupport", dependencies: ["Converter"], path: "Tests/TestSupport", swiftSettings: cpuFlags),
        .testTarget(name: "QuantTests", dependencies: ["Quant"], swiftSettings: cpuFlags),
        .testTarget(name: "TensorFileTests", dependencies: ["TensorFile", "TestSupport"], swiftSettings: cpuFlags),
        .testTarget(name: "ConverterTests", dependencies: ["Converter", "TestSupport"], swiftSettings: cpuFlags),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "Quant"], swiftSettings: cpuFlags),
        // Counts mallocs in the test process (symbol interposition) for the zero-allocation test.
        .target(name: "AllocCounter", path: "Tests/AllocCounter"),
        .testTarget(name: "SwiftletKitTests", dependencies: ["SwiftletKit", "Engine", "TestSupport"], swiftSettings: cpuFlags),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Tokenizer", "Converter", "TestSupport", "AllocCounter"], swiftSettings: cpuFlags),
    ]
)
