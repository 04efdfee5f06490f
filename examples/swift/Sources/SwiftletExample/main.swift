// Swiftlet from Swift: streams a generation from a decoder (or a translation from an encoder-decoder), then
// embeds texts with an encoder and compares them.
// usage: SwiftletExample GENERATOR.gguf EMBEDDER.gguf [PROMPT]

import SwiftletKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let args = CommandLine.arguments
guard args.count == 3 || args.count == 4 else {
    print("usage: SwiftletExample GENERATOR.gguf EMBEDDER.gguf [PROMPT]")
    exit(2)
}
let prompt = args.count == 4 ? args[3] : "Once upon a time"

do {
    // Generation: the pieces arrive as an AsyncSequence while the model computes on a thread of its own.
    let generator = try Swiftlet.Model(path: args[1])
    var parameters = Swiftlet.Parameters()  // llama.cpp's sampling defaults
    parameters.seed = 42
    parameters.context = 256
    let session = try Swiftlet.Session(model: generator, parameters: parameters)
    print("\(generator.architecture), \(generator.vocabularySize) tokens; session \(session.memoryBytes / 1024) KiB")
    // A decoder continues the prompt; an encoder-decoder translates it.
    print(generator.kind == .encoderDecoder ? "\(prompt)\n→ " : prompt, terminator: "")
    for try await piece in session.stream(prompt, maxTokens: 32) {
        print(piece.text, terminator: "")
        fflush(nil)  // print buffers; nil flushes every C stream (Swift 6 refuses the global stdout)
    }
    print()

    // Embeddings: unit vectors, so a dot product is the cosine similarity.
    let embedder = try Swiftlet.Model(path: args[2])
    let encoder = try Swiftlet.Session(model: embedder)
    let texts = ["The cat sits on the mat.", "A cat is sitting on a mat.", "Stock markets fell sharply today."]
    let vectors = try texts.map { try encoder.embed($0) }
    print("\(embedder.architecture): \(embedder.embeddingSize)-dimensional embeddings")
    for (text, v) in zip(texts.dropFirst(), vectors.dropFirst()) {
        let cosine = zip(vectors[0], v).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        print("cos(\"\(texts[0])\", \"\(text)\") = \(cosine)")
    }
} catch let error as Swiftlet.Error {
    print("error: \(error.message) (status \(error.status))")
    exit(1)
}
