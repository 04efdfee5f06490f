// Fuzz target: the swiftlet command line's flag parser (Sources/swiftlet/Flags.swift, compiled in) on arguments
// split at NUL bytes, with generate's flag sets; then every typed read a command makes.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFlags(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let args = split(UnsafeRawBufferPointer(start: data, count: size))
    let valued: Set<String> = ["-m", "--model", "-c", "--ctx", "-t", "--threads", "-p", "--prompt", "-n", "--temp", "--top-p", "--seed"]
    guard let f = try? Flags(args[...], valued: valued, booleans: ["--json", "-v", "--ignore-eos"]) else { return 0 }
    _ = try? f.int("-n", default: 128, range: 1...(1 << 24))
    _ = try? f.int("--ctx", default: 0, range: 0...(1 << 24))
    _ = try? f.float("--temp", default: 0.8, range: 0...100)
    _ = try? f.float("--top-p", default: 0.95, range: 0...1)
    _ = (f.value("-p"), f.has("--json"), f.positionals)
    return 0
}
