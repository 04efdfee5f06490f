// The C surface of libswiftlet.a (include/swiftlet.h): a layer over the Swift API (SwiftletKit) that translates
// C pointers, lengths and buffers, and turns errors into status codes and a per-thread message.

import CSwiftlet
@_spi(C) import SwiftletKit
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

/// A Swift API error, its message after the C function's name.
private func fail(_ function: String, _ error: Swiftlet.Error) -> swiftlet_status {
    fail(swiftlet_status(rawValue: UInt32(error.status.rawValue)), "\(function): \(error.message)")
}

private let emptyString: StaticString = ""

@_cdecl("swiftlet_version")
public func swiftlet_version() -> UnsafePointer<CChar> {
    UnsafeRawPointer(Swiftlet.version.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("swiftlet_last_error")
public func swiftlet_last_error() -> UnsafePointer<CChar> {
    if let message = pthread_getspecific(errorKey) { return UnsafePointer(message.assumingMemoryBound(to: CChar.self)) }
    return UnsafeRawPointer(emptyString.utf8Start).assumingMemoryBound(to: CChar.self)
}

// MARK: handles

// A swiftlet_model* is a retained Swiftlet.Model, a swiftlet_session* a retained Swiftlet.Session.

private func model(_ p: OpaquePointer?) -> Swiftlet.Model? {
    p.map { Unmanaged<Swiftlet.Model>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

private func session(_ p: OpaquePointer?) -> Swiftlet.Session? {
    p.map { Unmanaged<Swiftlet.Session>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

// A size_t arrives as an Int: past Int.max it is negative. A capacity that large is room enough (SIZE_MAX says so);
// a length that large describes no buffer.

private func room(_ capacity: Int) -> Int { capacity < 0 ? Int.max : capacity }

/// Nil, or the error (set) for a length past Int.max.
private func tooLong(_ n: Int, _ what: String) -> swiftlet_status? {
    n < 0 ? fail(SWIFTLET_ERR_INVALID_ARGUMENT, "\(what) \(UInt(bitPattern: n)) is larger than any buffer") : nil
}

/// UTF-8 text from a C pointer and length; nil (with the error set) when NULL with a length, or invalid.
private func text(_ p: UnsafePointer<CChar>?, _ n: Int, _ what: String) -> String? {
    if tooLong(n, "\(what) length") != nil { return nil }
    guard n > 0 else { return "" }
    guard let p else { _ = fail(SWIFTLET_ERR_INVALID_ARGUMENT, "\(what) is NULL with length \(n)"); return nil }
    let bytes = UnsafeRawBufferPointer(start: p, count: n).bindMemory(to: UInt8.self)
    guard let s = String(validating: bytes, as: UTF8.self) else {
        _ = fail(SWIFTLET_ERR_INVALID_ARGUMENT, "\(what) is not valid UTF-8")
        return nil
    }
    return s
}

/// Copies `source` into a C buffer of `capacity` (as much as fits), sets the needed count and reports whether all fit.
private func copy<T>(_ source: [T], to out: UnsafeMutablePointer<T>?, _ capacity: Int, count: UnsafeMutablePointer<Int>) -> Bool {
    count.pointee = source.count
    if let out { for i in 0..<min(capacity, source.count) { out[i] = source[i] } }
    return source.count <= capacity
}

// MARK: models

@_cdecl("swiftlet_model_open")
public func swiftlet_model_open(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> swiftlet_status {
    guard let out else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_model_open: out is NULL") }
    out.pointee = nil
    guard let path else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_model_open: path is NULL") }
    do {
        let m = try Swiftlet.Model(path: String(cString: path))
        out.pointee = OpaquePointer(Unmanaged.passRetained(m).toOpaque())
        return SWIFTLET_OK
    } catch {
        return fail("swiftlet_model_open", error)
    }
}

@_cdecl("swiftlet_model_close")
public func swiftlet_model_close(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<Swiftlet.Model>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("swiftlet_model_vocab_size")
public func swiftlet_model_vocab_size(_ p: OpaquePointer?) -> Int32 {
    guard let m = model(p) else { _ = fail(SWIFTLET_ERR_INVALID_ARGUMENT, "model is NULL"); return -1 }
    return Int32(m.vocabularySize)
}

@_cdecl("swiftlet_model_embedding_size")
public func swiftlet_model_embedding_size(_ p: OpaquePointer?) -> Int32 {
    guard let m = model(p) else { _ = fail(SWIFTLET_ERR_INVALID_ARGUMENT, "model is NULL"); return -1 }
    return Int32(m.embeddingSize)
}

// MARK: sessions

@_cdecl("swiftlet_default_params")
public func swiftlet_default_params() -> swiftlet_params {
    let d = Swiftlet.Parameters()
    return swiftlet_params(n_ctx: Int32(d.context), n_threads: Int32(d.threads), temperature: d.temperature,
                           top_k: Int32(d.topK), top_p: d.topP, min_p: d.minP, repeat_penalty: d.repeatPenalty,
                           n_beams: Int32(d.beams), seed: d.seed ?? UInt64.max)
}

@_cdecl("swiftlet_session_create")
public func swiftlet_session_create(_ mp: OpaquePointer?, _ params: UnsafePointer<swiftlet_params>?,
                                    _ out: UnsafeMutablePointer<OpaquePointer?>?) -> swiftlet_status {
    guard let out else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_session_create: out is NULL") }
    out.pointee = nil
    guard let m = model(mp) else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_session_create: model is NULL") }
    let c = params?.pointee ?? swiftlet_default_params()
    var p = Swiftlet.Parameters()
    p.context = Int(c.n_ctx)
    p.threads = Int(c.n_threads)
    p.temperature = c.temperature
    p.topK = Int(c.top_k)
    p.topP = c.top_p
    p.minP = c.min_p
    p.repeatPenalty = c.repeat_penalty
    p.beams = Int(c.n_beams)
    p.seed = c.seed == UInt64.max ? nil : c.seed
    do {
        let s = try Swiftlet.Session(model: m, parameters: p)
        out.pointee = OpaquePointer(Unmanaged.passRetained(s).toOpaque())
        return SWIFTLET_OK
    } catch {
        return fail("swiftlet_session_create", error)
    }
}

@_cdecl("swiftlet_session_free")
public func swiftlet_session_free(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<Swiftlet.Session>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("swiftlet_session_memory_bytes")
public func swiftlet_session_memory_bytes(_ p: OpaquePointer?) -> Int {
    session(p)?.memoryBytes ?? 0
}

@_cdecl("swiftlet_session_reset")
public func swiftlet_session_reset(_ p: OpaquePointer?) {
    session(p)?.reset()
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
    let tokens = m.tokenize(s, addSpecial: addSpecial)
    guard copy(tokens, to: ids, room(capacity), count: count) else {
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
    if let e = tooLong(n, "swiftlet_detokenize: n_ids") { return e }
    guard ids != nil || n == 0 else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_detokenize: ids is NULL") }
    guard out != nil || capacity == 0 else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_detokenize: text is NULL") }
    do {
        let bytes = Array(try m.detokenize(Array(UnsafeBufferPointer(start: ids, count: n))).utf8).map { CChar(bitPattern: $0) }
        guard copy(bytes, to: out, room(capacity), count: length) else {
            return fail(SWIFTLET_ERR_BUFFER_TOO_SMALL, "swiftlet_detokenize: \(bytes.count) bytes do not fit in \(capacity)")
        }
        return SWIFTLET_OK
    } catch {
        return fail("swiftlet_detokenize", error)
    }
}

// MARK: generation

@_cdecl("swiftlet_generate")
public func swiftlet_generate(_ sp: OpaquePointer?, _ promptPointer: UnsafePointer<CChar>?, _ promptLength: Int,
                              _ maxTokens: Int32, _ onToken: swiftlet_token_fn?,
                              _ user: UnsafeMutableRawPointer?) -> swiftlet_status {
    guard let s = session(sp) else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_generate: session is NULL") }
    guard let prompt = text(promptPointer, promptLength, "swiftlet_generate: prompt") else { return SWIFTLET_ERR_INVALID_ARGUMENT }
    do {
        try s.generate(prompt, maxTokens: Int(maxTokens)) { piece in
            guard let onToken else { return true }
            // No text yet (a character still incomplete) is a NULL piece of length 0.
            guard !piece.text.isEmpty else { return onToken(piece.token ?? SWIFTLET_NO_TOKEN, nil, 0, user) }
            var text = piece.text
            return text.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { onToken(piece.token ?? SWIFTLET_NO_TOKEN, $0.baseAddress, $0.count, user) }
            }
        }
        return SWIFTLET_OK
    } catch {
        return fail("swiftlet_generate", error)
    }
}

@_cdecl("swiftlet_logits")
public func swiftlet_logits(_ sp: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ n: Int,
                            _ logits: UnsafeMutablePointer<Float>?, _ capacity: Int) -> swiftlet_status {
    guard let s = session(sp) else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_logits: session is NULL") }
    if let e = tooLong(n, "swiftlet_logits: n_ids") { return e }
    guard let ids, n > 0 else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_logits: no ids") }
    guard logits != nil || capacity == 0 else {
        return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_logits: logits is NULL (with capacity \(UInt(bitPattern: capacity)))")
    }
    do {
        try s.logits(UnsafeBufferPointer(start: ids, count: n), into: buffer(logits, capacity))
        return SWIFTLET_OK
    } catch {
        return fail("swiftlet_logits", error)
    }
}

@_cdecl("swiftlet_embed")
public func swiftlet_embed(_ sp: OpaquePointer?, _ textPointer: UnsafePointer<CChar>?, _ textLength: Int,
                           _ embedding: UnsafeMutablePointer<Float>?, _ capacity: Int) -> swiftlet_status {
    guard let s = session(sp) else { return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_embed: session is NULL") }
    guard let t = text(textPointer, textLength, "swiftlet_embed: text") else { return SWIFTLET_ERR_INVALID_ARGUMENT }
    guard embedding != nil || capacity == 0 else {
        return fail(SWIFTLET_ERR_INVALID_ARGUMENT, "swiftlet_embed: embedding is NULL (with capacity \(UInt(bitPattern: capacity)))")
    }
    do {
        try s.embed(t, into: buffer(embedding, capacity))
        return SWIFTLET_OK
    } catch {
        return fail("swiftlet_embed", error)
    }
}

/// A C output buffer: NULL (allowed with capacity 0, which asks for the size) holds nothing.
private func buffer(_ p: UnsafeMutablePointer<Float>?, _ capacity: Int) -> UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(start: p, count: p == nil ? 0 : room(capacity))
}
