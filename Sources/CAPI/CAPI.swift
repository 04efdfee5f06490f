// The C surface of libswiftlet.a (include/swiftlet.h): translation between C and the engine, nothing more.
// Every entry point checks its arguments and returns a status; errors leave a per-thread message.

import CSwiftlet
import Engine
import TensorFile
#if canImport(Glibc)
import Glibc
#endif

// MARK: errors

/// The calling thread's last error message, a malloc'd C string freed when the thread ends or is replaced.
private let errorKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { free($0) }
    return key
}()

private func fail(_ status: swiftlet_status, _ message: String) -> swiftlet_status {
    free(pthread_getspecific(errorKey))
    pthread_setspecific(errorKey, strdup(message))
    return status
}

private func fail(_ error: ModelError) -> swiftlet_status {
    switch error {
    case let .file(e):
        if case .io = e { return fail(SWIFTLET_ERR_IO, e.description) }  // open, mmap, read
        return fail(SWIFTLET_ERR_FORMAT, e.description)                     // the reader's message
    case .unknownArchitecture, .unsupported: return fail(SWIFTLET_ERR_UNSUPPORTED, error.description)
    case .config, .missingTensor, .unexpectedTensor, .shape, .tokenizer: return fail(SWIFTLET_ERR_FORMAT, error.description)
    case .outOfMemory: return fail(SWIFTLET_ERR_OUT_OF_MEMORY, error.description)
    case .invalidInput: return fail(SWIFTLET_ERR_INVALID_ARGUMENT, error.description)
    case .contextFull: return fail(SWIFTLET_ERR_CONTEXT_FULL, error.description)
    }
}

private let emptyString: StaticString = ""
private let versionString: StaticString = "0.4.0"

