/// Counts login guesses per key (a username, a client address) in fixed windows, so the
/// login flow can answer 429 with `Retry-After` once a key has used its budget.
///
/// A guess takes its slot *before* the password is checked (`reserve`): the check and the
/// count are one atomic step, so however many logins race, at most `limit` guesses per key
/// and window are ever evaluated. A reserved slot stays counted as a failure unless the
/// flow gives it back (`release`: the authenticator could not decide) or clears the key
/// (`reset`: a successful login clears its username).
///
/// The embedded gateway counts in memory (`MemoryLoginThrottle`); replicas share counters
/// in Redis so the limits hold across them. Like `TokenStore`, calls never block the
/// caller and complete on a thread of the implementation's choosing.
///
/// ```swift
/// throttle.reserve([user, address], now: now) { result in
///     guard case .success(0) = result else { return answer429(result) }
///     // check the password; then reset(user) on success, release(...) if undecided
/// }
/// ```
public protocol LoginThrottle: AnyObject, Sendable {
    /// How long (ms) until every key may try again; 0 when none is at its limit. Counts nothing.
    func retryAfter(
        _ keys: [ThrottleKey], now: Int64,
        completion: @escaping @Sendable (Result<Int64, TokenStoreError>) -> Void)

    /// Takes one slot of every key, atomically and all or nothing: 0 when the slots are
    /// taken (the guess may be evaluated), or how long (ms) until the key that is at its
    /// limit frees up, in which case nothing is counted.
    func reserve(
        _ keys: [ThrottleKey], now: Int64,
        completion: @escaping @Sendable (Result<Int64, TokenStoreError>) -> Void)

    /// Gives back one slot of every key (a guess that was not evaluated after all).
    func release(
        _ keys: [ThrottleKey], now: Int64, completion: @escaping @Sendable (Result<Void, TokenStoreError>) -> Void)

    /// Forgets a key's failures (a successful login clears its username).
    func reset(_ key: ThrottleKey, completion: @escaping @Sendable (Result<Void, TokenStoreError>) -> Void)
}

/// One counter: at most `limit` guesses within `window` ms, counted from its first guess.
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
