// Token sampling: repetition penalties, top-k, top-p, min-p, temperature and a seeded draw, in llama.cpp's order.
// Follows llama.cpp's src/llama-sampler.cpp (penalties, top_k, top_p, min_p, temp, dist) chained as
// common/sampling.cpp chains its default list: penalties → top-k → top-p → min-p → temperature → dist.
// DRY, typical-p, XTC and top-n-sigma sit in that list too but are off by default, and are not implemented here.
#if canImport(Glibc)
import Glibc
#endif

/// Sampling settings; the defaults are llama.cpp's (`common_params_sampling`).
public struct SamplerParams: Sendable {
    /// Logits are divided by this after the filters; `<= 0` is greedy: the highest logit after the penalties
    /// (ties → the lowest token id), no filters, no random draw.
    public var temperature: Float = 0.8
    /// Keep the `topK` highest logits; `<= 0` (or `>=` the vocabulary) is off.
    public var topK: Int = 40
    /// Keep the smallest most-probable set whose probability sums to at least `topP` (at least one token);
    /// `>= 1` is off.
    public var topP: Float = 0.95
    /// Keep tokens whose probability is at least `minP` times the most probable one's; `<= 0` is off.
    public var minP: Float = 0.05
    /// A token among the last `repeatLastN` accepted has a positive logit divided by this, a negative (or zero)
    /// one multiplied; `1` is off.
    public var repeatPenalty: Float = 1
    /// How many recent accepted tokens the penalties see (`--repeat-last-n`); `<= 0` is off. llama.cpp's `-1`
    /// (the whole context) is the caller's to resolve into a count.
    public var repeatLastN: Int = 64
    /// Subtracted from a recent token's logit once per occurrence in the window (frequency) or once (presence).
    public var frequencyPenalty: Float = 0, presencePenalty: Float = 0
    /// Seeds the Mersenne Twister; only the low 32 bits count (as in `std::mt19937::seed`). `nil`: random
    /// (getentropy, else the clock). Unlike llama.cpp, 0xFFFFFFFF is an ordinary seed, not "random".
    public var seed: UInt64? = nil
    public init() {}
}

/// One candidate token: its (penalized, later scaled) logit, reused for its probability during the draw.
struct Candidate {
    var logit: Float
    var id: Int32
}

/// Picks the next token from a row of logits. Owns its buffers, allocated once at init: `sample` and `accept`
/// allocate nothing. One thread at a time.
public struct Sampler: ~Copyable, @unchecked Sendable {  // unique owner of its buffers; moving it is safe
    public let params: SamplerParams
    public let vocabSize: Int
    /// The 32-bit seed in use (chosen at init, and again by `reset` when `params.seed` is nil).
    public private(set) var seed: UInt32
    var rng: MT19937
    let candidates: UnsafeMutablePointer<Candidate>  // (vocabSize) working set of sample()
    let scratch: UnsafeMutablePointer<Candidate>     // (vocabSize) the radix sort's other half
    let histograms: UnsafeMutablePointer<Int>        // (radixPasses, radixBuckets)
    let counts: UnsafeMutablePointer<Int32>          // (vocabSize) occurrences of each token in the window
    let window: UnsafeMutablePointer<Int32>          // (windowCapacity) ring of the last accepted tokens
    let windowCapacity: Int
    var windowCount = 0, windowNext = 0

    public init(_ params: SamplerParams, vocabSize: Int) {
        precondition(vocabSize > 0, "sampler over an empty vocabulary")
        self.params = params
        self.vocabSize = vocabSize
        seed = params.seed.map { UInt32(truncatingIfNeeded: $0) } ?? randomSeed()
        rng = MT19937(seed: seed)
        candidates = .allocate(capacity: vocabSize)
        scratch = .allocate(capacity: vocabSize)
        histograms = .allocate(capacity: radixPasses * radixBuckets)
        counts = .allocate(capacity: vocabSize)
        counts.initialize(repeating: 0, count: vocabSize)
        windowCapacity = max(params.repeatLastN, 0)
        window = .allocate(capacity: max(windowCapacity, 1))
    }

    deinit {
        candidates.deallocate()
        scratch.deallocate()
        histograms.deallocate()
        counts.deallocate()
        window.deallocate()
    }

    /// Forgets the accepted tokens and re-seeds the generator (with a fresh random seed if `params.seed` is nil),
    /// as llama.cpp's sampler reset does.
    public mutating func reset() {
        for j in 0..<windowCount { counts[Int(window[j])] = 0 }
        windowCount = 0
        windowNext = 0
        if params.seed == nil { seed = randomSeed() }
        rng.reseed(seed)
    }

