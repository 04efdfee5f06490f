// A session as the Swift API shows it: the engine's session for the model's kind, created once with its whole
// arena, behind a lock so that one call at a time uses it, whatever the thread. Logits and embeddings here;
// generation in Session+Generate.swift.

import Engine
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

extension Swiftlet {
    /// One context of a model: a decoder's conversation, an encoder-decoder's translation or an encoder's
    /// embeddings. Its memory (activations, KV cache) is allocated once, at creation. Calls from several threads
    /// take turns; a call from a session's own generation callback into the same session throws
    /// `.invalidArgument` (it would otherwise wait for itself).
    public final class Session: @unchecked Sendable {  // `state` is touched only holding `lock`
        /// The model the session runs; the session keeps it open.
        public let model: Model
        /// The parameters the session was created with.
        public let parameters: Parameters
        /// Bytes of the session's arena and KV cache, fixed at creation.
        public let memoryBytes: Int
        /// Guards `state`. A pthread mutex, not Synchronization's Mutex: ThreadSanitizer follows pthread locks but
        /// not Mutex's futex, and reported the state's accesses as races (tools/sanitize.sh).
        private let lock: UnsafeMutablePointer<pthread_mutex_t>
        private var state: State
        /// The thread inside a call (pthread_self), 0 when none: how a callback's call back in is caught.
        private let owner = Atomic<UInt>(0)

        /// What the lock guards. Unchecked: the engine's sessions are not Sendable, but only a call holding the
        /// lock touches them, and region checking cannot follow them into the callbacks and buffers they meet.
        struct State: @unchecked Sendable {
            let engine: EngineSession
            /// A decoder's conversation, prompts and generated tokens; the cache holds all but the last.
            var conversation: [Int32] = []
        }

        enum EngineSession {
            case decoder(Engine.Session)
            case encoder(EncoderSession)
            case seq2seq(Seq2SeqSession)
        }

        /// Creates a session on `model`, allocating all its memory. Encoder models use only `threads`.
        /// Throws `.invalidArgument` for a parameter out of range, `.unsupported` for beams on a model that is
        /// not an encoder-decoder, `.outOfMemory` when the session would not fit in memory.
        public init(model: Model, parameters: Parameters = Parameters()) throws(Error) {
            let m = model.engine, p = parameters
            try p.check(for: m)
            let engine: EngineSession
            do {
                switch model.kind {
                case .encoder:
                    var o = EncoderOptions()
                    o.threads = p.threads
                    engine = .encoder(try EncoderSession(m, o))
                case .encoderDecoder:
                    var o = Seq2SeqOptions()
                    o.target = p.context
                    o.threads = p.threads
                    o.beams = p.beams
                    engine = .seq2seq(try Seq2SeqSession(m, o))
                case .decoder:
                    var o = SessionOptions()
                    o.context = p.context
                    o.threads = p.threads
                    engine = .decoder(try Engine.Session(m, o))
                }
            } catch {
                throw Error(error)
            }
            memoryBytes = switch engine {
            case let .decoder(s): s.plan.bytes
            case let .encoder(s): s.plan.bytes
            case let .seq2seq(s): s.plan.bytes
            }
            state = State(engine: engine)
            lock = .allocate(capacity: 1)
            pthread_mutex_init(lock, nil)
            self.model = model
            self.parameters = parameters
        }

        /// Runs `body` holding the session, waiting for another thread's call to end; a call back in from
        /// this thread's own call throws instead of waiting forever.
        func locked<R: Sendable>(_ body: (inout State) throws(Error) -> R) throws(Error) -> R {
            let me = pthread_self()
            // Only this thread stores its own id, so seeing it means this thread is inside a call.
            guard owner.load(ordering: .relaxed) != me else {
                throw Error(.invalidArgument, "a session's callback called into the same session")
            }
            pthread_mutex_lock(lock)
            defer { pthread_mutex_unlock(lock) }
            owner.store(me, ordering: .relaxed)
            defer { owner.store(0, ordering: .relaxed) }
            return try body(&state)
        }

        deinit {
            pthread_mutex_destroy(lock)
            lock.deallocate()
        }

        /// Forgets the context: the next prompt starts a new conversation. From the session's own callback it
        /// does nothing.
        public func reset() {
            try? locked { s in
                if case let .decoder(d) = s.engine { d.reset() }
                s.conversation = []
            }
        }

