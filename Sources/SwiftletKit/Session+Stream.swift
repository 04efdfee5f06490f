// A generation as an AsyncThrowingStream of pieces. In a file of its own: this object is the only one that
// needs the Swift concurrency runtime, and a C program, which never references it, leaves it out of its link
// (libswiftlet.a's link line has no -lswift_Concurrency).

#if canImport(Glibc)
import Glibc
#endif

extension Swiftlet.Session {
    /// `generate`'s pieces as an asynchronous sequence, ending as `generate` ends (throwing its errors). The
    /// generation runs on a thread of its own, ahead of the consumer; when the consumer stops iterating, it stops
    /// at the next token. Until then the session's other calls wait for it.
    public func stream(_ prompt: String, maxTokens: Int) -> AsyncThrowingStream<Swiftlet.Piece, any Swift.Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Swiftlet.Piece.self)
        let started = startThread {
            do {
                try self.generate(prompt, maxTokens: maxTokens) { piece in
                    if case .terminated = continuation.yield(piece) { return false }
                    return true
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        if !started { continuation.finish(throwing: Swiftlet.Error(.outOfMemory, "no thread could be started for the generation")) }
        return stream
    }
}

/// Runs `body` on a new, detached thread; false when none could be started. A thread, not a Task: a generation
/// computes for seconds, and blocking the cooperative pool (one thread per core) would stall every other task.
private func startThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
    let context = Unmanaged.passRetained(Body(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { raw in
        Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
        return nil
    }, context)
    guard rc == 0 else {
        Unmanaged<Body>.fromOpaque(context).release()
        return false
    }
    pthread_detach(thread)
    return true
}
