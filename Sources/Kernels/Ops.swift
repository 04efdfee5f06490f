// Element-wise and row kernels of the forward pass: norms, RoPE, activations, softmax, residual adds, dot
// products and attention over a KV cache. Pointers and sizes only; no model knows itself here.
// The SIMD8 loops compile to ymm vfmadd/vcvtph2ps with -target-cpu haswell (checked with -emit-assembly);
// half-precision lanes go through `floats` (MatMul.swift): the generic SIMD conversion stays a call.

#if canImport(Glibc)
import Glibc
#endif

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Σ a[i]·b[i] for i < n.
@inline(__always) public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= n {
        acc0.addProduct(load8(a + i), load8(b + i))
        acc1.addProduct(load8(a + i + 8), load8(b + i + 8))
        i += 16
    }
    if i + 8 <= n {
        acc0.addProduct(load8(a + i), load8(b + i))
        i += 8
    }
    var s = (acc0 + acc1).sum()
    while i < n {
        s += a[i] * b[i]
        i += 1
    }
    return s
}

/// Σ a[i]·Float(b[i]) for i < n, b in IEEE half precision (a KV cache row).
@inline(__always) public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float16>, _ n: Int) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        acc.addProduct(load8(a + i), floats(UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float16>.self)))
        i += 8
    }
    var s = acc.sum()
    while i < n {
        s += a[i] * Float(b[i])
        i += 1
    }
    return s
}

/// y[i] += a · x[i] for i < n.
@inline(__always) public func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let av = SIMD8<Float>(repeating: a)
    var i = 0
    while i + 8 <= n {
        var v = load8(y + i)
        v.addProduct(av, load8(x + i))
        store8(v, y + i)
        i += 8
    }
    while i < n {
        y[i] += a * x[i]
        i += 1
    }
}

/// y[i] += a · Float(x[i]) for i < n, x in half precision.
@inline(__always) public func axpy(_ a: Float, _ x: UnsafePointer<Float16>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let av = SIMD8<Float>(repeating: a)
    var i = 0
    while i + 8 <= n {
        var v = load8(y + i)
        v.addProduct(av, floats(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float16>.self)))
        store8(v, y + i)
        i += 8
    }
    while i < n {
        y[i] += a * Float(x[i])
        i += 1
    }
}

/// y[i] += x[i] for i < n (a residual connection, or a bias).
public func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        store8(load8(y + i) + load8(x + i), y + i)
        i += 8
    }
    while i < n {
        y[i] += x[i]
        i += 1
    }
}

/// out = x / √(mean(x²) + eps) · weight, over one row of n (transformers' LlamaRMSNorm, in float32).
public func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ n: Int, eps: Float,
                    into out: UnsafeMutablePointer<Float>) {
    let scale = 1 / (dot(x, x, n) / Float(n) + eps).squareRoot()
    for i in 0..<n { out[i] = x[i] * scale * weight[i] }
}

/// out = (x − mean) / √(var + eps) · weight + bias, over one row of n (torch.nn.LayerNorm; bias=False: no bias).
public func layerNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ n: Int,
                      eps: Float, into out: UnsafeMutablePointer<Float>) {
    var mean: Float = 0
    for i in 0..<n { mean += x[i] }
    mean /= Float(n)
    var variance: Float = 0
    for i in 0..<n { variance += (x[i] - mean) * (x[i] - mean) }
    let scale = 1 / (variance / Float(n) + eps).squareRoot()
    if let bias {
        for i in 0..<n { out[i] = (x[i] - mean) * scale * weight[i] + bias[i] }
    } else {
        for i in 0..<n { out[i] = (x[i] - mean) * scale * weight[i] }
    }
}

