// Generation through the Swift API: a decoder continues its conversation, an encoder-decoder translates, and
// each token is handed over to a closure with the text of the whole characters it completes. The same as an
// AsyncThrowingStream: Session+Stream.swift.

import Engine

extension Swiftlet {
    /// A generated token and the text it completes.
    public struct Piece: Sendable, Equatable {
        /// The token; nil for the one piece after the last token that hands over U+FFFD for a character the
        /// generation ended inside (`SWIFTLET_NO_TOKEN` in C).
        public var token: Int32?
        /// The whole characters this token completes, "" while a character's bytes are still incomplete. The
        /// pieces of a generation joined are the text of its tokens, as the CLI streams it.
        public var text: String
    }

    /// Why a generation ended. (A full context is not a stop but the error `.contextFull`, after the pieces.)
    public enum StopReason: Sendable {
        /// An end-of-generation token (EOS, EOT), handed over as the last piece.
        case eos
        /// `maxTokens` tokens.
        case length
        /// The callback returned false (or the stream's consumer went away).
        case stopped
    }
}

extension Swiftlet.Session {
    /// Generates up to `maxTokens` tokens, handing each to `onPiece`, which returns false to stop. A decoder
    /// appends the tokenized prompt (BOS where the tokenizer adds one, on an empty context) to its conversation,
    /// so successive calls continue one conversation, and evaluates only what its cache does not already hold.
    /// An encoder-decoder translates the prompt as a new source, sampling the target as the parameters say or,
    /// with beams > 1, handing over the best beam's tokens once the search ends. Encoder models: `.unsupported`.
    /// A full context throws `.contextFull` after the pieces generated so far.
    @discardableResult
    public func generate(_ prompt: String, maxTokens: Int,
                         onPiece: (Swiftlet.Piece) -> Bool) throws(Swiftlet.Error) -> Swiftlet.StopReason {
        guard maxTokens >= 1 else { throw Swiftlet.Error(.invalidArgument, "maxTokens \(maxTokens): at least one new token is needed") }
        return try locked { (s) throws(Swiftlet.Error) -> Swiftlet.StopReason in
            switch s.engine {
            case let .decoder(d): return try continueConversation(d, &s.conversation, prompt, maxTokens, onPiece)
            case let .seq2seq(e): return try translate(e, prompt, maxTokens, onPiece)
            case .encoder: throw Swiftlet.Error(.unsupported, "an encoder model does not generate (embed with it)")
            }
        }
    }

    /// A decoder's generation: the conversation so far plus the prompt, the cached prefix reused.
    private func continueConversation(_ d: Engine.Session, _ conversation: inout [Int32], _ prompt: String, _ maxTokens: Int,
                                      _ onPiece: (Swiftlet.Piece) -> Bool) throws(Swiftlet.Error) -> Swiftlet.StopReason {
        let tokenizer = d.model.tokenizer
        let ids = conversation + tokenizer.encode(prompt, addSpecial: conversation.isEmpty)
        guard !ids.isEmpty else { throw Swiftlet.Error(.invalidArgument, "the prompt is empty") }
        var o = GenerateOptions()
        o.maxTokens = maxTokens
        var sampler = Sampler(parameters.sampler, vocabSize: d.shape.vocab)
        var text = TextStream(tokenizer)
        let r: GenerateResult
        do { r = try d.generate(prompt: ids, o, sampler: &sampler) { emit($0, &text, onPiece) } } catch { throw Swiftlet.Error(error) }
        conversation = ids + r.ids
        return try end(r.stop, &text, onPiece, full: "the context of \(d.context) tokens is full")
    }

    /// An encoder-decoder's generation: the prompt is a new source; the target is sampled, or searched with beams.
    private func translate(_ e: Seq2SeqSession, _ prompt: String, _ maxTokens: Int,
                           _ onPiece: (Swiftlet.Piece) -> Bool) throws(Swiftlet.Error) -> Swiftlet.StopReason {
        let tokenizer = e.model.tokenizer
        var text = TextStream(tokenizer)
        let stop: Engine.StopReason
        do {
            try e.encode(tokenizer.encode(prompt, addSpecial: true))
            if e.beams > 1 {
                let g = e.model.generation  // the model's length penalty and early stopping, as the CLI's default
                let best = try e.beamSearch(maxTokens: maxTokens, lengthPenalty: g.lengthPenalty, earlyStopping: g.earlyStopping)[0]
                for id in best.ids.dropFirst() where !emit(id, &text, onPiece) { return .stopped }
                stop = best.ids.last.map(tokenizer.isEndOfGeneration) == true ? .eos : .length
            } else {
                var sampler = Sampler(parameters.sampler, vocabSize: e.model.vocabSize)
                stop = try e.generate(maxTokens: maxTokens, sampler: &sampler) { emit($0, &text, onPiece) }.stop
            }
        } catch {
            throw Swiftlet.Error(error)
        }
        return try end(stop, &text, onPiece, full: "the target limit of \(e.targetLimit) tokens is full")
    }
}

/// Hands `id` to `onPiece` with the text it completes; false: stop.
private func emit(_ id: Int32, _ text: inout TextStream, _ onPiece: (Swiftlet.Piece) -> Bool) -> Bool {
    var piece = ""
    text.push(id) { piece += String(decoding: $0, as: UTF8.self) }
    return onPiece(Swiftlet.Piece(token: id, text: piece))
}

/// The end of a generation: unless the callback stopped it, a character it ended inside goes out as U+FFFD in a
/// last piece; a full context (`full` says which) throws.
private func end(_ stop: StopReason, _ text: inout TextStream, _ onPiece: (Swiftlet.Piece) -> Bool,
                 full: @autoclosure () -> String) throws(Swiftlet.Error) -> Swiftlet.StopReason {
    guard stop != .stopped else { return .stopped }
    text.finish { bytes in
        if !bytes.isEmpty { _ = onPiece(Swiftlet.Piece(token: nil, text: String(decoding: bytes, as: UTF8.self))) }
    }
    switch stop {
    case .eos: return .eos
    case .length: return .length
    case .stopped: return .stopped
    case .context: throw Swiftlet.Error(.contextFull, full())
    }
}