        /// Resets, evaluates `ids` from position 0 and returns the logits after the last (vocabularySize of them);
        /// a decoder's next `generate` continues from `ids`. Encoder models give their masked-LM logits at the
        /// last id (`.unsupported` without a masked-LM head); encoder-decoders are `.unsupported` (their logits
        /// need a target too). `.invalidArgument` for no ids or one outside the vocabulary.
        public func logits(_ ids: [Int32]) throws(Error) -> [Float] {
            var row = [Float](repeating: 0, count: model.vocabularySize)
            try ids.withUnsafeBufferPointer { (ids) throws(Error) in
                try row.withUnsafeMutableBufferPointer { (out) throws(Error) in try logits(ids, into: out) }
            }
            return row
        }

        /// `logits(_:)` into a buffer of at least vocabularySize floats (`.bufferTooSmall` otherwise): the C API's.
        @_spi(C) public func logits(_ ids: UnsafeBufferPointer<Int32>, into out: UnsafeMutableBufferPointer<Float>) throws(Error) {
            guard !ids.isEmpty else { throw Error(.invalidArgument, "no ids") }
            try locked { s throws(Error) in
                switch s.engine {
                case let .encoder(e): try maskedLM(e, Array(ids), into: out)
                case .seq2seq:
                    throw Error(.unsupported, "an encoder-decoder's logits need a target as well (the CLI's --decoder-ids)")
                case let .decoder(d):
                    let vocab = d.shape.vocab
                    guard out.count >= vocab else { throw tooSmall(out.count, vocab, "the vocabulary size") }
                    d.reset()
                    s.conversation = []
                    do throws(ModelError) {
                        let row = try d.evaluate(ids)
                        _ = out.update(fromContentsOf: row)
                        s.conversation = Array(ids)
                    } catch {
                        d.reset()
                        throw Error(error)
                    }
                }
            }
        }

        /// An encoder's masked-LM logits at the last of `ids`.
        private func maskedLM(_ e: EncoderSession, _ ids: [Int32], into out: UnsafeMutableBufferPointer<Float>) throws(Error) {
            guard e.encoder.hasMaskedLM else { throw Error(.unsupported, "this encoder has no masked-LM head (embed with it)") }
            let vocab = e.encoder.shape.vocab
            guard out.count >= vocab else { throw tooSmall(out.count, vocab, "the vocabulary size") }
            do {
                try e.run([EncoderInput(ids: ids)])
                try e.maskedLM(0, at: [ids.count - 1]) { _, row in _ = out.update(fromContentsOf: row) }
            } catch {
                throw Error(error)
            }
        }

        /// The sentence vector of `text` (embeddingSize floats): tokenized with the model's special tokens, cut to
        /// its input limit (e.g. sentence-transformers' max_seq_length), pooled as the model says (mean when it
        /// says nothing), scaled to unit length, as `swiftlet embed --normalize`. Encoder models only: others are
        /// `.unsupported`.
        public func embed(_ text: String) throws(Error) -> [Float] {
            var v = [Float](repeating: 0, count: model.embeddingSize)
            try v.withUnsafeMutableBufferPointer { (out) throws(Error) in try embed(text, into: out) }
            return v
        }

        /// `embed(_:)` into a buffer of at least embeddingSize floats (`.bufferTooSmall` otherwise): the C API's.
        @_spi(C) public func embed(_ text: String, into out: UnsafeMutableBufferPointer<Float>) throws(Error) {
            try locked { s throws(Error) in
                guard case let .encoder(e) = s.engine else {
                    throw Error(.unsupported, "embeddings come from encoder models; this model is not one")
                }
                let dim = e.encoder.shape.dim
                guard out.count >= dim else { throw tooSmall(out.count, dim, "the embedding size") }
                let encoding = e.model.tokenizer.encode(text, maxTokens: e.encoder.maxTokens)
                do throws(ModelError) { try e.run([EncoderInput(ids: encoding.ids, typeIds: encoding.typeIds)]) } catch { throw Error(error) }
                let pooling = e.encoder.pooling == .none ? .mean : e.encoder.pooling
                _ = out.update(fromContentsOf: e.embedding(0, pooling: pooling, normalize: true))
            }
        }
    }
}

private func tooSmall(_ capacity: Int, _ needed: Int, _ what: String) -> Swiftlet.Error {
    Swiftlet.Error(.bufferTooSmall, "capacity \(capacity) is less than \(what) \(needed)")
}