/// e^x for 8 lanes: Cody-Waite range reduction and a degree-6 polynomial, within 3 ulp of expf on
/// [-87, 88]; below that 0, above +inf. Scalar expf in the attention softmax and SiLU costs more than the
/// matrix products of a small model's prompt.
@inline(__always) public func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    var x = x
    for i in 0..<8 { x[i] = min(max(x[i], -87.3), 88.7) }  // vmaxps/vminps; `clamped` is a generic call
    let n = (x * 1.442_695_04).rounded(.toNearestOrEven)
    var r = x - n * 0.693_145_75  // ln 2, high part
    r = r - n * 1.428_606_8e-6    // ln 2, low part
    var p = SIMD8<Float>(repeating: 1.0 / 720)
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    // 2^n by building the exponent bits; n is in [-126, 128], split in two so neither factor overflows.
    // n is integral: adding 1.5·2²³ puts it in the low mantissa bits (SIMD8<Int32>(n) is a generic
    // per-lane conversion call, which cost 4% of token generation).
    let ni: SIMD8<Int32> = (n + 12_582_912).bitPattern &- 0x4b40_0000
    let half = ni &>> 1
    let a = unsafeBitCast((half &+ 127) &<< 23, to: SIMD8<Float>.self)
    let b = unsafeBitCast((ni &- half &+ 127) &<< 23, to: SIMD8<Float>.self)
    return p * a * b
}

/// x[i] = e^(x[i] − max) / Σ in place over n; returns nothing on n = 0.
public func softmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    guard n > 0 else { return }
    let sum = expShifted(x, n)
    let inv = SIMD8<Float>(repeating: 1 / sum)
    var i = 0
    while i + 8 <= n {
        store8(load8(x + i) * inv, x + i)
        i += 8
    }
    while i < n {
        x[i] /= sum
        i += 1
    }
}

/// The largest of x[0..<n], n > 0.
@inline(__always) func maximum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var m8 = SIMD8<Float>(repeating: -.infinity)
    var i = 0
    while i + 8 <= n {
        let v = load8(x + i)
        for k in 0..<8 { m8[k] = v[k] > m8[k] ? v[k] : m8[k] }  // vmaxps
        i += 8
    }
    var m = max(max(max(m8[0], m8[1]), max(m8[2], m8[3])), max(max(m8[4], m8[5]), max(m8[6], m8[7])))
    while i < n {
        m = max(m, x[i])
        i += 1
    }
    return m
}

/// x[i] = x[i] − log Σ e^x in place over n > 0: log-probabilities (a beam search's scores).
public func logSoftmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    let m = maximum(x, n), mv = SIMD8<Float>(repeating: m)
    var sum8 = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        sum8 += exp8(load8(x + i) - mv)
        i += 8
    }
    var sum = sum8.sum()
    while i < n {
        sum += expf(x[i] - m)
        i += 1
    }
    let shift = m + logf(sum), sv = SIMD8<Float>(repeating: shift)
    i = 0
    while i + 8 <= n {
        store8(load8(x + i) - sv, x + i)
        i += 8
    }
    while i < n {
        x[i] -= shift
        i += 1
    }
}

/// x[i] = e^(x[i] − max) in place over n > 0; returns Σ: softmax without its division, for callers that can
/// scale once at the end instead.
@discardableResult
public func expShifted(_ x: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
    let m = maximum(x, n), mv = SIMD8<Float>(repeating: m)
    var sum8 = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        let e = exp8(load8(x + i) - mv)
        store8(e, x + i)
        sum8 += e
        i += 8
    }
    var sum = sum8.sum()
    while i < n {
        x[i] = expf(x[i] - m)
        sum += x[i]
        i += 1
    }
    return sum
}

/// gate[i] = silu(gate[i]) · up[i] = gate / (1 + e^-gate) · up: the SwiGLU product of a Llama FFN.
public func swiGLU(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        let g = load8(gate + i)
        store8(g / (1 + exp8(-g)) * load8(up + i), gate + i)
        i += 8
    }
    while i < n {
        gate[i] = gate[i] / (1 + expf(-gate[i])) * up[i]
        i += 1
    }
}

