// Where the committed fixtures live, scratch directories, and fixture conversion: shared by the test targets.

import Converter
import Foundation
import Quant
import TensorFile

public let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures").standardized

/// A fresh directory under the system temporary directory, unique to this process and `name`.
public func temporaryDirectory(_ name: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-test-\(getpid())-\(name)")
    try? FileManager.default.removeItem(at: dir)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

public func json(_ url: URL) throws -> JSONValue {
    try JSONValue.parse(contentsOf: url.path)
}

/// `quantize INPUT OUTPUT --type TYPE --threads 2 --quiet`.
public func convert(_ input: String, to output: String, _ type: GGMLType) throws -> ConvertReport {
    var o = ConvertOptions()
    o.type = type
    o.threads = 2
    o.quiet = true
    return try Converter.run(input: input, output: output, options: o)
}

private let converted = Locked<[String: String]>([:])

/// The tiny Hugging Face fixture `model` converted to GGUF at `type`, in a scratch directory; the path.
/// Converted once per test process: tests running in parallel share the file and must not modify it.
public func fixtureGGUF(_ model: String, _ type: GGMLType) throws -> String {
    let key = "\(model)-\(type.name)"
    return try converted.withLock { done in
        if let path = done[key] { return path }
        let out = try temporaryDirectory("gguf-" + key).appendingPathComponent("model.gguf").path
        _ = try convert(fixtures.appendingPathComponent(model).path, to: out, type)
        done[key] = out
        return out
    }
}

/// A copy of byte-level BPE fixture `fixture` as a slow tokenizer saves it: vocab.json and merges.txt (with its
/// "#version" line) instead of tokenizer.json, and added tokens outside the vocabulary in added_tokens.json.
/// `name` keeps concurrent tests' copies apart.
public func slowBPECopy(_ fixture: String, as name: String) throws -> URL {
    struct NotBPE: Error {}
    let dir = try temporaryDirectory(name).appendingPathComponent(fixture)
    try FileManager.default.copyItem(at: fixtures.appendingPathComponent(fixture), to: dir)
    let path = dir.appendingPathComponent("tokenizer.json")
    guard let tokenizer = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any],
          let model = tokenizer["model"] as? [String: Any], let vocab = model["vocab"] as? [String: Any],
          let merges = model["merges"] as? [Any] else { throw NotBPE() }
    try JSONSerialization.data(withJSONObject: vocab).write(to: dir.appendingPathComponent("vocab.json"))
    let lines = merges.map { ($0 as? String) ?? ($0 as? [String] ?? []).joined(separator: " ") }
    try (["#version: 0.2"] + lines + [""]).joined(separator: "\n")
        .write(to: dir.appendingPathComponent("merges.txt"), atomically: true, encoding: .utf8)
    var extra: [String: Int] = [:]
    for case let t as [String: Any] in tokenizer["added_tokens"] as? [Any] ?? [] {
        if let content = t["content"] as? String, vocab[content] == nil { extra[content] = t["id"] as? Int }
    }
    if !extra.isEmpty { try JSONSerialization.data(withJSONObject: extra).write(to: dir.appendingPathComponent("added_tokens.json")) }
    try FileManager.default.removeItem(at: path)
    return dir
}

/// A copy of GGUF file `path` without the metadata keys `dropped` (what another writer, such as llama.cpp's
/// converter, that does not record them gives), with the values of `setting` (replaced where the key exists, else
/// appended), tensors renamed as `renaming` says and their bytes replaced as `data` says (the same size): hand-made
/// bad files.
public func ggufCopy(_ path: String, to output: String, dropping dropped: Set<String> = [],
                     setting: KeyValuePairs<String, GGUFValue> = [:], renaming: [String: String] = [:],
                     data: [String: [UInt8]] = [:]) throws {
    let f = try GGUFFile(path: path)
    var metadata = f.metadata.filter { !dropped.contains($0.key) }
    for (key, value) in setting {
        if let i = metadata.firstIndex(where: { $0.key == key }) { metadata[i].value = value } else { metadata.append((key, value)) }
    }
    let w = try GGUFWriter(path: output, metadata: metadata, tensors: f.tensors.map {
        GGUFTensorPlan(name: renaming[$0.name] ?? $0.name, type: $0.type, shape: $0.shape)
    })
    for t in f.tensors {
        if let bytes = data[t.name] { try w.writeTensor(bytes) } else { try w.writeTensor(try f.tensor(t.name).bytes) }
    }
    try w.finish()
}

/// A copy of Hugging Face fixture `fixture` whose safetensors has tensors renamed (`renaming`) or resized and zeroed
/// (`resizing`), without those in `dropping`, and whose config.json has `config` merged in (a String value starting
/// with "raw:" is written as the JSON text after it, for numbers JSONSerialization will not write, such as 1e999).
public func hfCopy(_ fixture: String, as name: String, renaming: [String: String] = [:], resizing: [String: [Int]] = [:],
                   dropping: Set<String> = [], config: [String: Any] = [:]) throws -> URL {
    let dir = try temporaryDirectory(name).appendingPathComponent(fixture)
    try FileManager.default.copyItem(at: fixtures.appendingPathComponent(fixture), to: dir)
    let file = dir.appendingPathComponent("model.safetensors")
    let bytes = try Data(contentsOf: file)
    let n = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    var header = try unwrap(try JSONSerialization.jsonObject(with: bytes[8..<8 + n]) as? [String: Any])
    let metadata = header.removeValue(forKey: "__metadata__")
    var out: [String: Any] = metadata.map { ["__metadata__": $0] } ?? [:], data = Data()
    for (tensor, value) in header.sorted(by: { $0.key < $1.key }) where !dropping.contains(tensor) {
        var info = try unwrap(value as? [String: Any])
        let offsets = try unwrap(info["data_offsets"] as? [Int]), start = data.count
        if let shape = resizing[tensor] {
            info["shape"] = shape
            data.append(Data(count: shape.reduce(4, *)))  // F32 zeros
        } else {
            data.append(bytes[8 + n + offsets[0]..<8 + n + offsets[1]])
        }
        info["data_offsets"] = [start, data.count]
        out[renaming[tensor] ?? tensor] = info
    }
    let json = try JSONSerialization.data(withJSONObject: out)
    var result = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) }
    result.append(json)
    result.append(data)
    try result.write(to: file)
    if !config.isEmpty {
        let url = dir.appendingPathComponent("config.json")
        var c = try unwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var raw: [String: String] = [:]
        for (key, value) in config {
            if let s = value as? String, s.hasPrefix("raw:") {
                raw["\"@raw:\(key)@\""] = String(s.dropFirst(4))
                c[key] = "@raw:\(key)@"
            } else {
                c[key] = value
            }
        }
        var text = String(decoding: try JSONSerialization.data(withJSONObject: c), as: UTF8.self)
        for (placeholder, json) in raw { text = text.replacingOccurrences(of: placeholder, with: json) }
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
    return dir
}

private struct Unexpected: Error {}

private func unwrap<T>(_ value: T?) throws -> T {
    guard let value else { throw Unexpected() }
    return value
}