    /// Records a token for the penalties: prompt tokens as well as sampled ones, in order.
    public mutating func accept(_ token: Int32) {
        precondition(token >= 0 && Int(token) < vocabSize, "token \(token) outside vocabulary of \(vocabSize)")
        guard windowCapacity > 0 else { return }
        // Not `counts[i] += 1`: a compound assignment through a stored pointer in a mutating method of this
        // ~Copyable struct crashes swiftc 6.3 when it instruments for ThreadSanitizer (tools/sanitize.sh).
        counts[Int(token)] = counts[Int(token)] + 1
        if windowCount == windowCapacity {
            let oldest = Int(window[windowNext])  // leaves the window
            counts[oldest] = counts[oldest] - 1
        } else {
            windowCount += 1
        }
        window[windowNext] = token
        windowNext = windowNext + 1 == windowCapacity ? 0 : windowNext + 1
    }

    /// The next token for `logits` (vocabSize). Only the penalties write to `logits`: on return it holds the
    /// penalized logits. Does not `accept` the token.
    public mutating func sample(_ logits: UnsafeMutableBufferPointer<Float>) -> Int32 {
        precondition(logits.count == vocabSize, "\(logits.count) logits for a vocabulary of \(vocabSize)")
        let x = logits.baseAddress!
        applyPenalties(x)
        if params.temperature <= 0 { return argmax(x, vocabSize) }
        let m = filter(x)
        if params.temperature != 1 {
            for i in 0..<m { candidates[i].logit = candidates[i].logit / params.temperature }  // as in accept
        }
        return draw(m)
    }

    // MARK: - Stages

    /// llama.cpp's penalties: each distinct token in the window once, with its count there.
    func applyPenalties(_ x: UnsafeMutablePointer<Float>) {
        let p = params
        guard windowCount > 0, p.repeatPenalty != 1 || p.frequencyPenalty != 0 || p.presencePenalty != 0 else { return }
        for j in 0..<windowCount {
            let t = Int(window[j]), c = counts[t]
            guard c > 0 else { continue }  // done already: marked by a negated count
            counts[t] = -c
            var l = x[t]
            l = l <= 0 ? l * p.repeatPenalty : l / p.repeatPenalty
            l -= Float(c) * p.frequencyPenalty + p.presencePenalty
            x[t] = l
        }
        for j in 0..<windowCount {
            let t = Int(window[j])
            if counts[t] < 0 { counts[t] = -counts[t] }
        }
    }

    /// Top-k, top-p, min-p over `x` into `candidates[0..<m]`; returns m ≥ 1. The candidates come out sorted by
    /// descending logit (ties: lower id first) when top-k or top-p is on, else in id order, which is the order
    /// llama.cpp's chain leaves them in for the draw.
    func filter(_ x: UnsafeMutablePointer<Float>) -> Int {
        let n = vocabSize, k = params.topK, topP = params.topP, minP = params.minP
        var m: Int
        if k > 0 && k < n {
            selectTopK(x, n, k)
            m = k
            if topP < 1 {
                let maxLogit = candidates[0].logit
                var sum: Float = 0
                for i in 0..<m { sum += expf(candidates[i].logit - maxLogit) }
                m = topPCut(m, maxLogit: maxLogit, sum: sum) ?? m
            }
            if minP > 0 {
                let minLogit = candidates[0].logit + logf(minP)  // p_i ≥ minP · p_max
                var i = 1
                while i < m && candidates[i].logit >= minLogit { i += 1 }
                m = i
            }
            return m
        }
        // No top-k: min-p is a logit threshold that needs no sort. Top-p, which comes first in the chain, keeps a
        // most-probable prefix of the same order, so the two together keep the shorter prefix: only the min-p
        // survivors need sorting, yet their probabilities are over the whole vocabulary.
        var maxLogit = x[0]
        for i in 1..<n where x[i] > maxLogit { maxLogit = x[i] }
        let minLogit = minP > 0 ? maxLogit + logf(minP) : -Float.infinity
        m = gather(x, above: minLogit)
        if m == 0 {  // only NaNs: keep the first token rather than nothing
            candidates[0] = Candidate(logit: 0, id: 0)
            return 1
        }
        guard topP < 1 else { return m }
        var sum: Float = 0
        for i in 0..<n { sum += expf(x[i] - maxLogit) }  // id order, as llama.cpp's softmax sums
        // Usually the top 256 reach topP (llama.cpp tries them first too); if not, sort all the survivors.
        let head = min(256, m)
        selectTop(head, of: candidates, m)
        if let kept = topPCut(head, maxLogit: maxLogit, sum: sum) { return kept }
        if head == m { return m }
        _ = gather(x, above: minLogit)  // id order again, which the stable sort keeps among equal logits
        radixSortDescending(m)
        return topPCut(m, maxLogit: maxLogit, sum: sum) ?? m
    }

