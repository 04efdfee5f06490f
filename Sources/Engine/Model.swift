// A loaded model: the mapped GGUF file, its tokenizer and its architecture's weights, bound and checked
// once. Immutable; any number of sessions on any threads may share one. Decoders run in a Session,
// encoders in an EncoderSession.

import Kernels
import Quant
import TensorFile
// Model.tokenizer is a Tokenizer: Engine's clients get its types with `import Engine`.
@_exported import Tokenizer

/// The families the engine runs: the one switch between them.
enum ModelFamily: Sendable {
    case llama(Llama)
    case gpt2(GPT2)
    case ctrl(CTRL)
    case xlnet(XLNet)
    case encoder(Encoder)
    case seq2seq(any EncoderDecoderNet)
}

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
        do { file = try GGUFFile(path: path) } catch { throw .file(error) }
        self.path = path
        do { architecture = try file.architecture() } catch { throw .file(error) }
        let r = WeightReader(file: file)
        switch architecture {
        case Llama.architecture: family = .llama(try Llama(r))
        case GPT2.architecture: family = .gpt2(try GPT2(r))
        case CTRL.architecture: family = .ctrl(try CTRL(r))
        case XLNet.architecture: family = .xlnet(try XLNet(r))
        case BERT.architecture: family = .encoder(try BERT.load(r))
        case ALBERT.architecture: family = .encoder(try ALBERT.load(r))
        case T5.architecture: family = .seq2seq(try T5(r))
        case BART.Family.bart.architecture: family = .seq2seq(try BARTModel(r, .bart))
        case BART.Family.marian.architecture: family = .seq2seq(try BARTModel(r, .marian))
        default: throw .unsupported("architecture '\(architecture)' (this engine runs: llama, gpt2, ctrl, xlnet, bert, albert, t5, bart, marian)")
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

    /// A decoder's sizes; nil for an encoder.
    public var decoderShape: DecoderShape? {
        switch family {
        case let .llama(m): m.shape
        case let .gpt2(m): m.shape
        case let .ctrl(m): m.shape
        case let .xlnet(m): m.shape
        case .encoder, .seq2seq: nil
        }
    }

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
        if case let .seq2seq(m) = family { return m.vocab }
        return decoderShape?.vocab ?? encoder!.shape.vocab
    }

    /// Width of the hidden states (an encoder's sentence vectors).
    public var width: Int {
        if case let .seq2seq(m) = family { return m.dim }
        return decoderShape?.dim ?? encoder!.shape.dim
    }

    /// `ARCH.context_length`, 512 when the file has none.
    func contextLength() throws(ModelError) -> Int {
        try WeightReader(file: file).count(MetadataKey.contextLength(architecture), default: 512)
    }

    var matrixTypes: Set<GGMLType> {
        switch family {
        case let .llama(m): m.matrixTypes
        case let .gpt2(m): m.matrixTypes
        case let .ctrl(m): m.matrixTypes
        case let .xlnet(m): m.matrixTypes
        case let .encoder(e): e.matrixTypes
        case let .seq2seq(m): m.matrixTypes
        }
    }

    /// Bytes of tensor data in the file (mapped, not copied).
    public var weightsBytes: Int { file.tensors.reduce(0) { $0 + $1.byteCount } }

    func forward(_ tokens: UnsafeBufferPointer<Int32>, start: Int, logitRows: Range<Int>, _ st: DecoderState) {
        switch family {
        case let .llama(m): m.forward(tokens, start: start, logitRows: logitRows, st)
        case let .gpt2(m): m.forward(tokens, start: start, logitRows: logitRows, st)
        case let .ctrl(m): m.forward(tokens, start: start, logitRows: logitRows, st)
        case let .xlnet(m): m.forward(tokens, start: start, logitRows: logitRows, st)
        case .encoder, .seq2seq: preconditionFailure("Session refuses encoders and encoder-decoders")
        }
    }
}
