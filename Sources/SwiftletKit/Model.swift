// A model as the Swift API shows it: opened from a GGUF file, its sizes and kind, and its tokenizer.

import Engine

extension Swiftlet {
    /// A GGUF model, mapped and checked once: its weights stay in the file's mapping. Immutable; any number of
    /// sessions on any threads may share one.
    public final class Model: Sendable {
        /// What the sessions of a model do.
        public enum Kind: Sendable {
            /// Generates: Llama, Mistral, Mixtral, SmolLM2, GPT-2, CTRL, XLNet.
            case decoder
            /// Embeds (and gives masked-LM logits): BERT, RoBERTa, DistilBERT, ALBERT, sentence-transformers.
            case encoder
            /// Translates: T5, FLAN-T5, BART, Marian.
            case encoderDecoder
        }

        let engine: Engine.Model

        /// Maps and checks the GGUF file at `path`: its structure, every tensor the architecture needs, the
        /// tokenizer. Throws `.io` when the file cannot be read, `.format` when it is not a valid model and
        /// `.unsupported` for an architecture the engine does not run.
        public init(path: String) throws(Error) {
            do { engine = try Engine.Model(path: path) } catch { throw Error(error) }
        }

        /// `general.architecture`, e.g. "llama" or "bert".
        public var architecture: String { engine.architecture }

        /// Decoder, encoder or encoder-decoder: which of a session's calls apply.
        public var kind: Kind {
            if engine.encoder != nil { return .encoder }
            return engine.isEncoderDecoder ? .encoderDecoder : .decoder
        }

        /// Tokens in the vocabulary: ids are 0..<vocabularySize.
        public var vocabularySize: Int { engine.vocabSize }

        /// Width of the hidden states: the length of an encoder's embeddings.
        public var embeddingSize: Int { engine.width }

        /// The token ids of `text`, special tokens (BOS, [CLS] … [SEP], EOS) added as the model's own tokenizer
        /// adds them when `addSpecial`. Special tokens spelled out in `text` are recognised.
        public func tokenize(_ text: String, addSpecial: Bool = true) -> [Int32] {
            engine.tokenizer.encode(text, addSpecial: addSpecial)
        }

        /// The text of `ids`, as the model's tokenizer decodes them (control tokens show as nothing). Throws
        /// `.invalidArgument` for an id outside the vocabulary.
        public func detokenize(_ ids: [Int32]) throws(Error) -> String {
            if let bad = ids.firstIndex(where: { $0 < 0 || Int($0) >= vocabularySize }) {
                throw Error(.invalidArgument, "id \(ids[bad]) at index \(bad) is not in the vocabulary (0..<\(vocabularySize))")
            }
            return engine.tokenizer.decode(ids)
        }
    }
}
