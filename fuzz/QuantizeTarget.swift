// Fuzz target: quantize on a Hugging Face directory with one file replaced by the input: its first byte picks the
// fixture directory, its second the file (config.json, tokenizer.json, tokenizer_config.json, model.safetensors,
// generation_config.json, special_tokens_map.json); the rest is the file. The other files are the fixture's
// (symlinked). The output goes to a memory-backed scratch directory and is removed.

import Converter
import Glibc

let directories = ["llama", "gpt2", "ctrl", "xlnet", "bert", "albert", "t5", "bart", "marian", "roberta"]
let files = ["config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors", "generation_config.json",
             "special_tokens_map.json"]
let scratch: String = {
    var template = Array("/dev/shm/swiftlet-fuzz-XXXXXX".utf8CString)
    guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else { fatalError("mkdtemp") }
    return String(cString: template)
}()

/// The names in `path` but . and ..
func directoryEntries(_ path: String) -> [String] {
    guard let d = opendir(path) else { return [] }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != ".", name != ".." { names.append(name) }
    }
    return names
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzQuantize(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 2 else { return 0 }
    let source = "\(dataDirectory)/hf/\(directories[Int(data[0]) % directories.count])"
    let replaced = files[Int(data[1]) % files.count]
    let dir = scratch + "/model"
    for name in files + directoryEntries(source) { unlink("\(dir)/\(name)") }  // a fresh directory per input
    mkdir(dir, 0o755)
    for name in directoryEntries(source) where name != replaced { symlink("\(source)/\(name)", "\(dir)/\(name)") }
    let fd = open("\(dir)/\(replaced)", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if size > 2 { _ = write(fd, data + 2, size - 2) }
    close(fd)
    var o = ConvertOptions()
    (o.type, o.threads, o.quiet) = (.q8_0, 1, true)
    _ = try? Converter.run(input: dir, output: scratch + "/out.gguf", options: o)
    unlink(scratch + "/out.gguf")
    return 0
}
