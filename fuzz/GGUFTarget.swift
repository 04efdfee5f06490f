// Fuzz target: a GGUF file, read, loaded as a model (every architecture's checks) and, when it loads, run for one
// token in a small session. Nothing may trap, hang or allocate without bound; errors are fine.

import Engine
import Glibc
import TensorFile

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    withFile(UnsafeRawBufferPointer(start: data, count: size)) { path in
        if let model = try? Model(path: path) { run(model) }
    }
    return 0
}

/// A few tokens through the model's own kind of session, as small as it gets.
func run(_ model: Model) {
    let ids = model.tokenizer.encode("Hello, world! 123", addSpecial: true)
    _ = model.tokenizer.decode(ids)
    if model.decoderShape != nil {
        var o = SessionOptions()
        o.context = 8
        o.threads = 1
        o.memoryLimit = 256 << 20
        if let s = try? Session(model, o) {
            _ = try? (Array(ids.prefix(4)) + [0]).withUnsafeBufferPointer { (p) throws(ModelError) in try s.evaluate(p) }
        }
    } else if model.isEncoderDecoder {
        var o = Seq2SeqOptions()
        (o.source, o.target, o.threads, o.memoryLimit) = (8, 4, 1, 256 << 20)
        if let s = try? Seq2SeqSession(model, o), (try? s.encode(Array(ids.prefix(8)))) != nil {
            var p = SamplerParams()
            p.temperature = 0
            var sampler = Sampler(p, vocabSize: model.vocabSize)
            _ = try? s.generate(maxTokens: 2, sampler: &sampler) { _ in true }
        }
    } else if model.encoder != nil {
        var o = EncoderOptions()
        (o.threads, o.tokens) = (1, 8)
        if let s = try? EncoderSession(model, o) { try? s.run([EncoderInput(ids: Array(ids.prefix(8)))]) }
    }
}
