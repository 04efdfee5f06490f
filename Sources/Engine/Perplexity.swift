// Perplexity as llama.cpp's perplexity tool computes it (tools/perplexity/perplexity.cpp): the tokens in
// chunks of the context length, BOS replacing each chunk's first token when the model adds one, each chunk
// evaluated from an empty cache and scored on its second half.

#if canImport(Glibc)
import Glibc
#endif

public struct PerplexityResult: Sendable {
    public var ppl = 0.0
    public var chunks = 0
    /// Tokens scored (chunks × (context − 1 − context/2)).
    public var scored = 0
}

/// `progress(chunk, ppl so far)` after each chunk. The session must keep all logits (SessionOptions.allLogits).
public func perplexity(_ s: Session, tokens: [Int32], progress: (Int, Double) -> Void) throws(ModelError) -> PerplexityResult {
    let n = s.context, first = n / 2
    guard !s.shape.recomputes else {
        throw .unsupported("perplexity of \(s.model.architecture): its logits at a position see that position's token "
            + "(bidirectional content stream), so they score no next-token prediction")
    }
    try checkPerplexityInput(tokens: tokens.count, context: n)
    let tokenizer = s.model.tokenizer
    let bos = tokenizer.addBOS ? tokenizer.bos : nil
    var r = PerplexityResult()
    r.chunks = tokens.count / n
    var nll = 0.0
    var chunk = [Int32](repeating: 0, count: n)
    for c in 0..<r.chunks {
        let start = c * n
        for i in 0..<n { chunk[i] = tokens[start + i] }
        if let bos { chunk[0] = bos }
        s.reset()
        try chunk.withUnsafeBufferPointer { (p) throws(ModelError) in
            _ = try s.evaluate(p) { i, logits, _ in
                guard i >= first, i < n - 1 else { return }
                nll -= logSoftmax(logits, at: Int(tokens[start + i + 1]))
                r.scored += 1
            }
        }
        progress(c + 1, exp(nll / Double(r.scored)))
    }
    r.ppl = exp(nll / Double(r.scored))
    return r
}

/// llama.cpp's limits: at least two chunks of the context length.
public func checkPerplexityInput(tokens: Int, context n: Int) throws(ModelError) {
    guard n >= 4 else { throw .invalidInput("perplexity needs a context of at least 4 tokens, not \(n)") }
    guard tokens >= 2 * n else {
        throw .invalidInput("the text has \(tokens) tokens; perplexity with a context of \(n) needs at least \(2 * n)")
    }
}

/// log(softmax(x)[i]), in double precision for the sum.
func logSoftmax(_ x: UnsafeBufferPointer<Float>, at i: Int) -> Double {
    var m = -Float.infinity
    for v in x { m = max(m, v) }
    var sum = 0.0
    for v in x { sum += Double(expf(v - m)) }
    return Double(x[i] - m) - log(sum)
}
