// An encoder-decoder session (T5, FLAN-T5): one arena planned from the model's sizes, a source limit and a
// target context. `encode` runs the encoder once per source and keeps every decoder layer's cross-attention keys
// and values; `decode` appends target tokens, their self-attention keys and values going to a per-layer cache.

import Kernels
#if canImport(Glibc)
import Glibc
#endif

public struct Seq2SeqOptions: Sendable {
    /// The longest source in tokens; 0: the model's context length.
    public var source = 0
    /// The longest target in tokens (the decoder start token included); 0: the model's context length.
    public var target = 0
    /// Threads of the session's pool; 0: every online core.
    public var threads = 0
    /// Refuse to create a session whose arena is larger; nil: the machine's physical memory.
    public var memoryLimit: Int?
    public init() {}
}

/// Pointers into the arena, for rows up to max(source, target).
struct Seq2SeqBuffers {
    let tokens: UnsafeMutablePointer<Int32>   // (source) the encoder's input
    let x, xb, out: UnsafeMutablePointer<Float>  // (rows, dim)
    let encoded: UnsafeMutablePointer<Float>  // (source, dim) the encoder's output
    let q, attn: UnsafeMutablePointer<Float>  // (rows, inner)
    let h1, h2: UnsafeMutablePointer<Float>   // (rows, ff)
    let scores: UnsafeMutablePointer<Float>   // (rows + headDim)
    let logits: UnsafeMutablePointer<Float>   // (target, vocab)
    let scratch: UnsafeMutableRawPointer
}

struct Seq2SeqState {
    let buffers: Seq2SeqBuffers
    let scratchKeys, scratchValues: UnsafeMutablePointer<Float>  // (source, inner) the encoder's own
    let crossKeys, crossValues: [UnsafeMutablePointer<Float>]    // per decoder layer (source, inner)
    let selfKeys, selfValues: [UnsafeMutablePointer<Float>]      // per decoder layer (target, inner)
    let pool: ThreadPool
}

public final class Seq2SeqSession {
    public let model: Model
    let t5: T5
    public let sourceLimit: Int, targetLimit: Int
    public let plan: ArenaPlan
    private let arena: Arena
    private let state: Seq2SeqState
    /// Tokens of the current source, and target tokens the decoder cache holds.
    public private(set) var sourceCount = 0, targetCount = 0