    /// `candidates[0..<count]` := the tokens with logit ≥ `minLogit`, in id order.
    func gather(_ x: UnsafeMutablePointer<Float>, above minLogit: Float) -> Int {
        var m = 0
        for i in 0..<vocabSize where x[i] >= minLogit {
            candidates[m] = Candidate(logit: x[i], id: Int32(i))
            m += 1
        }
        return m
    }

    /// How many of the sorted `candidates[0..<m]` top-p keeps: the shortest prefix whose probabilities
    /// (exp(logit - maxLogit) / sum, summed in Float as llama.cpp does) reach `topP`; nil if all m fall short.
    func topPCut(_ m: Int, maxLogit: Float, sum: Float) -> Int? {
        var cumulative: Float = 0
        for i in 0..<m {
            cumulative += expf(candidates[i].logit - maxLogit) / sum
            if cumulative >= params.topP { return i + 1 }
        }
        return nil
    }

    /// One of `candidates[0..<m]`, drawn with probability ∝ exp(logit) using one
    /// canonical double from the generator (drawn even when m == 1, as llama.cpp does). The probabilities,
    /// their float/double arithmetic and the walk are llama.cpp's `llama_sampler_dist_apply`; the double is
    /// libstdc++'s `uniform_real_distribution<double>(0, 1)`, so a seed picks what llama.cpp built with GCC
    /// picks, given the same candidates in the same order (ties in its partial sort are unspecified; here the
    /// lower id comes first). libc++ and MSVC compute that double differently.
    mutating func draw(_ m: Int) -> Int32 {
        let r = rng.nextCanonical()
        if m == 1 { return candidates[0].id }
        var maxLogit = candidates[0].logit
        for i in 1..<m where candidates[i].logit > maxLogit { maxLogit = candidates[i].logit }
        var sum: Double = 0
        for i in 0..<m {
            let p = expf(candidates[i].logit - maxLogit)
            candidates[i].logit = p
            sum += Double(p)
        }
        let target = sum * r
        var running: Double = 0
        for i in 0..<m {
            let p = candidates[i].logit
            running += Double(p)
            if p > 0 && running >= target { return candidates[i].id }  // p > 0: never a masked token when r == 0
        }
        return candidates[m - 1].id
    }

    // MARK: - Selection without allocation

    /// `candidates[0..<k]` := the k highest of `x[0..<n]`, sorted descending (ties: lower id first).
    /// A min-heap of the best k so far: with k ≪ n nearly every logit costs one comparison.
    func selectTopK(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ k: Int) {
        let h = candidates
        for i in 0..<k { h[i] = Candidate(logit: x[i], id: Int32(i)) }
        for i in stride(from: k / 2 - 1, through: 0, by: -1) { siftDown(h, i, k) }
        for i in k..<n where x[i] > h[0].logit {  // equal loses: its id is higher than everything in the heap
            h[0] = Candidate(logit: x[i], id: Int32(i))
            siftDown(h, 0, k)
        }
        sortHeapDescending(h, k)
    }

    /// Sorts `candidates[0..<m]` by descending logit, stably: least-significant-digit radix sort on the logits'
    /// bits, 3 passes of 11 bits through `scratch`. A flat distribution can put most of the vocabulary under
    /// top-p: at 49152 such a sample() takes 1.2 ms with this sort, 10 ms with heap selection in doubling chunks.
    func radixSortDescending(_ m: Int) {
        /// Unsigned, ascending as the logit descends; -0 is +0 so that it ties with it.
        @inline(__always) func key(_ logit: Float) -> UInt32 {
            let b = (logit + 0).bitPattern
            return b & 0x8000_0000 != 0 ? b : ~(b | 0x8000_0000)
        }
        let h = histograms
        h.initialize(repeating: 0, count: radixPasses * radixBuckets)
        for i in 0..<m {
            let k = key(candidates[i].logit)
            for pass in 0..<radixPasses {
                h[pass * radixBuckets + Int((k >> UInt32(pass * radixBits)) & radixMask)] += 1
            }
        }
        var from = candidates, to = scratch
        for pass in 0..<radixPasses {
            let offsets = h + pass * radixBuckets, shift = UInt32(pass * radixBits)
            var total = 0
            for b in 0..<radixBuckets { (offsets[b], total) = (total, total + offsets[b]) }
            for i in 0..<m {
                let c = from[i], b = Int((key(c.logit) >> shift) & radixMask)
                to[offsets[b]] = c
                offsets[b] += 1
            }
            swap(&from, &to)
        }
        if from != candidates { candidates.update(from: from, count: m) }
    }

