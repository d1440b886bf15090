import TokenStore

/// Failed-login counters in Redis, so that limits hold across replicas.
///
/// Fixed windows like `MemoryLoginThrottle`: a key's window opens at its first guess
/// and lasts `window` ms; each reserved guess in it counts; at `limit` the key must wait
/// until the window closes. Here the window is a Redis key (`<prefix>t:<name>`) made by
/// `INCR` and given its `PEXPIRE` at the first failure, and the wait is its `PTTL`: time
/// is Redis's clock, shared by every replica, so the `now` arguments are not used. Each
/// call is one atomic script round trip: `reserve` checks and counts in the same script.
///
/// ```swift
/// let throttle = RedisLoginThrottle(sharing: store)
/// throttle.reserve([user, address], now: now) { result in … }
/// ```
public final class RedisLoginThrottle: LoginThrottle {
    private let client: RedisClient?
    private let prefix: String
    /// Keeps a store this throttle created alive (`init(options:)`).
    private let owned: RedisTokenStore?

    /// Uses the store's connections and key prefix.
    public init(sharing store: RedisTokenStore) {
        client = store.client
        prefix = store.options.keyPrefix
        owned = nil
    }

    /// Opens its own connections (and an unused subscriber) with these options.
    public convenience init(options: RedisOptions) {
        self.init(owning: RedisTokenStore(options: options))
    }

    private init(owning store: RedisTokenStore) {
        client = store.client
        prefix = store.options.keyPrefix
        owned = store
    }

    public func retryAfter(
        _ keys: [ThrottleKey],
        now: Int64,
        completion: @escaping @Sendable (Result<Int64, TokenStoreError>) -> Void
    ) {
        run("peek", keys, completion)
    }

    public func reserve(
        _ keys: [ThrottleKey],
        now: Int64,
        completion: @escaping @Sendable (Result<Int64, TokenStoreError>) -> Void
    ) {
        run("reserve", keys, completion)
    }

    public func release(
        _ keys: [ThrottleKey],
        now: Int64,
        completion: @escaping @Sendable (Result<Void, TokenStoreError>) -> Void
    ) {
        run("release", keys) { completion($0.map { _ in () }) }
    }

    public func reset(_ key: ThrottleKey, completion: @escaping @Sendable (Result<Void, TokenStoreError>) -> Void) {
        guard let client else { return completion(.failure(.unavailable(reason: "redis store not started"))) }
        client.send(RedisCommand("DEL", redisKey(key))) { result in
            switch result {
            case .success(.integer): completion(.success(()))
            case .success(let other): completion(.failure(Self.unexpected(other)))
            case .failure(let e): completion(.failure(e.storeError))
            }
        }
    }

    /// Closes the connections if this throttle opened them.
    public func close() {
        owned?.close()
    }

    private func run(
        _ mode: String,
        _ keys: [ThrottleKey],
        _ completion: @escaping @Sendable (Result<Int64, TokenStoreError>) -> Void
    ) {
        guard !keys.isEmpty else { return completion(.success(0)) }
        guard let client else { return completion(.failure(.unavailable(reason: "redis store not started"))) }
        var args: [[UInt8]] = [Array(mode.utf8)]
        for key in keys {
            args.append(Array(redisKey(key).utf8))
            args.append(arg(Int64(max(1, key.limit))))
            args.append(arg(max(1, key.window)))
        }
        client.run(RedisScripts.throttle, arguments: args) { result in
            switch result {
            case .success(.integer(let wait)): completion(.success(max(0, wait)))
            case .success(let other): completion(.failure(Self.unexpected(other)))
            case .failure(let e): completion(.failure(e.storeError))
            }
        }
    }

    private func redisKey(_ key: ThrottleKey) -> String { prefix + "t:" + key.name }

    private static func unexpected(_ reply: RESPValue) -> TokenStoreError {
        if let message = reply.errorMessage { return RedisError.server(message).storeError }
        return RedisError.protocolViolation("unexpected reply").storeError
    }
}