@_cdecl("swiftlet_version")
public func swiftlet_version() -> UnsafePointer<CChar> {
    UnsafeRawPointer(versionString.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("swiftlet_last_error")
public func swiftlet_last_error() -> UnsafePointer<CChar> {
    if let message = pthread_getspecific(errorKey) { return UnsafePointer(message.assumingMemoryBound(to: CChar.self)) }
    return UnsafeRawPointer(emptyString.utf8Start).assumingMemoryBound(to: CChar.self)
}

// MARK: handles

/// What a swiftlet_model* points to.
final class ModelHandle {
    let model: Model
    init(_ model: Model) { self.model = model }
}

/// What a swiftlet_session* points to: a decoder's session, its sampler and the conversation so far, or an
/// encoder's session.
final class SessionHandle {
    let decoder: Session?
    let encoder: EncoderSession?
    let seq2seq: Seq2SeqSession?
    let params: SamplerParams
    /// Every token of the conversation (prompts and generated), of which the cache holds all but the last.
    var conversation: [Int32] = []
    init(decoder: Session? = nil, encoder: EncoderSession? = nil, seq2seq: Seq2SeqSession? = nil, _ params: SamplerParams) {
        self.decoder = decoder
        self.encoder = encoder
        self.seq2seq = seq2seq
        self.params = params
    }
}

private func model(_ p: OpaquePointer?) -> Model? {
    p.map { Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue().model }
}

private func session(_ p: OpaquePointer?) -> SessionHandle? {
    p.map { Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

/// UTF-8 text from a C pointer and length; nil (with the error set) when NULL with a length, or invalid.
private func text(_ p: UnsafePointer<CChar>?, _ n: Int, _ what: String) -> String? {
    guard n > 0 else { return "" }
    guard let p else { _ = fail(SWIFTLET_ERR_INVALID_ARGUMENT, "\(what) is NULL with length \(n)"); return nil }
    let bytes = UnsafeRawBufferPointer(start: p, count: n).bindMemory(to: UInt8.self)
    guard let s = String(validating: bytes, as: UTF8.self) else {
        _ = fail(SWIFTLET_ERR_INVALID_ARGUMENT, "\(what) is not valid UTF-8")
        return nil
    }
    return s
}

// MARK: models

@_cdecl("swiftlet_model_open")
public func swiftlet_model_open(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> swiftlet_status {
    guard let out else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_model_open: out is NULL") }
    out.pointee = nil
    guard let path else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_model_open: path is NULL") }
    do {
        let m = try Model(path: String(cString: path))
        out.pointee = OpaquePointer(Unmanaged.passRetained(ModelHandle(m)).toOpaque())
        return SWIFTLET_OK
    } catch {
        return fail(error)
    }
}

@_cdecl("swiftlet_model_close")
public func swiftlet_model_close(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("swiftlet_model_vocab_size")
public func swiftlet_model_vocab_size(_ p: OpaquePointer?) -> Int32 {
    guard let m = model(p) else { _ = fail(SWIFTLET_ERR_INVALID_ARGUMENT, "model is NULL"); return -1 }
    return Int32(m.vocabSize)
}

@_cdecl("swiftlet_model_embedding_size")
public func swiftlet_model_embedding_size(_ p: OpaquePointer?) -> Int32 {
    guard let m = model(p) else { _ = fail(SWIFTLET_ERR_INVALID_ARGUMENT, "model is NULL"); return -1 }
    return Int32(m.width)
}

// MARK: sessions

@_cdecl("swiftlet_default_params")
public func swiftlet_default_params() -> swiftlet_params {
    let s = SamplerParams()
    return swiftlet_params(n_ctx: 0, n_threads: 0, temperature: s.temperature, top_k: Int32(s.topK), top_p: s.topP,
                           min_p: s.minP, repeat_penalty: s.repeatPenalty, n_beams: 1, seed: UInt64.max)
}

@_cdecl("swiftlet_session_create")
public func swiftlet_session_create(_ mp: OpaquePointer?, _ params: UnsafePointer<swiftlet_params>?,
                                    _ out: UnsafeMutablePointer<OpaquePointer?>?) -> swiftlet_status {
    guard let out else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_session_create: out is NULL") }
    out.pointee = nil
    guard let m = model(mp) else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_session_create: model is NULL") }
    let p = params?.pointee ?? swiftlet_default_params()
    guard p.n_ctx >= 0, p.n_threads >= 0, p.top_k >= 0, p.temperature.isFinite, p.temperature >= 0,
          (0...1).contains(p.top_p), (0...1).contains(p.min_p), p.repeat_penalty.isFinite, p.repeat_penalty > 0 else {
        return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_session_create: a parameter is out of range "
            + "(n_ctx, n_threads, top_k ≥ 0; temperature ≥ 0; top_p, min_p in [0, 1]; repeat_penalty > 0)")
    }
    guard p.n_beams >= 1, p.n_beams <= 64 else {
        return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_session_create: n_beams \(p.n_beams) is not in 1...64")
    }
    guard p.n_beams == 1 || m.isEncoderDecoder else {
        return fail(SWIFTLET_ERR_UNSUPPORTED, "beam search (n_beams \(p.n_beams)) is for encoder-decoder models")
    }
    var o = SessionOptions()
    o.context = Int(p.n_ctx)
    o.threads = Int(p.n_threads)
    var s = SamplerParams()
    s.temperature = p.temperature
    s.topK = Int(p.top_k)
    s.topP = p.top_p
    s.minP = p.min_p
    s.repeatPenalty = p.repeat_penalty
    s.seed = p.seed == UInt64.max ? nil : p.seed
    do {
        let handle: SessionHandle
        if m.encoder != nil {
            var e = EncoderOptions()
            e.threads = Int(p.n_threads)
            handle = SessionHandle(encoder: try EncoderSession(m, e), s)
        } else if m.isEncoderDecoder {
            var e = Seq2SeqOptions()
            e.target = Int(p.n_ctx)
            e.threads = Int(p.n_threads)
            e.beams = Int(p.n_beams)
            handle = SessionHandle(seq2seq: try Seq2SeqSession(m, e), s)
        } else {
            handle = SessionHandle(decoder: try Session(m, o), s)
        }
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
        return SWIFTLET_OK
    } catch {
        return fail(error)
    }
}

@_cdecl("swiftlet_session_free")
public func swiftlet_session_free(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("swiftlet_session_memory_bytes")
public func swiftlet_session_memory_bytes(_ p: OpaquePointer?) -> Int {
    guard let h = session(p) else { return 0 }
    return h.decoder?.plan.bytes ?? h.encoder?.plan.bytes ?? h.seq2seq?.plan.bytes ?? 0
}

@_cdecl("swiftlet_session_reset")
public func swiftlet_session_reset(_ p: OpaquePointer?) {
    guard let h = session(p) else { return }
    h.decoder?.reset()
    h.conversation = []
}

// MARK: tokens

@_cdecl("swiftlet_tokenize")
public func swiftlet_tokenize(_ mp: OpaquePointer?, _ textPointer: UnsafePointer<CChar>?, _ textLength: Int, _ addSpecial: Bool,
                              _ ids: UnsafeMutablePointer<Int32>?, _ capacity: Int,
                              _ count: UnsafeMutablePointer<Int>?) -> swiftlet_status {
    guard let m = model(mp) else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_tokenize: model is NULL") }
    guard let count else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_tokenize: n_ids is NULL") }
    guard ids != nil || capacity == 0 else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_tokenize: ids is NULL") }
    guard let s = text(textPointer, textLength, "swiftlet_tokenize: text") else { return SWIFTLET_ERR_INVALID_ARGUMENT }
    let tokens = m.tokenizer.encode(s, addSpecial: addSpecial)
    count.pointee = tokens.count
    if let ids { for i in 0..<min(capacity, tokens.count) { ids[i] = tokens[i] } }
    guard tokens.count <= capacity else {
        return fail(SWIFTLET_ERR_BUFFER_TOO_SMALL, "swiftlet_tokenize: \(tokens.count) ids do not fit in \(capacity)")
    }
    return SWIFTLET_OK
}

@_cdecl("swiftlet_detokenize")
public func swiftlet_detokenize(_ mp: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ n: Int,
                                _ out: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                _ length: UnsafeMutablePointer<Int>?) -> swiftlet_status {
    guard let m = model(mp) else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_detokenize: model is NULL") }
    guard let length else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_detokenize: text_len is NULL") }
    guard ids != nil || n == 0 else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_detokenize: ids is NULL") }
    guard out != nil || capacity == 0 else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_detokenize: text is NULL") }
    let list = Array(UnsafeBufferPointer(start: ids, count: n))
    let vocab = m.vocabSize
    if let bad = list.firstIndex(where: { $0 < 0 || Int($0) >= vocab }) {
        return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_detokenize: id \(list[bad]) at index \(bad) is not in the vocabulary (0..<\(vocab))")
    }
    let bytes = Array(m.tokenizer.decode(list).utf8)
    length.pointee = bytes.count
    if let out { for i in 0..<min(capacity, bytes.count) { out[i] = CChar(bitPattern: bytes[i]) } }
    guard bytes.count <= capacity else {
        return fail(SWIFTLET_ERR_BUFFER_TOO_SMALL, "swiftlet_detokenize: \(bytes.count) bytes do not fit in \(capacity)")
    }
    return SWIFTLET_OK
}

// MARK: generation

@_cdecl("swiftlet_generate")
public func swiftlet_generate(_ sp: OpaquePointer?, _ promptPointer: UnsafePointer<CChar>?, _ promptLength: Int,
                              _ maxTokens: Int32, _ onToken: swiftlet_token_fn?,
                              _ user: UnsafeMutableRawPointer?) -> swiftlet_status {
    guard let h = session(sp) else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_generate: session is NULL") }
    guard maxTokens >= 1 else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_generate: max_tokens \(maxTokens) < 1") }
    guard let prompt = text(promptPointer, promptLength, "swiftlet_generate: prompt") else { return SWIFTLET_ERR_INVALID_ARGUMENT }
    if let s = h.seq2seq { return translate(s, h.params, prompt, Int(maxTokens), onToken, user) }
    guard let session = h.decoder else {
        return fail(SWIFTLET_ERR_UNSUPPORTED, "swiftlet_generate: this is an encoder model (use swiftlet_embed)")
    }
    let tokenizer = session.model.tokenizer
    let conversation = h.conversation + tokenizer.encode(prompt, addSpecial: h.conversation.isEmpty)
    guard !conversation.isEmpty else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_generate: the prompt is empty") }
    var o = GenerateOptions()
    o.maxTokens = Int(maxTokens)
    var sampler = Sampler(h.params, vocabSize: session.shape.vocab)
    var stream = TextStream(tokenizer)
    do {
        let r = try session.generate(prompt: conversation, o, sampler: &sampler) { emit($0, &stream, onToken, user) }
        h.conversation = conversation + r.ids
        if r.stop != .stopped, let onToken { finish(&stream, onToken, user) }
        if r.stop == .context { return fail(SWIFTLET_ERR_CONTEXT_FULL, "swiftlet_generate: the context of \(session.context) tokens is full") }
        return SWIFTLET_OK
    } catch {
        return fail(error)
    }
}

/// Hands `id` to `onToken` with the text it completes (none while a character is incomplete); false: stop.
private func emit(_ id: Int32, _ stream: inout TextStream, _ onToken: swiftlet_token_fn?, _ user: UnsafeMutableRawPointer?) -> Bool {
    guard let onToken else { return true }
    var emitted = false, keepGoing = true
    stream.push(id) { bytes in
        emitted = true
        keepGoing = onToken(id, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count, user)
    }
    if !emitted { keepGoing = onToken(id, nil, 0, user) }
    return keepGoing
}

/// The bytes of a character the generation ended inside, as U+FFFD, in a last call with SWIFTLET_NO_TOKEN.
private func finish(_ stream: inout TextStream, _ onToken: swiftlet_token_fn, _ user: UnsafeMutableRawPointer?) {
    stream.finish { bytes in
        guard !bytes.isEmpty else { return }
        _ = onToken(-1, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count, user)
    }
}

/// An encoder-decoder's swiftlet_generate: the prompt is a new source; the target is sampled (or, with n_beams > 1,
/// the best beam), each token handed to `onToken` with the text it completes.
private func translate(_ s: Seq2SeqSession, _ params: SamplerParams, _ prompt: String, _ maxTokens: Int,
                       _ onToken: swiftlet_token_fn?, _ user: UnsafeMutableRawPointer?) -> swiftlet_status {
    let tokenizer = s.model.tokenizer
    var stream = TextStream(tokenizer)
    do {
        try s.encode(tokenizer.encode(prompt, addSpecial: true))
        if s.beams > 1 {
            let g = s.model.generation  // the model's length penalty and early stopping, as the CLI's default
            let best = try s.beamSearch(maxTokens: maxTokens, lengthPenalty: g.lengthPenalty, earlyStopping: g.earlyStopping)[0]
            for id in best.ids.dropFirst() where !emit(id, &stream, onToken, user) { return SWIFTLET_OK }
            if let onToken { finish(&stream, onToken, user) }
            return SWIFTLET_OK
        }
        var sampler = Sampler(params, vocabSize: s.model.vocabSize)
        let r = try s.generate(maxTokens: maxTokens, sampler: &sampler) { emit($0, &stream, onToken, user) }
        if r.stop != .stopped, let onToken { finish(&stream, onToken, user) }
        if r.stop == .context { return fail(SWIFTLET_ERR_CONTEXT_FULL, "swiftlet_generate: the target limit of \(s.targetLimit) tokens is full") }
        return SWIFTLET_OK
    } catch {
        return fail(error)
    }
}

@_cdecl("swiftlet_logits")
public func swiftlet_logits(_ sp: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ n: Int,
                            _ logits: UnsafeMutablePointer<Float>?, _ capacity: Int) -> swiftlet_status {
    guard let h = session(sp) else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_logits: session is NULL") }
    guard let ids, n > 0 else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_logits: no ids") }
    let list = Array(UnsafeBufferPointer(start: ids, count: n))
    if let e = h.encoder { return encoderLogits(e, list, logits, capacity) }
    guard let session = h.decoder else {
        return fail(SWIFTLET_ERR_UNSUPPORTED, "swiftlet_logits: an encoder-decoder's logits need a target as well (the CLI's --decoder-ids)")
    }
    let vocab = session.shape.vocab
    guard let logits, capacity >= vocab else {
        return fail(SWIFTLET_ERR_BUFFER_TOO_SMALL, "swiftlet_logits: capacity \(capacity) is less than the vocabulary size \(vocab)")
    }
    session.reset()
    h.conversation = []
    do {
        let row = try session.evaluate(UnsafeBufferPointer(start: ids, count: n))
        logits.update(from: row.baseAddress!, count: vocab)
        h.conversation = list
        return SWIFTLET_OK
    } catch {
        session.reset()
        return fail(error)
    }
}

/// An encoder's masked-LM logits at the last of `ids`.
private func encoderLogits(_ e: EncoderSession, _ ids: [Int32], _ logits: UnsafeMutablePointer<Float>?,
                           _ capacity: Int) -> swiftlet_status {
    guard e.encoder.hasMaskedLM else {
        return fail(SWIFTLET_ERR_UNSUPPORTED, "swiftlet_logits: this encoder has no masked-LM head (use swiftlet_embed)")
    }
    let vocab = e.encoder.shape.vocab
    guard let logits, capacity >= vocab else {
        return fail(SWIFTLET_ERR_BUFFER_TOO_SMALL, "swiftlet_logits: capacity \(capacity) is less than the vocabulary size \(vocab)")
    }
    do {
        try e.run([EncoderInput(ids: ids)])
        try e.maskedLM(0, at: [ids.count - 1]) { _, row in logits.update(from: row.baseAddress!, count: vocab) }
        return SWIFTLET_OK
    } catch {
        return fail(error)
    }
}

@_cdecl("swiftlet_embed")
public func swiftlet_embed(_ sp: OpaquePointer?, _ textPointer: UnsafePointer<CChar>?, _ textLength: Int,
                           _ embedding: UnsafeMutablePointer<Float>?, _ capacity: Int) -> swiftlet_status {
    guard let h = session(sp) else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_embed: session is NULL") }
    guard let e = h.encoder else {
        return fail(SWIFTLET_ERR_UNSUPPORTED, "swiftlet_embed: embeddings come from encoder models; this model is not one")
    }
    guard let s = text(textPointer, textLength, "swiftlet_embed: text") else { return SWIFTLET_ERR_INVALID_ARGUMENT }
    let dim = e.encoder.shape.dim
    guard let embedding, capacity >= dim else {
        return fail(SWIFTLET_ERR_BUFFER_TOO_SMALL, "swiftlet_embed: capacity \(capacity) is less than the embedding size \(dim)")
    }
    // As `swiftlet embed`: cut to the model's limit, pooled as its metadata says (mean when it says nothing).
    let encoding = e.model.tokenizer.encode(s, maxTokens: e.encoder.maxTokens)
    do {
        try e.run([EncoderInput(ids: encoding.ids, typeIds: encoding.typeIds)])
        let pooling = e.encoder.pooling == .none ? .mean : e.encoder.pooling
        let v = e.embedding(0, pooling: pooling, normalize: true)
        embedding.update(from: v, count: dim)
        return SWIFTLET_OK
    } catch {
        return fail(error)
    }
}
