// Scaled dot-product attention of one query head over rows of a KV cache (float32 or half precision rows).

/// One layer's keys or values in a KV cache: `rows` rows of `stride` elements, float32 or half.
public struct CacheRows: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let half: Bool
    public let stride: Int

    public init(_ base: UnsafeMutableRawPointer, half: Bool, stride: Int) {
        self.base = base
        self.half = half
        self.stride = stride
    }

    public var elementBytes: Int { half ? 2 : 4 }

    /// Writes n floats at row `row`, element `offset`.
    @inline(__always) public func store(_ x: UnsafePointer<Float>, row: Int, offset: Int = 0, _ n: Int) {
        let at = base + (row * stride + offset) * elementBytes
        if half {
            storeHalf(x, into: at.assumingMemoryBound(to: Float16.self), n)
        } else {
            at.assumingMemoryBound(to: Float.self).update(from: x, count: n)
        }
    }

    /// Reads n elements of row `row` as floats.
    public func load(row: Int, into y: UnsafeMutablePointer<Float>, _ n: Int) {
        let at = base + row * stride * elementBytes
        if half {
            let h = at.assumingMemoryBound(to: Float16.self)
            for i in 0..<n { y[i] = Float(h[i]) }
        } else {
            y.update(from: at.assumingMemoryBound(to: Float.self), count: n)
        }
    }

    /// Moves `count` rows from row `from` to row `to` (ranges may overlap).
    public func moveRows(from: Int, to: Int, count: Int) {
        let rowBytes = stride * elementBytes
        (base + to * rowBytes).copyMemory(from: base + from * rowBytes, byteCount: count * rowBytes)
    }

    /// q · row `row`'s n elements from `offset`.
    @inline(__always) public func dot(_ q: UnsafePointer<Float>, row: Int, offset: Int, _ n: Int) -> Float {
        let at = base + (row * stride + offset) * elementBytes
        return half ? Kernels.dot(q, at.assumingMemoryBound(to: Float16.self), n)
            : Kernels.dot(q, at.assumingMemoryBound(to: Float.self), n)
    }

    /// y += a · row `row`'s n elements from `offset`.
    @inline(__always) public func axpy(_ a: Float, row: Int, offset: Int, into y: UnsafeMutablePointer<Float>, _ n: Int) {
        let at = base + (row * stride + offset) * elementBytes
        if half {
            Kernels.axpy(a, at.assumingMemoryBound(to: Float16.self), y, n)
        } else {
            Kernels.axpy(a, at.assumingMemoryBound(to: Float.self), y, n)
        }
    }
}

