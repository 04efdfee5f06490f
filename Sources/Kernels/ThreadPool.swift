// A small persistent pool of worker threads: one job at a time, every thread runs it, the caller waits.
// Interim version (mutex and condition variables); the kernels work replaces the waiting with spin-then-park.

#if canImport(Glibc)
import Glibc
#endif

public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int
    private var workers: [pthread_t] = []
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var generation = 0
    private var pending = 0
    private var stopping = false
    private var job: ((Int, Int) -> Void)?

    /// `threads` ≥ 1 threads in all: the caller of `run` is thread 0, `threads - 1` workers are started here.
    public init(threads: Int) {
        precondition(threads >= 1)
        threadCount = threads
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
        for index in 1..<threads {
            let context = Unmanaged.passRetained(WorkerContext(pool: self, index: index)).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.pool.workerLoop(context.index)
                return nil
            }, context)
            precondition(rc == 0, "pthread_create failed: \(rc)")
            workers.append(thread)
        }
    }

    deinit {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        for t in workers { pthread_join(t, nil) }
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(wake)
        pthread_cond_destroy(done)
        mutex.deallocate()
        wake.deallocate()
        done.deallocate()
    }

    /// Runs `body(thread, threadCount)` on every thread of the pool; returns when all have finished.
    public func run(_ body: (_ thread: Int, _ threads: Int) -> Void) {
        if threadCount == 1 { return body(0, 1) }
        withoutActuallyEscaping(body) { escaping in
            pthread_mutex_lock(mutex)
            job = escaping
            pending = threadCount - 1
            generation &+= 1
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
            escaping(0, threadCount)
            pthread_mutex_lock(mutex)
            while pending > 0 { pthread_cond_wait(done, mutex) }
            job = nil
            pthread_mutex_unlock(mutex)
        }
    }

    private func workerLoop(_ index: Int) {
        var seen = 0
        while true {
            pthread_mutex_lock(mutex)
            while generation == seen && !stopping { pthread_cond_wait(wake, mutex) }
            if stopping { pthread_mutex_unlock(mutex); return }
            seen = generation
            let body = job!
            pthread_mutex_unlock(mutex)
            body(index, threadCount)
            pthread_mutex_lock(mutex)
            pending -= 1
            if pending == 0 { pthread_cond_signal(done) }
            pthread_mutex_unlock(mutex)
        }
    }
}

private final class WorkerContext {
    unowned let pool: ThreadPool
    let index: Int
    init(pool: ThreadPool, index: Int) { self.pool = pool; self.index = index }
}
