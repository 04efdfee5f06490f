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

    @inline(__always) func dot(_ q: UnsafePointer<Float>, row: Int, offset: Int, _ n: Int) -> Float {
        let at = base + (row * stride + offset) * elementBytes
        return half ? Kernels.dot(q, at.assumingMemoryBound(to: Float16.self), n)
            : Kernels.dot(q, at.assumingMemoryBound(to: Float.self), n)
    }

    @inline(__always) func axpy(_ a: Float, row: Int, offset: Int, into y: UnsafeMutablePointer<Float>, _ n: Int) {
        let at = base + (row * stride + offset) * elementBytes
        if half {
            Kernels.axpy(a, at.assumingMemoryBound(to: Float16.self), y, n)
        } else {
            Kernels.axpy(a, at.assumingMemoryBound(to: Float.self), y, n)
        }
    }
}

/// out = Σⱼ softmax(scale · q·kⱼ)ⱼ · vⱼ over cache rows j in `rows`, reading each row's `headDim` values at
/// element `offset` (the query's KV head). scores: room for rows.count floats.
public func attendHead(_ q: UnsafePointer<Float>, keys: CacheRows, values: CacheRows, rows: Range<Int>, offset: Int,
                       headDim: Int, scale: Float, scores: UnsafeMutablePointer<Float>,
                       into out: UnsafeMutablePointer<Float>) {
    let n = rows.count
    for j in 0..<n { scores[j] = keys.dot(q, row: rows.lowerBound + j, offset: offset, headDim) * scale }
    softmax(scores, n)
    // By chunks of the head, each accumulated in registers over every row: one store per chunk, not a
    // load-add-store of the whole head per row (which made attention store-bound, 18% of pp512).
    let size = values.elementBytes, first = rows.lowerBound
    // 32 lanes per pass over the rows, so a 64-wide head reads each value row's cache lines twice, not 8 times.
    let step = values.stride * size
    var c = 0
    while c + 32 <= headDim {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var at = values.base + (first * values.stride + offset + c) * size
        if values.half {
            for j in 0..<n {
                let p = SIMD8<Float>(repeating: scores[j])
                a0.addProduct(p, floats(at.loadUnaligned(as: SIMD8<Float16>.self)))
                a1.addProduct(p, floats(at.loadUnaligned(fromByteOffset: 16, as: SIMD8<Float16>.self)))
                a2.addProduct(p, floats(at.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float16>.self)))
                a3.addProduct(p, floats(at.loadUnaligned(fromByteOffset: 48, as: SIMD8<Float16>.self)))
                at += step
            }
        } else {
            for j in 0..<n {
                let p = SIMD8<Float>(repeating: scores[j])
                a0.addProduct(p, at.loadUnaligned(as: SIMD8<Float>.self))
                a1.addProduct(p, at.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
                a2.addProduct(p, at.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
                a3.addProduct(p, at.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
                at += step
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
        for j in 0..<n { values.axpy(scores[j], row: first + j, offset: offset + c, into: out + c, headDim - c) }
    }
}