/// out = Σⱼ softmax(scale · q·kⱼ)ⱼ · vⱼ over cache rows j in `rows` and then `then` (a ring cache's wrapped part;
/// empty otherwise), reading each row's `headDim` values at element `offset` (the query's KV head).
/// scores: room for rows.count + then.count floats.
public func attendHead(_ q: UnsafePointer<Float>, keys: CacheRows, values: CacheRows, rows: Range<Int>,
                       then: Range<Int> = 0..<0, offset: Int, headDim: Int, scale: Float,
                       scores: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>) {
    let n1 = rows.count, n = n1 + then.count
    for j in 0..<n1 { scores[j] = keys.dot(q, row: rows.lowerBound + j, offset: offset, headDim) * scale }
    for j in 0..<then.count { scores[n1 + j] = keys.dot(q, row: then.lowerBound + j, offset: offset, headDim) * scale }
    softmax(scores, n)
    // By chunks of the head, each accumulated in registers over every row: one store per chunk, not a
    // load-add-store of the whole head per row (which made attention store-bound, 18% of pp512).
    let size = values.elementBytes
    // 32 lanes per pass over the rows, so a 64-wide head reads each value row's cache lines twice, not 8 times.
    let step = values.stride * size
    var c = 0
    while c + 32 <= headDim {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var j = 0
        for segment in 0..<2 {  // not a loop over [rows, then]: an array literal would allocate
            let range = segment == 0 ? rows : then
            var at = values.base + (range.lowerBound * values.stride + offset + c) * size
            if values.half {
                for _ in range {
                    let p = SIMD8<Float>(repeating: scores[j])
                    a0.addProduct(p, floats(at.loadUnaligned(as: SIMD8<Float16>.self)))
                    a1.addProduct(p, floats(at.loadUnaligned(fromByteOffset: 16, as: SIMD8<Float16>.self)))
                    a2.addProduct(p, floats(at.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float16>.self)))
                    a3.addProduct(p, floats(at.loadUnaligned(fromByteOffset: 48, as: SIMD8<Float16>.self)))
                    at += step
                    j += 1
                }
            } else {
                for _ in range {
                    let p = SIMD8<Float>(repeating: scores[j])
                    a0.addProduct(p, at.loadUnaligned(as: SIMD8<Float>.self))
                    a1.addProduct(p, at.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
                    a2.addProduct(p, at.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
                    a3.addProduct(p, at.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
                    at += step
                    j += 1
                }
            }
        }
        store8(a0, out + c)
        store8(a1, out + c + 8)
        store8(a2, out + c + 16)
        store8(a3, out + c + 24)
        c += 32
    }
    if c < headDim {
        (out + c).update(repeating: 0, count: headDim - c)
        for j in 0..<n1 { values.axpy(scores[j], row: rows.lowerBound + j, offset: offset + c, into: out + c, headDim - c) }
        for j in 0..<then.count {
            values.axpy(scores[n1 + j], row: then.lowerBound + j, offset: offset + c, into: out + c, headDim - c)
        }
    }
}

/// Floats of scratch `attendSequence` needs for a sequence of up to n rows.
public func attendSequenceScratch(rows n: Int, headDim: Int) -> Int { (headDim + 4) * ((n + 7) & ~7) }

/// Bidirectional attention of one head over a whole sequence of n rows: out[t] = Σⱼ softmax(scale · q[t]·k[j] +
/// bias[j − t])ⱼ v[j], with j − t clamped to ±biasReach (a relative-position bias line, centred; none when nil).
/// q, k, v point at the head's part of row 0; rows are `stride` floats apart; out rows `outStride` apart.
/// scratch: attendSequenceScratch floats. Keys are transposed once (headDim × n, scale folded in), so that four
/// queries' scores come out eight keys at a time with no horizontal sums, and each value row is loaded once per
/// four queries.
public func attendSequence(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int,
                           rows n: Int, headDim hd: Int, scale: Float, scratch: UnsafeMutablePointer<Float>,
                           out: UnsafeMutablePointer<Float>, outStride: Int, bias: UnsafePointer<Float>? = nil, biasReach: Int = 0) {
    let np = (n + 7) & ~7
    let kt = scratch, scores = scratch + hd * np
    for d in 0..<hd {
        let row = kt + d * np
        for j in 0..<n { row[j] = k[j * stride + d] * scale }
        for j in n..<np { row[j] = 0 }
    }
    var t0 = 0
    while t0 < n {
        let count = min(4, n - t0)
        // The last block repeats its final query in the unused lanes; those results are not written.
        let q0 = q + t0 * stride, q1 = q + min(t0 + 1, n - 1) * stride
        let q2 = q + min(t0 + 2, n - 1) * stride, q3 = q + min(t0 + 3, n - 1) * stride
        let s0 = scores, s1 = scores + np, s2 = scores + 2 * np, s3 = scores + 3 * np
        // Sixteen keys at a time: each broadcast query value feeds two FMAs.
        var c = 0
        while c + 16 <= np {
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var b0 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>()
            var at = kt + c
            for d in 0..<hd {
                let k0 = load8(at), k1 = load8(at + 8)
                let x0 = SIMD8(repeating: q0[d]), x1 = SIMD8(repeating: q1[d])
                let x2 = SIMD8(repeating: q2[d]), x3 = SIMD8(repeating: q3[d])
                a0.addProduct(x0, k0); b0.addProduct(x0, k1)
                a1.addProduct(x1, k0); b1.addProduct(x1, k1)
                a2.addProduct(x2, k0); b2.addProduct(x2, k1)
                a3.addProduct(x3, k0); b3.addProduct(x3, k1)
                at += np
            }
            store8(a0, s0 + c); store8(b0, s0 + c + 8)
            store8(a1, s1 + c); store8(b1, s1 + c + 8)
            store8(a2, s2 + c); store8(b2, s2 + c + 8)
            store8(a3, s3 + c); store8(b3, s3 + c + 8)
            c += 16
        }
        if c < np {
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var at = kt + c
            for d in 0..<hd {
                let key = load8(at)
                a0.addProduct(SIMD8(repeating: q0[d]), key)
                a1.addProduct(SIMD8(repeating: q1[d]), key)
                a2.addProduct(SIMD8(repeating: q2[d]), key)
                a3.addProduct(SIMD8(repeating: q3[d]), key)
                at += np
            }
            store8(a0, s0 + c)
            store8(a1, s1 + c)
            store8(a2, s2 + c)
            store8(a3, s3 + c)
        }
        if let bias {
            for i in 0..<count {
                let s = scores + i * np, t = t0 + i
                for j in 0..<n { s[j] += bias[min(max(j - t, -biasReach), biasReach)] }
            }
        }
        // Unnormalized: each output row is divided by its sum once at the end.
        let i0 = SIMD8<Float>(repeating: 1 / expShifted(s0, n)), i1 = SIMD8<Float>(repeating: 1 / expShifted(s1, n))
        let i2 = SIMD8<Float>(repeating: 1 / expShifted(s2, n)), i3 = SIMD8<Float>(repeating: 1 / expShifted(s3, n))
        let o0 = out + t0 * outStride, o1 = o0 + outStride, o2 = o1 + outStride, o3 = o2 + outStride
        var d = 0
        while d + 16 <= hd {
            var a0 = SIMD8<Float>(), b0 = SIMD8<Float>(), a1 = SIMD8<Float>(), b1 = SIMD8<Float>()
            var a2 = SIMD8<Float>(), b2 = SIMD8<Float>(), a3 = SIMD8<Float>(), b3 = SIMD8<Float>()
            var at = v + d
            for j in 0..<n {
                let x = load8(at), y = load8(at + 8)
                let p0 = SIMD8(repeating: s0[j]), p1 = SIMD8(repeating: s1[j])
                let p2 = SIMD8(repeating: s2[j]), p3 = SIMD8(repeating: s3[j])
                a0.addProduct(p0, x); b0.addProduct(p0, y)
                a1.addProduct(p1, x); b1.addProduct(p1, y)
                a2.addProduct(p2, x); b2.addProduct(p2, y)
                a3.addProduct(p3, x); b3.addProduct(p3, y)
                at += stride
            }
            store8(a0 * i0, o0 + d); store8(b0 * i0, o0 + d + 8)
            if count > 1 { store8(a1 * i1, o1 + d); store8(b1 * i1, o1 + d + 8) }
            if count > 2 { store8(a2 * i2, o2 + d); store8(b2 * i2, o2 + d + 8) }
            if count > 3 { store8(a3 * i3, o3 + d); store8(b3 * i3, o3 + d + 8) }
            d += 16
        }
        while d < hd {
            let w = min(8, hd - d)
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            for j in 0..<n {
                var x = SIMD8<Float>()
                if w == 8 {
                    x = load8(v + j * stride + d)
                } else {
                    for i in 0..<w { x[i] = v[j * stride + d + i] }
                }
                a0.addProduct(SIMD8(repeating: s0[j]), x)
                a1.addProduct(SIMD8(repeating: s1[j]), x)
                a2.addProduct(SIMD8(repeating: s2[j]), x)
                a3.addProduct(SIMD8(repeating: s3[j]), x)
            }
            for i in 0..<w {
                o0[d + i] = a0[i] * i0[i]
                if count > 1 { o1[d + i] = a1[i] * i1[i] }
                if count > 2 { o2[d + i] = a2[i] * i2[i] }
                if count > 3 { o3[d + i] = a3[i] * i3[i] }
            }
            d += w
        }
        t0 += 4
    }
}
