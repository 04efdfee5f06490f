// The blocks every family's forward pass is built from, as llama.cpp's build_norm / build_ffn and candle's
// quantized_nn: a family binds its tensors into these once at load, then calls them in order over `n` rows of
// activations. Attention lives with the session kinds that own its caches: Decoder.swift (causal, windowed,
// with RoPE) and Seq2Seq.swift (bidirectional, causal with beams, cross, position biases).

import Kernels
import Quant
#if canImport(Glibc)
import Glibc
#endif

/// What a product needs besides its operands: the session's scratch for quantized activations and its pool.
struct Compute {
    let scratch: UnsafeMutableRawPointer
    let pool: ThreadPool
}

/// A feed-forward or head activation, as transformers' config names it.
enum Activation: Sendable {
    case gelu, geluTanh, relu, tanh, silu

    init(_ name: String, key: String) throws(ModelError) {
        switch name {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "relu": self = .relu
        case "tanh": self = .tanh
        case "silu", "swish": self = .silu
        default: throw .config(key: key, reason: "activation '\(name)' is not supported (gelu, gelu_new, relu, tanh, silu)")
        }
    }

    func apply(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .gelu: Kernels.geluErf(x, n)
        case .geluTanh: Kernels.geluTanh(x, n)
        case .relu: Kernels.relu(x, n)
        case .tanh: for i in 0..<n { x[i] = tanhf(x[i]) }
        case .silu: Kernels.silu(x, n)
        }
    }
}

/// y = x·Wᵀ (+ b).
struct Linear: @unchecked Sendable {  // views into the immutable mapping
    let w: Matrix
    let b: UnsafePointer<Float>?

    /// Whether a Linear read from a file has a bias.
    enum Bias { case required, optional, none }

    init(_ w: Matrix, bias: UnsafePointer<Float>? = nil) {
        self.w = w
        b = bias
    }

    /// `name("weight")` of (rows, cols) and, as `bias` says, `name("bias")` of (rows). `wideActivations`: quantized
    /// weights take 16-bit activations (Matrix.wideActivations): encoders and encoder-decoders, whose hidden states
    /// carry outliers that ggml's 8-bit blocks round away.
    init(_ r: WeightReader, _ name: (String) -> String, rows: Int, cols: Int, bias: Bias = .required,
         wideActivations: Bool = false) throws(ModelError) {
        var w = try r.matrix(name("weight"), rows: rows, cols: cols)
        w.wideActivations = wideActivations
        self.w = w
        switch bias {
        case .required: b = try r.vector(name("bias"), rows)
        case .optional: b = try r.optionalVector(name("bias"), rows)
        case .none: b = nil
        }
    }

    /// nil when the file has no `name("weight")`.
    static func optional(_ r: WeightReader, _ name: (String) -> String, rows: Int, cols: Int, bias: Bias = .required,
                         wideActivations: Bool = false) throws(ModelError) -> Linear? {
        r.has(name("weight")) ? try Linear(r, name, rows: rows, cols: cols, bias: bias, wideActivations: wideActivations) : nil
    }

    /// y (n rows, `stride` apart) = x (n rows of w.cols) · Wᵀ + b.
    func callAsFunction(_ x: UnsafePointer<Float>, rows n: Int, into y: UnsafeMutablePointer<Float>, stride: Int,
                        _ c: Compute) {
        matMul(w, x, tokens: n, into: y, yStride: stride, scratch: c.scratch, pool: c.pool)
        addBias(b, to: y, rows: n, cols: w.rows, stride: stride)
    }
}

/// One output of `project`: rows of `stride` floats at `y`.
struct Projection {
    let linear: Linear
    let y: UnsafeMutablePointer<Float>
    let stride: Int

    init(_ linear: Linear, into y: UnsafeMutablePointer<Float>, stride: Int) {
        self.linear = linear
        self.y = y
        self.stride = stride
    }
}

/// Two or three products of the same rows (q, k, v; gate, up): one quantization of x and one dispatch when the
/// weights' types allow (matMul's fused form), biases added after.
func project(_ x: UnsafePointer<Float>, rows n: Int, _ a: Projection, _ b: Projection, _ compute: Compute) {
    project(x, rows: n, a, b, nil, compute)
}

