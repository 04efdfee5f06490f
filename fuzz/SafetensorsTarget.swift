// Fuzz target: a Hugging Face config.json and a safetensors file (the input split at its first NUL byte), read and
// planned for conversion as quantize plans it. Errors are fine; traps, hangs and unbounded allocation are not.

import Engine
import Glibc
import TensorFile

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let cut = bytes.firstIndex(of: 0) ?? size
    guard let json = try? JSONValue.parse(UnsafeRawBufferPointer(rebasing: bytes[..<cut]), what: "config.json") else { return 0 }
    let rest = cut < size ? UnsafeRawBufferPointer(rebasing: bytes[(cut + 1)...]) : UnsafeRawBufferPointer(start: nil, count: 0)
    withFile(rest) { path in
        let names = (try? SafetensorsModel(path: path)).map { Set($0.names) } ?? []
        if let plan = try? Registry.conversion(config: HFConfig(json), tensorNames: names) {
            _ = plan.tensors.map(\.ggufShape)
        }
    }
    return 0
}
