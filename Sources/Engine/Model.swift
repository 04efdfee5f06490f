// A loaded model: the mapped GGUF file, its tokenizer and its architecture's weights, bound and checked
// once. Immutable; any number of sessions on any threads may share one. Decoders run in a Session,
// encoders in an EncoderSession.

import Kernels
import Quant
import TensorFile
// Model.tokenizer is a Tokenizer: Engine's clients get its types with `import Engine`.
@_exported import Tokenizer

public final class Model: Sendable {
    public let path: String
    public let file: GGUFFile
    public let architecture: String
    public let tokenizer: Tokenizer
    let family: ModelFamily
    /// An encoder-decoder's generation defaults and logits processors (none for other models).
    public let generation: GenerationConfig

    /// Maps and validates `path`: the file's structure, then every tensor the architecture needs against
    /// its hyperparameters, then the tokenizer.
    public init(path: String) throws(ModelError) {
        // A SWIFTLET_CPU naming a kernel set this build or CPU cannot run is an error, not a silent fallback.
        if case let .failure(error) = KernelSet.selection { throw .invalidInput(error.description) }
        do { file = try GGUFFile(path: path) } catch { throw .file(error) }
        self.path = path
        do { architecture = try file.architecture() } catch { throw .file(error) }
        let r = WeightReader(file: file)
        guard let entry = Registry.entry(architecture: architecture) else {
            throw .unsupported("architecture '\(architecture)' (this engine runs: \(Registry.architectures))")
        }
        family = try entry.load(r)
        // In the file's order, so the first stray tensor is the one named.
        if let stray = file.tensors.first(where: { !r.bound.names.contains($0.name) }) {
            throw .unexpectedTensor(stray.name)
        }
        if case let .seq2seq(net) = family {
            generation = try GenerationConfig(r, architecture: architecture, vocab: net.vocab)
        } else {
            generation = GenerationConfig()
        }
        do { tokenizer = try Tokenizer(file) } catch { throw ModelError(error) }
        guard tokenizer.vocabSize <= vocabSize else {
            throw .tokenizer("\(tokenizer.vocabSize) tokens, but the embedding has only \(vocabSize) rows")
        }
    }

    /// The decoder, for a decoder model.
    var decoder: (any DecoderNet)? {
        if case let .decoder(d) = family { d } else { nil }
    }

    /// A decoder's sizes; nil for an encoder or an encoder-decoder.
    public var decoderShape: DecoderShape? { decoder?.shape }

    /// Whether this is an encoder-decoder (a Seq2SeqSession runs it).
    public var isEncoderDecoder: Bool {
        if case .seq2seq = family { true } else { false }
    }

    /// The encoder, for an encoder model.
    public var encoder: Encoder? {
        if case let .encoder(e) = family { e } else { nil }
    }

    /// Rows of the token embedding.
    public var vocabSize: Int {
        switch family {
        case let .decoder(d): d.shape.vocab
        case let .encoder(e): e.shape.vocab
        case let .seq2seq(m): m.vocab
        }
    }

    /// Width of the hidden states (an encoder's sentence vectors).
    public var width: Int {
        switch family {
        case let .decoder(d): d.shape.dim
        case let .encoder(e): e.shape.dim
        case let .seq2seq(m): m.dim
        }
    }

    /// `ARCH.context_length`, 512 when the file has none.
    public func contextLength() throws(ModelError) -> Int {
        try WeightReader(file: file).count(MetadataKey.contextLength(architecture), default: 512)
    }

    /// Bytes of tensor data in the file (mapped, not copied).
    public var weightsBytes: Int { file.tensors.reduce(0) { $0 + $1.byteCount } }

    /// The kind of model, for messages that refuse a session of another kind.
    var kind: String {
        switch family {
        case .decoder: "a decoder"
        case .encoder: "an encoder"
        case .seq2seq: "an encoder-decoder"
        }
    }
}
