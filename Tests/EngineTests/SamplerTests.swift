// Sampler tests: greedy, penalties, top-k/top-p/min-p supports, temperature, the seeded stream against C++'s.
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Engine

/// Samples once from a copy of `logits`.
private func draw(_ s: inout Sampler, _ logits: [Float]) -> Int32 {
    var l = logits
    return l.withUnsafeMutableBufferPointer { s.sample($0) }
}

private func params(temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0,
                    seed: UInt64? = 1) -> SamplerParams {
    var p = SamplerParams()
    p.temperature = temperature
    p.topK = topK
    p.topP = topP
    p.minP = minP
    p.seed = seed
    return p
}

/// `n` logits, uniform in [0, spread), from a fixed stream.
private func randomLogits(_ n: Int, spread: Float, seed: UInt32) -> [Float] {
    var g = MT19937(seed: seed)
    return (0..<n).map { _ in Float(g.next() >> 8) / Float(1 << 24) * spread }
}

/// Every token drawn over `seeds` samplers, `draws` each.
private func support(_ logits: [Float], _ p: SamplerParams, seeds: Range<UInt64> = 0..<400,
                     draws: Int = 5) -> Set<Int32> {
    var seen = Set<Int32>()
    for seed in seeds {
        var q = p
        q.seed = seed
        var s = Sampler(q, vocabSize: logits.count)
        for _ in 0..<draws { seen.insert(draw(&s, logits)) }
    }
    return seen
}

// MARK: - The generator

@Test func mt19937MatchesTheCxxStandardReference() {
    var g = MT19937(seed: 5489)  // std::mt19937's default seed
    #expect(g.next() == 3_499_211_612)
    for _ in 2..<10_000 { _ = g.next() }
    #expect(g.next() == 4_123_659_995)  // [rand.predef]: the 10000th output of a default-constructed mt19937
}

@Test func seedKeepsItsLow32BitsAsStdMt19937Does() {
    let s = Sampler(params(seed: 0x1234_5678_8765_4321), vocabSize: 4)
    #expect(s.seed == 0x8765_4321)
    var g = MT19937(seed: s.seed)
    #expect(g.next() == 877_702_607)  // g++: std::mt19937(0x1234567887654321ull)()
}