/// Three products of the same rows, as `project(_:rows:_:_:_:)`.
func project(_ x: UnsafePointer<Float>, rows n: Int, _ a: Projection, _ b: Projection, _ c: Projection?,
             _ compute: Compute) {
    func output(_ p: Projection) -> MatMulOutput { MatMulOutput(p.linear.w, into: p.y, yStride: p.stride) }
    matMul(output(a), output(b), c.map(output), x, tokens: n, scratch: compute.scratch, pool: compute.pool)
    // No array of the outputs: it would allocate on every call.
    addBias(a.linear.b, to: a.y, rows: n, cols: a.linear.w.rows, stride: a.stride)
    addBias(b.linear.b, to: b.y, rows: n, cols: b.linear.w.rows, stride: b.stride)
    if let c { addBias(c.linear.b, to: c.y, rows: n, cols: c.linear.w.rows, stride: c.stride) }
}

/// RMSNorm or LayerNorm (with or without bias) over rows of `width`, its epsilon from the file's metadata.
struct Norm: @unchecked Sendable {  // views into the immutable mapping
    enum Kind { case rms, layer }
    let kind: Kind
    let w: UnsafePointer<Float>
    let b: UnsafePointer<Float>?
    let eps: Float
    let width: Int

    /// `name("weight")` and, for a LayerNorm with `bias`, `name("bias")`, both (width).
    init(_ r: WeightReader, _ name: (String) -> String, _ width: Int, _ kind: Kind, eps: Float, bias: Bool = true)
        throws(ModelError) {
        self.kind = kind
        w = try r.vector(name("weight"), width)
        b = kind == .layer && bias ? try r.vector(name("bias"), width) : nil
        self.eps = eps
        self.width = width
    }

    /// An RMSNorm whose weight is the tensor `weightName` (width).
    init(rms r: WeightReader, _ weightName: String, _ width: Int, eps: Float) throws(ModelError) {
        kind = .rms
        w = try r.vector(weightName, width)
        b = nil
        self.eps = eps
        self.width = width
    }

    /// One row: y = norm(x); y may be x.
    @inline(__always)
    func callAsFunction(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        switch kind {
        case .rms: rmsNorm(x, weight: w, width, eps: eps, into: y)
        case .layer: layerNorm(x, weight: w, bias: b, width, eps: eps, into: y)
        }
    }

    /// n rows, `width` apart.
    func callAsFunction(_ x: UnsafePointer<Float>, rows n: Int, into y: UnsafeMutablePointer<Float>) {
        for t in 0..<n { self(x + t * width, into: y + t * width) }
    }

    /// The rows in `rows` (a decoder's logit rows).
    func callAsFunction(_ x: UnsafePointer<Float>, rows: Range<Int>, into y: UnsafeMutablePointer<Float>) {
        for t in rows { self(x + t * width, into: y + t * width) }
    }
}

/// down · act(up·x + b) (plain), or down · (act(gate·x) ⊙ up·x) (gated, SwiGLU when act is SiLU): llama.cpp's
/// build_ffn with LLM_FFN_SEQ or LLM_FFN_PAR.
struct FeedForward: @unchecked Sendable {
    let up: Linear                   // (ff, dim)
    let gate: Linear?                // (ff, dim)
    let down: Linear                 // (dim, ff)
    let activation: Activation
    var width: Int { up.w.rows }

    /// act(...) of n rows of x into h1 (n, ff); h2 (n, ff) holds up·x when gated. Returns h1.
    @discardableResult
    func hidden(_ x: UnsafePointer<Float>, rows n: Int, _ h1: UnsafeMutablePointer<Float>, _ h2: UnsafeMutablePointer<Float>,
                _ c: Compute) -> UnsafeMutablePointer<Float> {
        let ff = width
        if let gate {
            matMul(MatMulOutput(gate.w, into: h1, yStride: ff), MatMulOutput(up.w, into: h2, yStride: ff), nil, x, tokens: n,
                   scratch: c.scratch, pool: c.pool)
        } else {
            matMul(up.w, x, tokens: n, into: h1, yStride: ff, scratch: c.scratch, pool: c.pool)
        }
        let job = ActivationJob(h1: h1, h2: h2, upBias: up.b, gateBias: gate?.b, gated: gate != nil, activation: activation,
                                rows: n, cols: ff)
        withUnsafePointer(to: job) { c.pool.run(context: $0) { j, t, n in j.load(as: ActivationJob.self).run(t, n) } }
        return h1
    }

