// The generation loop of a causal decoder: evaluate the prompt (reusing the cached prefix), then sample,
// stream and evaluate one token at a time until EOS, the length limit or a full context. Allocation-free
// per token once the result's id buffer is reserved.

#if canImport(Glibc)
import Glibc
#endif

public struct GenerateOptions: Sendable {
    /// New tokens at most.
    public var maxTokens = 128
    /// Never choose an end-of-generation token (their logits are masked, as transformers' min_new_tokens does).
    public var ignoreEOS = false
    /// When the context fills: drop half of what follows the first `keep` tokens (llama.cpp's context shift)
    /// instead of stopping.
    public var contextShift = false
    public var keep = 0
    public init() {}
}

public enum StopReason: String, Sendable {
    case eos, length, context
    /// The token callback asked to stop.
    case stopped
}

public struct GenerateResult: Sendable {
    public var ids: [Int32] = []
    public var stop = StopReason.length
    /// Prompt tokens evaluated (after the reused prefix) and reused from the cache.
    public var promptTokens = 0, reusedTokens = 0
    public var promptMs = 0.0, genMs = 0.0
    /// Tokens dropped by context shifts.
    public var shiftedTokens = 0
    public init() {}
}

/// Milliseconds on the monotonic clock.
public func monotonicMs() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) * 1000 + Double(t.tv_nsec) / 1e6
}

/// NaN logits would be sampled as token 0, as if the model had chosen it: an error instead.
func checkLogits(_ logits: UnsafeBufferPointer<Float>, _ what: @autoclosure () -> String) throws(ModelError) {
    for x in logits where x.isNaN { throw .notANumber(what()) }
}

extension Session {
    /// Continues `prompt` (the whole conversation so far: what the cache already holds of it is reused).
    /// `onToken` sees each generated id, EOS included, and returns false to stop.
    public func generate(prompt: [Int32], _ o: GenerateOptions, sampler: inout Sampler,
                         onToken: (Int32) -> Bool) throws(ModelError) -> GenerateResult {
        guard o.maxTokens >= 1 else { throw .invalidInput("-n \(o.maxTokens): at least one new token is needed") }
        try checkPrompt(prompt)
        var r = GenerateResult()
        r.ids.reserveCapacity(o.maxTokens)
        let t0 = monotonicMs()
        var logits = try prompt.withUnsafeBufferPointer { (p) throws(ModelError) in
            r.reusedTokens = reusePrefix(of: p)
            r.promptTokens = p.count - r.reusedTokens
            return try evaluate(UnsafeBufferPointer(rebasing: p[r.reusedTokens...]))
        }
        sampler.reset()
        for id in prompt { sampler.accept(id) }
        let t1 = monotonicMs()
        r.promptMs = t1 - t0
        let tokenizer = model.tokenizer
        let masked = o.ignoreEOS ? tokenizer.endOfGeneration : []
        while true {
            try checkLogits(UnsafeBufferPointer(logits), "the logits after \(count) tokens")
            for id in masked { logits[Int(id)] = -.infinity }
            let next = sampler.sample(logits)
            sampler.accept(next)
            r.ids.append(next)
            if !onToken(next) { r.stop = .stopped; break }
            if tokenizer.isEndOfGeneration(next) { r.stop = .eos; break }
            if r.ids.count == o.maxTokens { r.stop = .length; break }
            if count == context {
                guard o.contextShift else { r.stop = .context; break }
                r.shiftedTokens += shift(keep: o.keep)
                if count == context { r.stop = .context; break }  // nothing left to drop past `keep`
            }
            logits = try withUnsafePointer(to: next) { (p) throws(ModelError) in
                try evaluate(UnsafeBufferPointer(start: p, count: 1))
            }
        }
        r.genMs = monotonicMs() - t1
        return r
    }
}
