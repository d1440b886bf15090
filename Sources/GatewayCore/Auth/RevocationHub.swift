import EventLoop
import Synchronization
import TokenStore

/// Fans revocations out to every worker's `RevocationList`, and keeps a master copy for
/// workers that start later. A revocation is acknowledged (the logout answered, the reuse
/// refused) only once every worker applied it, so the very next request on any
/// connection sees it.
final class RevocationHub: Sendable {
    private struct State {
        var master = RevocationList()
        var workers: [(loop: EventLoop, apply: @Sendable ([Revocation]) -> Void)] = []
    }

    private let state = Mutex(State())

    /// Revocations in force (the master copy).
    var count: Int { state.withLock { $0.master.count } }

    /// Whether a token is revoked, by the master copy (introspection; the proxy path reads
    /// its worker's own list instead).
    func isRevoked(sid: String?, jti: String?, now: Int64) -> Bool {
        state.withLock { $0.master.isRevoked(sid: sid, jti: jti, now: now) }
    }

    /// Registers a worker and returns the revocations in force, for its own list.
    func register(loop: EventLoop, apply: @escaping @Sendable ([Revocation]) -> Void) -> RevocationList {
        state.withLock { s in
            s.workers.append((loop, apply))
            return s.master
        }
    }

    /// Applies `revocations` everywhere, then calls `done` (on some worker's thread).
    func broadcast(_ revocations: [Revocation], now: Int64, done: @escaping @Sendable () -> Void = {}) {
        let workers = state.withLock { s in
            for r in revocations { s.master.apply(r) }
            s.master.sweep(now: now)
            return s.workers
        }
        guard !revocations.isEmpty, !workers.isEmpty else {
            done()
            return
        }
        let box = PendingCounter(workers.count)
        for w in workers {
            let apply = w.apply
            w.loop.execute {
                apply(revocations)
                if box.arrive() { done() }
            }
        }
    }
}

/// Counts down the workers that still have to apply a broadcast.
final class PendingCounter: Sendable {
    private let remaining: Atomic<Int>
    init(_ count: Int) { remaining = Atomic(count) }
    /// True for the last arrival.
    func arrive() -> Bool { remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 }
}
