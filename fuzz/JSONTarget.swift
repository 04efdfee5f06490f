// Fuzz target: the strict JSON parser (config.json, tokenizer.json), and its output written back as text.

import TensorFile

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    if let v = try? JSONValue.parse(UnsafeRawBufferPointer(start: data, count: size), what: "input") {
        _ = v.description
    }
    return 0
}