    public init(_ model: Model, _ options: Seq2SeqOptions = Seq2SeqOptions()) throws(ModelError) {
        guard case let .seq2seq(t5) = model.family else {
            throw .unsupported("'\(model.architecture)' in an encoder-decoder session")
        }
        let positions = try model.contextLength()
        let source = options.source > 0 ? options.source : positions, target = options.target > 0 ? options.target : positions
        let threads = options.threads > 0 ? options.threads : max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let rows = max(source, target), inner = t5.inner
        var p = ArenaPlan()
        let tokens = p.reserve("ids", source * 4)
        let x = p.floats("x", rows * t5.dim), xb = p.floats("xb", rows * t5.dim), out = p.floats("out", rows * t5.dim)
        let encoded = p.floats("encoded", source * t5.dim)
        let q = p.floats("q", rows * inner), attn = p.floats("attn", rows * inner)
        let h1 = p.floats("ff", rows * t5.ff), h2 = p.floats("ff", rows * t5.ff)
        let scores = p.floats("att", rows + t5.headDim)
        let logits = p.floats("logits", target * t5.vocab)
        var scratchBytes = 0
        for type in t5.matrixTypes {
            for cols in [t5.dim, inner, t5.ff] {
                scratchBytes = max(scratchBytes, matMulScratchBytes(type, cols: cols, tokens: rows, threads: threads))
            }
        }
        let scratch = p.reserve("scratch", scratchBytes)
        let encoderKeys = p.floats("kv", source * inner), encoderValues = p.floats("kv", source * inner)
        let cross = t5.decoder.map { _ in (p.floats("cross kv", source * inner), p.floats("cross kv", source * inner)) }
        let own = t5.decoder.map { _ in (p.floats("kv", target * inner), p.floats("kv", target * inner)) }
        let limit = options.memoryLimit ?? sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE))
        guard p.bytes <= limit else {
            throw .outOfMemory("the session needs \(formatBytes(p.bytes)), more than the limit of \(formatBytes(limit))")
        }
        arena = try Arena(p)
        let a = arena.base
        func f(_ offset: Int) -> UnsafeMutablePointer<Float> { (a + offset).assumingMemoryBound(to: Float.self) }
        let b = Seq2SeqBuffers(tokens: (a + tokens).assumingMemoryBound(to: Int32.self), x: f(x), xb: f(xb), out: f(out),
                               encoded: f(encoded), q: f(q), attn: f(attn), h1: f(h1), h2: f(h2), scores: f(scores),
                               logits: f(logits), scratch: a + scratch)
        state = Seq2SeqState(buffers: b, scratchKeys: f(encoderKeys), scratchValues: f(encoderValues),
                             crossKeys: cross.map { f($0.0) }, crossValues: cross.map { f($0.1) },
                             selfKeys: own.map { f($0.0) }, selfValues: own.map { f($0.1) }, pool: ThreadPool(threads: threads))
        plan = p
        self.model = model
        self.t5 = t5
        sourceLimit = source
        targetLimit = target
    }

    /// The decoder's first token.
    public var decoderStart: Int32 { t5.decoderStart }

    /// Runs the encoder over `source` and keeps the decoder's cross-attention keys and values; forgets the target.
    public func encode(_ source: [Int32]) throws(ModelError) {
        guard !source.isEmpty else { throw .invalidInput("the source is empty (no tokens to translate)") }
        guard source.count <= sourceLimit else {
            throw .invalidInput("the source has \(source.count) tokens, more than the limit of \(sourceLimit)")
        }
        for (i, id) in source.enumerated() where id < 0 || Int(id) >= t5.vocab {
            throw .invalidInput("token id \(id) at index \(i) is not in the vocabulary (0..<\(t5.vocab))")
        }
        for (i, id) in source.enumerated() { state.buffers.tokens[i] = id }
        t5.encode(source.count, state)
        sourceCount = source.count
        targetCount = 0
    }

    /// The encoder's output for the current source: (tokens, dim), row-major.
    public var encoded: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: state.buffers.encoded, count: sourceCount * t5.dim)
    }

    /// Bytes of the cross-attention and self-attention caches.
    public var cacheBytes: Int { 2 * t5.decoder.count * (sourceLimit + targetLimit) * t5.inner * 4 }

    /// Appends `ids` to the target and returns the logits at every one of them (rows of vocab), valid until the
    /// next call.
    public func decode(_ ids: [Int32]) throws(ModelError) -> UnsafeMutableBufferPointer<Float> {
        guard sourceCount > 0 else { throw .invalidInput("no source: encode one first") }
        guard !ids.isEmpty else { throw .invalidInput("nothing to decode: no tokens") }
        guard targetCount + ids.count <= targetLimit else {
            throw .contextFull("\(targetCount + ids.count) target tokens do not fit the limit of \(targetLimit)")
        }
        for (i, id) in ids.enumerated() where id < 0 || Int(id) >= t5.vocab {
            throw .invalidInput("token id \(id) at index \(i) is not in the vocabulary (0..<\(t5.vocab))")
        }
        ids.withUnsafeBufferPointer { p in
            t5.decode(p, start: targetCount, source: sourceCount, logitRows: 0..<ids.count, state)
        }
        targetCount += ids.count
        return UnsafeMutableBufferPointer(start: state.buffers.logits, count: ids.count * t5.vocab)
    }

    /// Greedy decoding from the decoder start token: up to `maxTokens` new tokens, ending after the end token.
    /// Returns the target, the start token first (transformers' generate output).
    public func greedy(maxTokens: Int) throws(ModelError) -> [Int32] {
        var target = [decoderStart]
        var logits = try decode(target)
        let eos = model.tokenizer.eos
        for _ in 0..<maxTokens {
            var best = 0
            for i in 1..<t5.vocab where logits[i] > logits[best] { best = i }
            target.append(Int32(best))
            if Int32(best) == eos || targetCount >= targetLimit { break }
            logits = try decode([Int32(best)])
        }
        return target
    }
}