    /// Moves the k highest of `c[0..<n]` to `c[0..<k]`, sorted descending; the rest stay in `c[k..<n]`.
    func selectTop(_ k: Int, of c: UnsafeMutablePointer<Candidate>, _ n: Int) {
        for i in stride(from: k / 2 - 1, through: 0, by: -1) { siftDown(c, i, k) }
        for i in k..<n where ranksBelow(c[0], c[i]) {
            swap(&c[0], &c[i])
            siftDown(c, 0, k)
        }
        sortHeapDescending(c, k)
    }
}

let radixBits = 11, radixPasses = 3, radixBuckets = 1 << radixBits
let radixMask = UInt32(radixBuckets - 1)

/// The order of the candidates: by logit, then the lower id ranks higher.
@inline(__always)
func ranksBelow(_ a: Candidate, _ b: Candidate) -> Bool {
    a.logit < b.logit || (a.logit == b.logit && a.id > b.id)
}

/// Restores the min-heap (lowest-ranked at the root) of `h[0..<n]` below `i`.
@inline(__always)
func siftDown(_ h: UnsafeMutablePointer<Candidate>, _ i: Int, _ n: Int) {
    var i = i
    let x = h[i]
    while true {
        var child = 2 * i + 1
        if child >= n { break }
        if child + 1 < n && ranksBelow(h[child + 1], h[child]) { child += 1 }
        if !ranksBelow(h[child], x) { break }
        h[i] = h[child]
        i = child
    }
    h[i] = x
}

/// Heapsort of the min-heap `h[0..<n]`: each step moves the lowest-ranked to the end, leaving it descending.
func sortHeapDescending(_ h: UnsafeMutablePointer<Candidate>, _ n: Int) {
    var end = n - 1
    while end > 0 {
        swap(&h[0], &h[end])
        siftDown(h, 0, end)
        end -= 1
    }
}

/// Greedy: the highest logit, ties → the lowest id.
func argmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) -> Int32 {
    var best = 0, bestLogit = x[0]
    for i in 1..<n where x[i] > bestLogit {
        best = i
        bestLogit = x[i]
    }
    return Int32(best)
}

/// 32 random bits from getentropy(3) (the getrandom syscall), else from the realtime clock, as llama.cpp falls
/// back to the clock.
func randomSeed() -> UInt32 {
    var s: UInt32 = 0
    if getentropy(&s, MemoryLayout<UInt32>.size) == 0 { return s }
    var t = timespec()
    clock_gettime(CLOCK_REALTIME, &t)
    return UInt32(truncatingIfNeeded: Int(t.tv_sec) &* 1_000_000_000 &+ Int(t.tv_nsec))
}

/// The 32-bit Mersenne Twister MT19937 (Matsumoto & Nishimura 1998), the engine behind C++'s `std::mt19937`:
/// the same seed gives the same stream. The standard's check: seeded with 5489, the 10000th output is 4123659995.
/// Its 2.5 KB of state live behind a pointer so that the `Sampler` holding it stays small to move and borrow.
struct MT19937: ~Copyable {
    static let n = 624, m = 397
    let state: UnsafeMutablePointer<UInt32>  // (n)
    var index = 0

    init(seed: UInt32) {
        state = .allocate(capacity: Self.n)
        reseed(seed)
    }

    deinit { state.deallocate() }

    /// Restarts the stream as `std::mt19937::seed(seed)` does.
    mutating func reseed(_ seed: UInt32) {
        state[0] = seed
        for i in 1..<Self.n {
            let prev = state[i - 1]
            state[i] = 1_812_433_253 &* (prev ^ (prev >> 30)) &+ UInt32(i)
        }
        index = Self.n
    }

    mutating func next() -> UInt32 {
        if index == Self.n {
            twist()
            index = 0
        }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    func twist() {
        for i in 0..<Self.n {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % Self.n] & 0x7fff_ffff)
            var v = state[(i + Self.m) % Self.n] ^ (y >> 1)
            if y & 1 != 0 { v ^= 0x9908_b0df }
            state[i] = v
        }
    }

    /// A double in [0, 1) from two outputs, computed as libstdc++'s `generate_canonical<double, 53>`
    /// (what `uniform_real_distribution<double>(0, 1)` returns): (first + second · 2³²) / 2⁶⁴, below 1.
    mutating func nextCanonical() -> Double {
        let low = Double(next()), high = Double(next())
        let r = (low + high * 4_294_967_296) / 18_446_744_073_709_551_616
        return r >= 1 ? (1 as Double).nextDown : r
    }
}
