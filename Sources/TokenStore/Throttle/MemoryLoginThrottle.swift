import Synchronization

/// Login-guess counters of one process. Bounded: past `capacity` keys, expired windows
/// are dropped first; if every window is still open, new keys are not tracked (their
/// usernames are still limited by their own key once space frees up).
///
/// Completions run synchronously on the calling thread. The lock is taken only on the
/// login path, never by proxied requests; `reserve` checks and counts under one hold of
/// it, so concurrent logins cannot all pass the check before any of them is counted.
public final class MemoryLoginThrottle: LoginThrottle {
    private struct Window {
        var failures: Int
        var endsAt: Int64
    }

    private let windows = Mutex([String: Window]())
    private let capacity: Int

    public init(capacity: Int = 100_000) {
        self.capacity = max(1, capacity)
    }

    public func retryAfter(
        _ keys: [ThrottleKey], now: Int64,
        completion: @escaping @Sendable (Result<Int64, TokenStoreError>) -> Void
    ) {
        let wait = windows.withLock { table in Self.wait(keys, table, now) }
        completion(.success(wait))
    }

    public func reserve(
        _ keys: [ThrottleKey], now: Int64,
        completion: @escaping @Sendable (Result<Int64, TokenStoreError>) -> Void
    ) {
        let wait = windows.withLock { table in
            let wait = Self.wait(keys, table, now)
            guard wait == 0 else { return wait }
            for key in keys {
                if var w = table[key.name], w.endsAt > now {
                    w.failures += 1
                    table[key.name] = w
                } else {
                    if table.count >= capacity { table = table.filter { $0.value.endsAt > now } }
                    if table.count < capacity { table[key.name] = Window(failures: 1, endsAt: now + key.window) }
                }
            }
            return 0
        }
        completion(.success(wait))
    }

    public func release(
        _ keys: [ThrottleKey], now: Int64, completion: @escaping @Sendable (Result<Void, TokenStoreError>) -> Void
    ) {
        windows.withLock { table in
            for key in keys {
                guard var w = table[key.name], w.endsAt > now else { continue }
                w.failures = max(0, w.failures - 1)
                table[key.name] = w
            }
        }
        completion(.success(()))
    }

    public func reset(_ key: ThrottleKey, completion: @escaping @Sendable (Result<Void, TokenStoreError>) -> Void) {
        _ = windows.withLock { $0.removeValue(forKey: key.name) }
        completion(.success(()))
    }

    private static func wait(_ keys: [ThrottleKey], _ table: [String: Window], _ now: Int64) -> Int64 {
        var wait: Int64 = 0
        for key in keys {
            if let w = table[key.name], w.endsAt > now, w.failures >= key.limit {
                wait = max(wait, w.endsAt - now)
            }
        }
        return wait
    }
}
