/// Counts failed logins per key (a username, a client address) in fixed windows, so the
/// login flow can answer 429 with `Retry-After` once a key has failed too often.
///
/// The embedded gateway counts in memory (`MemoryLoginThrottle`); replicas share counters
/// in Redis so the limits hold across them. Like `TokenStore`, calls never block the
/// caller and complete on a thread of the implementation's choosing.
public protocol LoginThrottle: AnyObject, Sendable {
    /// How long (ms) until every key may try again; 0 when none is over its limit.
    func retryAfter(
        _ keys: [ThrottleKey], now: Int64,
        completion: @escaping @Sendable (Result<Int64, TokenStoreError>) -> Void)

    /// Counts one failure against every key; answers like `retryAfter` after counting.
    func recordFailure(
        _ keys: [ThrottleKey], now: Int64,
        completion: @escaping @Sendable (Result<Int64, TokenStoreError>) -> Void)

    /// Forgets a key's failures (a successful login clears its username).
    func reset(_ key: ThrottleKey, completion: @escaping @Sendable (Result<Void, TokenStoreError>) -> Void)
}

/// One counter: at most `limit` failures within `window` ms, counted from its first failure.
public struct ThrottleKey: Sendable, Hashable {
    /// Namespaced by the caller, e.g. `u:alice` or `a:127.0.0.1`.
    public var name: String
    public var limit: Int
    public var window: Int64

    public init(name: String, limit: Int, window: Int64) {
        self.name = name
        self.limit = limit
        self.window = window
    }
}
