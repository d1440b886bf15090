#if canImport(Glibc)
import Glibc
#endif

/// A dedicated, detached pthread (not Swift concurrency and not a Dispatch pool thread: the
/// journal writer blocks in `fdatasync` and must not hold up a shared pool).
enum StoreThread {
    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Starts `body` on a new thread. (Glibc's module hides `pthread_setname_np` behind
    /// `_GNU_SOURCE`, so the thread stays unnamed.)
    /// Returns pthread_create's error number, or 0.
    static func detach(_ body: @escaping @Sendable () -> Void) -> Int32 {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(
            &thread,
            nil,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                box.body()
                return nil
            },
            box
        )
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            return rc
        }
        pthread_detach(thread)
        return 0
    }

    /// The calling thread, comparable with `pthread_equal`.
    static var current: pthread_t { pthread_self() }
}