    /// out (n rows, `stride` apart) = the whole network over n rows of x.
    func callAsFunction(_ x: UnsafePointer<Float>, rows n: Int, _ h1: UnsafeMutablePointer<Float>,
                        _ h2: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>, stride: Int, _ c: Compute) {
        down(hidden(x, rows: n, h1, h2, c), rows: n, into: out, stride: stride, c)
    }
}

/// Row-wise steps split over the pool (with two threads, a step left to one thread costs twice its time). Each row
/// is computed the same way whatever the split, so results do not depend on the thread count.
@inline(__always)
func rowShare(_ n: Int, _ thread: Int, _ threads: Int) -> Range<Int> { n * thread / threads..<n * (thread + 1) / threads }

/// h1 = act(h1 + gate bias) ⊙ (h2 + up bias) when gated, else act(h1 + up bias), row by row.
private struct ActivationJob {
    let h1, h2: UnsafeMutablePointer<Float>
    let upBias, gateBias: UnsafePointer<Float>?
    let gated: Bool
    let activation: Activation
    let rows, cols: Int

    func run(_ thread: Int, _ threads: Int) {
        for t in rowShare(rows, thread, threads) {
            let a = h1 + t * cols
            guard gated else {
                if let upBias { add(upBias, into: a, cols) }
                activation.apply(a, cols)
                continue
            }
            let u = h2 + t * cols
            if let gateBias { add(gateBias, into: a, cols) }
            if let upBias { add(upBias, into: u, cols) }
            if activation == .silu {
                swiGLU(a, u, cols)
            } else {
                activation.apply(a, cols)
                for i in 0..<cols { a[i] *= u[i] }
            }
        }
    }
}

/// x = norm(x + input·Wᵀ + b) over n rows: a post-LN block's residual (BERT, BART, XLNet). `out` (n, dim) is
/// scratch for the product; the add and norm are split over the pool.
func residualNorm(_ l: Linear, _ input: UnsafePointer<Float>, rows n: Int, x: UnsafeMutablePointer<Float>,
                  out: UnsafeMutablePointer<Float>, norm: Norm, _ c: Compute) {
    matMul(l.w, input, tokens: n, into: out, yStride: norm.width, scratch: c.scratch, pool: c.pool)
    let job = ResidualNormJob(x: x, out: out, bias: l.b, norm: norm, rows: n)
    withUnsafePointer(to: job) { c.pool.run(context: $0) { j, t, n in j.load(as: ResidualNormJob.self).run(t, n) } }
}

/// x[t] = norm(x[t] + out[t] + bias).
private struct ResidualNormJob {
    let x, out: UnsafeMutablePointer<Float>
    let bias: UnsafePointer<Float>?
    let norm: Norm
    let rows: Int

    func run(_ thread: Int, _ threads: Int) {
        let cols = norm.width
        for t in rowShare(rows, thread, threads) {
            let o = out + t * cols, h = x + t * cols
            if let bias { add(bias, into: o, cols) }
            add(h, into: o, cols)
            norm(o, into: h)
        }
    }
}

/// x[t] = the embedding row of tokens[t], dequantized.
func embed(_ tokens: UnsafeBufferPointer<Int32>, _ table: Matrix, into x: UnsafeMutablePointer<Float>) {
    for t in 0..<tokens.count {  // index loops: enumerated() allocates an iterator box in debug builds
        dequantizeRow(table.row(Int(tokens[t])), count: table.cols, as: table.type, into: x + t * table.cols)
    }
}

/// y[t] += bias for n rows of `cols`, rows `stride` apart.
func addBias(_ bias: UnsafePointer<Float>?, to y: UnsafeMutablePointer<Float>, rows n: Int, cols: Int, stride: Int) {
    guard let bias else { return }
    for t in 0..<n { add(bias, into: y + t * stride, cols) }
}