@Test func canonicalDoublesMatchLibstdcxxUniformRealDistribution() {
    // g++ 12: std::mt19937 r(42); std::uniform_real_distribution<double> d(0, 1); printf("%.17g", d(r)) ×4
    var g = MT19937(seed: 42)
    let expected: [Double] = [0.79654298428784598, 0.18343478789336848, 0.77969099761266125, 0.59685016158005655]
    for e in expected { #expect(g.nextCanonical() == e) }
}

@Test func drawsMatchLlamaCppDistForTheSameSeed() {
    // llama_sampler_dist_apply's float softmax and double walk, written out in C++ (g++ -O2, glibc expf) over
    // these logits / 0.7 in id order, std::mt19937(42): the chain with top-k, top-p and min-p off.
    let logits: [Float] = [1.0, 0.5, 2.25, -0.3, 1.75, 0.0]
    let fromCxx: [Int32] = [4, 2, 4, 2, 2, 1, 2, 2, 2, 2, 0, 4, 4, 0, 5, 2, 2, 0, 0, 2, 2, 0, 4, 2]
    var s = Sampler(params(temperature: 0.7, seed: 42), vocabSize: logits.count)
    #expect(fromCxx.map { _ in draw(&s, logits) } == fromCxx)
}

@Test func sameSeedSameSequenceOtherSeedOther() {
    let logits = randomLogits(100, spread: 2, seed: 3)
    func run(_ seed: UInt64) -> [Int32] {
        var s = Sampler(params(seed: seed), vocabSize: logits.count)
        return (0..<100).map { _ in draw(&s, logits) }
    }
    #expect(run(7) == run(7))
    #expect(run(7) != run(8))
}

@Test func resetForgetsTokensAndRestartsTheStream() {
    let logits = randomLogits(100, spread: 2, seed: 4)
    var p = params(seed: 9)
    p.repeatPenalty = 1.5
    var s = Sampler(p, vocabSize: logits.count)
    let first = (0..<50).map { _ in draw(&s, logits) }
    for t in first { s.accept(t) }
    s.reset()
    #expect((0..<50).map { _ in draw(&s, logits) } == first)
}

// MARK: - Greedy and penalties

@Test func greedyIsArgmaxWithTiesToTheLowestID() {
    var s = Sampler(params(temperature: 0), vocabSize: 5)
    #expect(draw(&s, [0.1, 0.9, 0.3, 0.9, 0.9]) == 1)
    #expect(draw(&s, [-.infinity, -.infinity, -.infinity, -.infinity, -.infinity]) == 0)
    #expect(draw(&s, [-3, -2, -1, -1.5, -7]) == 2)
    for seed: UInt32 in 0..<50 {
        let x = randomLogits(5, spread: 1, seed: seed)
        #expect(draw(&s, x) == Int32(x.indices.max { x[$0] < x[$1] }!))
    }
}

@Test func penaltiesChangeExactlyTheWindowsLogits() {
    var p = params(temperature: 0)
    p.repeatPenalty = 2
    p.frequencyPenalty = 0.5
    p.presencePenalty = 0.25
    p.repeatLastN = 5
    var s = Sampler(p, vocabSize: 8)
    // Window of the last 5: [2, 3, 0, 3, 4]; the first 3 and the 1 have left it.
    for t: Int32 in [1, 3, 2, 3, 0, 3, 4] { s.accept(t) }
    let logits: [Float] = [1.5, -2.0, 0.0, 3.0, -0.5, 2.0, 0.7, -1.25]
    // positive: l / 2, else l · 2; then - (count · 0.5 + 0.25)
    let expected: [Float] = [0.0, -2.0, -0.75, 0.25, -1.75, 2.0, 0.7, -1.25]
    for _ in 0..<2 {  // twice: applying must leave the window's counts as they were
        var x = logits
        let token = x.withUnsafeMutableBufferPointer { s.sample($0) }
        #expect(x == expected)
        #expect(token == 5)  // 3 was the argmax before the penalties
    }
    s.reset()
    var x = logits
    #expect(x.withUnsafeMutableBufferPointer { s.sample($0) } == 3)
    #expect(x == logits)
}

@Test func noPenaltyLeavesTheLogitsUntouched() {
    var p = params(topK: 3, topP: 0.9, minP: 0.05)
    p.repeatLastN = 0
    p.repeatPenalty = 1.5
    var s = Sampler(p, vocabSize: 6)
    for t: Int32 in [0, 1, 2] { s.accept(t) }
    var x: [Float] = [1.0, 0.5, 2.25, -0.3, 1.75, 0.0]
    _ = x.withUnsafeMutableBufferPointer { s.sample($0) }
    #expect(x == [1.0, 0.5, 2.25, -0.3, 1.75, 0.0])
}

@Test func topKOneIsGreedy() {
    var p = params(temperature: 1.5, topK: 1, topP: 0.95, minP: 0.05)
    p.repeatPenalty = 1.3
    p.presencePenalty = 0.2
    var g = p
    g.temperature = 0
    for seed: UInt32 in 0..<40 {
        let x = randomLogits(1000, spread: 3, seed: seed)
        p.seed = UInt64(seed)
        var s = Sampler(p, vocabSize: x.count), greedy = Sampler(g, vocabSize: x.count)
        for t in x.indices.sorted(by: { x[$0] > x[$1] }).prefix(5) {  // penalize the leaders
            s.accept(Int32(t))
            greedy.accept(Int32(t))
        }
        #expect(draw(&s, x) == draw(&greedy, x))
    }
}

// MARK: - Filters

/// Probabilities 0.5, 0.2, 0.15, 0.1, 0.05 on ids 3, 0, 4, 1, 2.
private let fiveProbs: [Float] = [0.2, 0.1, 0.05, 0.5, 0.15].map { logf($0) }

@Test(arguments: [
    // (topK, topP, minP, ids kept). Cumulative: 0.5, 0.7, 0.85, 0.95, 1; min-p keeps p ≥ minP · 0.5.
    (0, 0.8, 0.0, [3, 0, 4]),
    (0, 0.87, 0.0, [3, 0, 4, 1]),
    (4, 0.87, 0.0, [3, 0, 4]),   // top-p over the top 4 renormalized: 0.53, 0.74, 0.89
    (0, 0.3, 0.0, [3]),          // at least one
    (2, 1.0, 0.0, [3, 0]),
    (0, 1.0, 0.35, [3, 0]),      // ≥ 0.175
    (0, 1.0, 0.25, [3, 0, 4]),   // ≥ 0.125
    (0, 0.6, 0.25, [3, 0]),      // top-p is the shorter
    (0, 0.9, 0.25, [3, 0, 4]),   // min-p is the shorter
    (0, 1.0, 0.0, [3, 0, 4, 1, 2]),
] as [(Int, Float, Float, [Int32])])
func filtersKeepExactlyTheExpectedTokens(_ topK: Int, _ topP: Float, _ minP: Float, _ kept: [Int32]) {
    #expect(support(fiveProbs, params(topK: topK, topP: topP, minP: minP)) == Set(kept))
}

/// What llama.cpp's chain keeps, by the definitions over a full sort. Top-p's sums are Float in llama.cpp's
/// order (the softmax over the candidates as they stand, then cumulative in sorted order), so that a cut landing
/// within rounding of `topP` comes out as llama.cpp's does.
private func reference(_ x: [Float], _ p: SamplerParams) -> [Int32] {
    let n = x.count, topK = p.topK > 0 && p.topK < n
    var order = x.indices.sorted { x[$0] > x[$1] || (x[$0] == x[$1] && $0 < $1) }
    if topK { order = Array(order.prefix(p.topK)) }
    var keep = order.count
    if p.topP < 1 {
        let top = x[order[0]]
        let sum = (topK ? order : Array(x.indices)).reduce(Float(0)) { $0 + expf(x[$1] - top) }
        var cumulative: Float = 0
        keep = 0
        while keep < order.count {
            cumulative += expf(x[order[keep]] - top) / sum
            keep += 1
            if cumulative >= p.topP { break }
        }
    }
    if p.minP > 0 {
        let minLogit = x[order[0]] + logf(p.minP)
        keep = min(keep, max(1, order.prefix { x[$0] >= minLogit }.count))
    }
    let kept = order.prefix(keep).map { Int32($0) }
    return topK || p.topP < 1 ? kept : kept.sorted()
}

@Test func filtersMatchTheirDefinitionsOnALargeVocabulary() {
    for (spread, seed): (Float, UInt32) in [(0.5, 1), (4, 2), (20, 3)] {  // flat (top-p needs thousands) to peaked
        let x = randomLogits(5000, spread: spread, seed: seed)
        for topK in [0, 40, 1000, 6000] {
            for topP: Float in [1, 0.95, 0.5] {
                for minP: Float in [0, 0.05, 0.5] {
                    let p = params(topK: topK, topP: topP, minP: minP)
                    let expected = reference(x, p)
                    let s = Sampler(p, vocabSize: x.count)
                    var l = x
                    let m = l.withUnsafeMutableBufferPointer { s.filter($0.baseAddress!) }
                    let ids = (0..<m).map { s.candidates[$0].id }
                    #expect(ids == expected, "spread \(spread) top-k \(topK) top-p \(topP) min-p \(minP)")
                }
            }
        }
    }
}

// MARK: - Temperature

@Test func temperatureShapesTheFrequencies() {
    let logits: [Float] = [0, -1, -2, -3]
    func frequencies(_ t: Float) -> [Int] {
        var s = Sampler(params(temperature: t, seed: 11), vocabSize: logits.count)
        var f = [Int](repeating: 0, count: logits.count)
        for _ in 0..<20_000 { f[Int(draw(&s, logits))] += 1 }
        return f
    }
    /// Pearson's χ² of the counts against softmax(logits / t).
    func chiSquare(_ f: [Int], _ t: Float) -> Double {
        let w = logits.map { exp(Double($0 / t)) }, n = Double(f.reduce(0, +)), sum = w.reduce(0, +)
        return zip(f, w).reduce(0.0) { acc, fw in
            let e = n * fw.1 / sum
            return acc + (Double(fw.0) - e) * (Double(fw.0) - e) / e
        }
    }
    // 16.27 is χ²'s 99.9% point for 3 degrees of freedom; the seed is fixed, so this cannot flake. The same
    // counts against the neighbouring temperature's distribution miss by hundreds.
    for (t, wrong): (Float, Float) in [(0.5, 1), (1, 0.5), (2, 1)] {
        let f = frequencies(t)
        #expect(chiSquare(f, t) < 16.27, "t \(t): \(f)")
        #expect(chiSquare(f, wrong) > 200, "t \(t) vs \(wrong): \(f)")
    }
}
