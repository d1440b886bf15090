import Dispatch
import Synchronization

/// A few threads for work that must never run on an event loop: password hashing (scrypt
/// takes ~100 ms and 128 MiB by design) and calls to an upstream authenticator. Bounded:
/// past `maxQueued` jobs, `submit` refuses and the caller answers 503.
final class BlockingPool: Sendable {
    private let queues: [DispatchQueue]
    private let pending = Atomic<Int>(0)
    private let next = Atomic<Int>(0)
    private let maxQueued: Int

    init(threads: Int, maxQueued: Int) {
        queues = (0..<max(1, threads)).map { DispatchQueue(label: "gw-blocking-\($0)") }
        self.maxQueued = maxQueued
    }

    /// Runs `job` on a pool thread; false (and `job` dropped) when the pool is saturated.
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        guard pending.add(1, ordering: .relaxed).newValue <= maxQueued else {
            pending.subtract(1, ordering: .relaxed)
            return false
        }
        let i = next.add(1, ordering: .relaxed).newValue % queues.count
        queues[i].async { [self] in
            job()
            pending.subtract(1, ordering: .relaxed)
        }
        return true
    }
}