/// x = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) in place: GPT-2's gelu_new (transformers NewGELUActivation).
public func geluTanh(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    let c: Float = 0.797_884_56  // √(2/π)
    var i = 0
    while i + 8 <= n {
        let v = load8(x + i)
        let u = c * (v + 0.044715 * v * v * v)
        // tanh(u) = 1 − 2/(e^(2u) + 1), exact at both saturations.
        let t = 1 - 2 / (exp8(2 * u) + 1)
        store8(0.5 * v * (1 + t), x + i)
        i += 8
    }
    while i < n {
        let v = x[i]
        x[i] = 0.5 * v * (1 + tanhf(c * (v + 0.044715 * v * v * v)))
        i += 1
    }
}

/// x = 0.5·x·(1 + erf(x/√2)) in place: BERT's exact GELU (torch.nn.functional.gelu). erf by Abramowitz and
/// Stegun 7.1.26 (absolute error ≤ 1.5e-7) on 8 lanes: libm's erff per element would cost a tenth of an
/// encoder's forward pass.
public func geluErf(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        let v = load8(x + i)
        let z = v * 0.707_106_78
        // |z| and, below, erf's sign by bit masks: `abs` of a vector and lane branches compile to calls.
        let sign = z.bitPattern & 0x8000_0000
        let a = SIMD8<Float>(bitPattern: z.bitPattern ^ sign)
        let t = 1 / (1 + 0.327_591_1 * a)
        var p = SIMD8<Float>(repeating: 1.061_405_429)
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        let e = 1 - p * t * exp8(-a * a)  // erf(|z|)
        let erf = SIMD8<Float>(bitPattern: e.bitPattern | sign)
        store8(0.5 * v * (1 + erf), x + i)
        i += 8
    }
    while i < n {
        x[i] = 0.5 * x[i] * (1 + erff(x[i] * 0.707_106_78))
        i += 1
    }
}

/// x = x / (1 + e^-x) in place: SiLU (swish).
public func silu(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        let v = load8(x + i)
        store8(v / (1 + exp8(-v)), x + i)
        i += 8
    }
    while i < n {
        x[i] = x[i] / (1 + expf(-x[i]))
        i += 1
    }
}

/// x = max(x, 0) in place.
public func relu(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { x[i] = max(x[i], 0) }
}

/// Rotary position embedding tables for one position: cos and sin of pos·θᵢ, θᵢ = scale · base^(−2i/dims),
/// for i < dims/2 (transformers' default rope: inverse frequencies in float32, angles pos·θ in float32).
public func ropeTable(position: Int, dims: Int, base: Float, scale: Float,
                      cos c: UnsafeMutablePointer<Float>, sin s: UnsafeMutablePointer<Float>) {
    for i in 0..<dims / 2 {
        let invFreq = Float(1 / pow(Double(base), Double(2 * i) / Double(dims)))
        let angle = Float(position) * scale * invFreq
        c[i] = cosf(angle)
        s[i] = sinf(angle)
    }
}

/// Rotates adjacent pairs (x[2i], x[2i+1]) of the first `dims` values of each of `heads` heads of `headDim`
/// by the table's angles: llama.cpp's "normal" RoPE, which equals transformers' rotate_half RoPE once the
/// converter has permuted the Q and K rows (convert_hf_to_gguf.py LlamaModel.permute).
public func rope(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, dims: Int,
                 cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>) {
    for h in 0..<heads {
        let v = x + h * headDim
        for i in 0..<dims / 2 {
            let a = v[2 * i], b = v[2 * i + 1]
            v[2 * i] = a * c[i] - b * s[i]
            v[2 * i + 1] = a * s[i] + b * c[i]
        }
    }
}

/// Converts n floats to half precision (a KV cache row).
public func storeHalf(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float16>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        let v = load8(x + i)
        let h = SIMD8<Float16>(Float16(v[0]), Float16(v[1]), Float16(v[2]), Float16(v[3]),
                               Float16(v[4]), Float16(v[5]), Float16(v[6]), Float16(v[7]))
        UnsafeMutableRawPointer(y + i).storeBytes(of: h, as: SIMD8<Float16>.self)
        i += 8
    }
    while i < n {
        y[i] = Float16(x[i])
        i += 1
    }
}
