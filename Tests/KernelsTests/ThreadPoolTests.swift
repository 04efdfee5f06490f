// ThreadPool: every thread index runs once per job, results are visible to the caller, parked workers wake.

#if canImport(Glibc)
import Glibc
#endif
import Kernels
import Testing

@Test(arguments: [1, 2, 3, 4])
func everyThreadRunsEachJobOnce(_ threads: Int) throws {
    let pool = try ThreadPool(threads: threads)
    #expect(pool.threadCount == threads)
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: threads * 8)   // one cache line per thread
    counts.initialize(repeating: 0, count: threads * 8)
    defer { counts.deallocate() }
    let data = (0..<10_000).map { Double($0) }
    var wrongCount = 0
    for job in 1...20_000 {
        pool.run { thread, n in
            if n != threads { counts[thread * 8 + 1] += 1 }   // wrong thread count: recorded, checked below
            counts[thread * 8] += 1
        }
        for t in 0..<threads where counts[t * 8] != job { wrongCount += 1 }
        if job % 1000 == 0 {
            // A real split of work: partial sums per thread, added by the caller.
            let partial = UnsafeMutablePointer<Double>.allocate(capacity: threads)
            defer { partial.deallocate() }
            data.withUnsafeBufferPointer { d in
                pool.run { thread, n in
                    var s = 0.0
                    for i in stride(from: thread, to: d.count, by: n) { s += d[i] }
                    partial[thread] = s
                }
            }
            var total = 0.0
            for t in 0..<threads { total += partial[t] }
            #expect(total == 49_995_000)
        }
    }
    #expect(wrongCount == 0)
    for t in 0..<threads { #expect(counts[t * 8 + 1] == 0) }
}

@Test func parkedWorkersWakeUp() throws {
    let pool = try ThreadPool(threads: 3)
    let seen = UnsafeMutablePointer<Int>.allocate(capacity: 3 * 8)
    seen.initialize(repeating: 0, count: 3 * 8)
    defer { seen.deallocate() }
    for round in 1...5 {
        usleep(20_000)   // long enough for every worker to stop spinning and park
        pool.run { thread, _ in seen[thread * 8] += 1 }
        for t in 0..<3 { #expect(seen[t * 8] == round) }
    }
}

/// The allocation-free form: a capture-free function and a pointer to its arguments.
@Test(arguments: [1, 2, 3])
func contextJobsRunOnEveryThread(_ threads: Int) throws {
    struct Arguments { let counts: UnsafeMutablePointer<Int>; let add: Int }
    let pool = try ThreadPool(threads: threads)
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: threads * 8)
    counts.initialize(repeating: 0, count: threads * 8)
    defer { counts.deallocate() }
    var arguments = Arguments(counts: counts, add: 3)
    for _ in 0..<5_000 {
        withUnsafePointer(to: &arguments) { context in
            pool.run(context: context) { raw, thread, n in
                let a = raw.load(as: Arguments.self)
                a.counts[thread * 8] += a.add
                if n != 0 { a.counts[thread * 8 + 1] = n }
            }
        }
    }
    for t in 0..<threads {
        #expect(counts[t * 8] == 15_000)
        #expect(counts[t * 8 + 1] == threads)
    }
}
