// A small persistent pool of worker threads: one job at a time, every thread runs it, the caller waits.
//
// The hot path is lock-free: `run` publishes the job and bumps `generation`; workers spinning on it start at
// once, each decrements `pending` when done, and the caller spins until `pending` is 0. A worker that has
// seen no job for `spinLimit` polls (tens of microseconds) parks on a condition variable, so an idle pool
// costs no CPU; `run` takes the mutex only when some worker is parked. No allocation per `run`.

#if canImport(Glibc)
import Glibc
#endif
import Synchronization

public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int
    private var workers: [pthread_t] = []
    /// The current job, in a box of its own: a stored property of function type (not an Optional, not a
    /// pointer's generic Pointee) keeps the closure's own representation, so storing it allocates nothing.
    private let job = JobBox()
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Written by the caller of `run`; each counter on its own cache line (the padding is never read).
    private let generation = Atomic<Int>(0)
    private let padding0: (Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0)
    /// Workers still running the current job; written by the workers.
    private let pending = Atomic<Int>(0)
    private let padding1: (Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0)
    /// Workers parked (or about to park) on `wake`.
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    /// Set while a `run` is under way, to catch a second caller or a nested `run`.
    private let busy = Atomic<Bool>(false)

    /// Polls of `generation` before a worker parks: about 50 µs, longer than the gaps between the kernels
    /// of one token and shorter than a human notices.
    private static let spinLimit = 1 << 15

    /// `threads` ≥ 1 threads in all: the caller of `run` is thread 0, `threads - 1` workers are started here.
    /// Throws when one cannot be started (the system's thread or memory limits); those started are joined.
    public init(threads: Int) throws(KernelsError) {
        precondition(threads >= 1)
        threadCount = threads
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        for index in 1..<threads {
            let context = Unmanaged.passRetained(WorkerContext(pool: self, index: index)).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.pool.workerLoop(context.index)
                return nil
            }, context)
            guard rc == 0 else {
                Unmanaged<WorkerContext>.fromOpaque(context).release()
                throw .threadStart(index: index, threads: threads, errno: rc)  // deinit joins the started ones
            }
            workers.append(thread)
        }
    }

    deinit {
        stopping.store(true, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        for t in workers { pthread_join(t, nil) }
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(wake)
        mutex.deallocate()
        wake.deallocate()
    }

    /// A job as a C function pointer and a context pointer: what `run(context:_:)` takes.
    public typealias Job = @convention(c) (_ context: UnsafeRawPointer, _ thread: Int, _ threads: Int) -> Void

    /// Runs `body(thread, threadCount)` on every thread of the pool; returns when all have finished.
    /// One caller at a time, and `body` must not call `run` on the same pool (either traps).
    /// Costs one small allocation per call with more than one thread: handing a non-escaping closure to
    /// other threads takes `withoutActuallyEscaping`, which boxes it. Hot paths that must not allocate use
    /// `run(context:_:)`.
    public func run(_ body: (_ thread: Int, _ threads: Int) -> Void) {
        if threadCount == 1 { return lockedRun { body(0, 1) } }
        withoutActuallyEscaping(body) { escaping in
            lockedRun {
                job.body = escaping
                dispatch { escaping(0, threadCount) }
                job.body = JobBox.idle   // drop the reference before withoutActuallyEscaping checks it did not escape
            }
        }
    }

    /// Runs `job(context, thread, threadCount)` on every thread of the pool; returns when all have finished.
    /// Allocates nothing: `job` is a closure that captures nothing (or a C function) and finds its inputs
    /// through `context`, e.g. a pointer to a struct on the caller's stack.
    public func run(context: UnsafeRawPointer, _ function: Job) {
        lockedRun {
            if threadCount == 1 { return function(context, 0, 1) }
            job.function = function
            job.context = context
            dispatch { function(context, 0, threadCount) }
            job.function = nil
        }
    }

    @inline(__always) private func lockedRun(_ body: () -> Void) {
        precondition(busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged,
                     "ThreadPool.run called while the pool is running a job")
        body()
        busy.store(false, ordering: .releasing)
    }

    /// Wakes the workers for the job in `job`, runs thread 0's share, waits for the others.
    @inline(__always) private func dispatch(_ own: () -> Void) {
        pending.store(threadCount - 1, ordering: .relaxed)
        // Publishes the job and `pending`; sequentially consistent against the workers' `sleepers`
        // increment, so either we see a sleeper here or it sees the new generation before it waits.
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
        }
        own()
        var spins = 0
        while pending.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins > Self.spinLimit { sched_yield() }
        }
    }

    private func workerLoop(_ index: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                if stopping.load(ordering: .relaxed) { return }
                spins += 1
                if spins < Self.spinLimit { continue }
                pthread_mutex_lock(mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen
                    && !stopping.load(ordering: .sequentiallyConsistent) {
                    pthread_cond_wait(wake, mutex)
                }
                sleepers.subtract(1, ordering: .relaxed)
                pthread_mutex_unlock(mutex)
                spins = 0
            }
            seen = generation.load(ordering: .acquiring)
            runJob(index)
            pending.subtract(1, ordering: .releasing)
        }
    }

    /// Calls the current job; a separate function so the worker's copy of the closure is released before
    /// `pending` says it is done.
    @inline(never)
    private func runJob(_ index: Int) {
        if let function = job.function { return function(job.context, index, threadCount) }
        job.body(index, threadCount)
    }
}

/// The one error type of the Kernels module.
public enum KernelsError: Error, CustomStringConvertible {
    /// pthread_create failed for worker `index` of a pool of `threads`.
    case threadStart(index: Int, threads: Int, errno: Int32)

    public var description: String {
        switch self {
        case let .threadStart(i, n, e):
            "cannot start thread \(i + 1) of \(n) (\(strerror(e).map { String(cString: $0) } ?? "error \(e)")); use fewer threads"
        }
    }
}

private final class WorkerContext {
    unowned(unsafe) let pool: ThreadPool  // deinit joins every worker before the pool goes: a worker never outlives it
    let index: Int
    init(pool: ThreadPool, index: Int) { self.pool = pool; self.index = index }
}

private final class JobBox {
    static let idle: @Sendable (Int, Int) -> Void = { _, _ in }
    var body: (Int, Int) -> Void = idle
    var function: ThreadPool.Job?
    var context = UnsafeRawPointer(bitPattern: 1)!
}
