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
    out.update(repeating: 0, count: headDim)
    for j in 0..<n { values.axpy(scores[j], row: rows.lowerBound + j, offset: offset, into: out, headDim) }
}
