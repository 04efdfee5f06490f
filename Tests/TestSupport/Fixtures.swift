// Where the committed fixtures live, scratch directories, and fixture conversion: shared by the test targets.

import Converter
import Foundation
import Quant
import Synchronization
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

private let converted = Mutex<[String: String]>([:])

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
