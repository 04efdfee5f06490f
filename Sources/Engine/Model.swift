// A loaded model: the mapped GGUF file, its tokenizer and its architecture's weights, bound and checked
// once. Immutable; any number of sessions on any threads may share one.

import Kernels
import Quant
import TensorFile

/// The decoder families the engine runs: the one switch between them.
enum DecoderFamily: Sendable {
    case llama(Llama)
    case gpt2(GPT2)
}

public final class Model: Sendable {
    public let path: String
    public let file: GGUFFile
    public let architecture: String
    public let tokenizer: Tokenizer
    let family: DecoderFamily

    /// Maps and validates `path`: the file's structure, then every tensor the architecture needs against
    /// its hyperparameters, then the tokenizer.
    public init(path: String) throws(ModelError) {
        do { file = try GGUFFile(path: path) } catch { throw .file(error) }
        self.path = path
        do { architecture = try file.architecture() } catch { throw .file(error) }
        let r = WeightReader(file: file)
        switch architecture {
        case Llama.architecture: family = .llama(try Llama(r))
        case GPT2.architecture: family = .gpt2(try GPT2(r))
        default: throw .unsupported("architecture '\(architecture)' for generation (this engine runs: llama, gpt2)")
        }
        tokenizer = try Tokenizer(file)
        guard tokenizer.vocabSize <= shape.vocab else {
            throw .tokenizer("\(tokenizer.vocabSize) tokens, but the embedding has only \(shape.vocab) rows")
        }
    }

    public var shape: DecoderShape {
        switch family {
        case let .llama(m): m.shape
        case let .gpt2(m): m.shape
        }
    }

    var matrixTypes: Set<GGMLType> {
        switch family {
        case let .llama(m): m.matrixTypes
        case let .gpt2(m): m.matrixTypes
        }
    }

    /// Bytes of tensor data in the file (mapped, not copied).
    public var weightsBytes: Int { file.tensors.reduce(0) { $0 + $1.byteCount } }

    func forward(_ tokens: UnsafeBufferPointer<Int32>, start: Int, logitRows: Range<Int>, _ st: DecoderState) {
        switch family {
        case let .llama(m): m.forward(tokens, start: start, logitRows: logitRows, st)
        case let .gpt2(m): m.forward(tokens, start: start, logitRows: logitRows, st)
        }
    }
}
