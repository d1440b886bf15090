import Dispatch
import EventLoop
import Synchronization
import TokenStore

/// The token store shared by gateway replicas, in Redis (SPEC §5).
///
/// Each operation is one Lua script run atomically by Redis (`RedisScripts.store`), so two
/// replicas presenting the same refresh token at once get exactly one rotation; the other
/// sees a grace replay or reuse, never a second branch. A completion reports success only
/// once Redis has answered, so with `appendfsync always` an acknowledged change is on disk.
///
/// I/O runs on the store's own thread and event loop (a command pool plus one subscriber
/// connection); completions and the revocation listener run on that thread, and callers
/// hop back to their own loop. While Redis is unreachable, calls fail within the command
/// timeout, or at once after a failed reconnect, with `.unavailable(reason:)`.
///
/// ```swift
/// let store = RedisTokenStore(options: try RedisOptions(url: "redis://127.0.0.1:6379/0"))
/// store.setRevocationListener { revocation in revocations.insert(revocation) }
/// ```
public final class RedisTokenStore: TokenStore, @unchecked Sendable {
    let options: RedisOptions
    let client: RedisClient?
    private let subscriber: RedisSubscriber?
    private let loop: EventLoop?
    private let startError: String?
    private let closed = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)

    /// Starts connecting in the background; `isAvailable` turns true once a command
    /// connection is up and the subscriber has subscribed and resynced.
    public init(options: RedisOptions) {
        self.options = options
        let loop: EventLoop
        do {
            loop = try EventLoop(index: 0)
        } catch {
            // No loop, no I/O: every call fails with `.unavailable`.
            self.loop = nil
            self.client = nil
            self.subscriber = nil
            self.startError = "cannot start the redis event loop: \(error)"
            options.logger(.error, "redis: \(startError!)")
            return
        }
        self.loop = loop
        self.startError = nil
        let client = RedisClient(loop: loop, options: options)
        self.client = client
        let prefix = options.keyPrefix
        subscriber = RedisSubscriber(loop: loop, options: options, channel: prefix + "revocations") { done in
            Self.active(client, options, now: options.clock(), completion: done)
        }
        let stopped = self.stopped
        Thread.spawn(name: "redis-store") {
            loop.run()
            stopped.signal()
        }
        loop.execute { [client, subscriber] in
            client.start()
            subscriber?.start()
        }
    }

    deinit {
        close()
    }

    /// A command connection is up, and the subscriber is subscribed and resynced.
    public var isAvailable: Bool {
        !closed.load(ordering: .acquiring) && (client?.isUp ?? false) && (subscriber?.isSynced ?? false)
    }

    /// Receives revocations made by *other* instances (pub/sub; this instance's own are
    /// returned to its callers instead), and, after every reconnect of the subscriber and
    /// when first set, every revocation in force (a resync: entries may repeat, and
    /// applying one twice must be harmless). Runs on the store's thread; keep it short.
    public func setRevocationListener(_ listener: @escaping @Sendable (Revocation) -> Void) {
        subscriber?.setListener(listener)
    }

    /// Stops the I/O thread (waits up to 2 s for it); calls in flight and later calls
    /// fail with `.closed`.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing), let loop, let client else { return }
        client.shutdown { [subscriber] in subscriber?.close() }
        if !loop.inEventLoop { _ = stopped.wait(timeout: .now() + .seconds(2)) }
    }

    // MARK: - Running scripts

    /// Runs one store operation: `op prefix instance now args…`. Nil `reply` means the
    /// call failed already (and `completion` has been called).
    func run<T>(
        _ op: String,
        now: Int64,
        _ arguments: [[UInt8]],
        completion: @escaping @Sendable (Result<T, TokenStoreError>) -> Void,
        decode: @escaping @Sendable (RESPValue) -> T?
    ) {
        if closed.load(ordering: .acquiring) { return completion(.failure(.closed)) }
        guard let client else { return completion(.failure(.unavailable(reason: startError ?? "not started"))) }
        Self.run(client, options, op, now: now, arguments, completion: completion, decode: decode)
    }

    static func run<T>(
        _ client: RedisClient,
        _ options: RedisOptions,
        _ op: String,
        now: Int64,
        _ arguments: [[UInt8]],
        completion: @escaping @Sendable (Result<T, TokenStoreError>) -> Void,
        decode: @escaping @Sendable (RESPValue) -> T?
    ) {
        let head: [[UInt8]] = [Array(op.utf8), Array(options.keyPrefix.utf8), Array(options.instanceID.utf8), arg(now)]
        client.run(RedisScripts.store, arguments: head + arguments) { result in
            switch result {
            case .failure(let e):
                completion(.failure(e.storeError))
            case .success(.error(let message)):
                completion(.failure(RedisError.server(message).storeError))
            case .success(let value):
                if let decoded = decode(value) {
                    completion(.success(decoded))
                } else {
                    completion(.failure(RedisError.protocolViolation("unexpected reply to \(op)").storeError))
                }
            }
        }
    }

    static func active(
        _ client: RedisClient,
        _ options: RedisOptions,
        now: Int64,
        completion: @escaping @Sendable (Result<[Revocation], TokenStoreError>) -> Void
    ) {
        run(client, options, "active", now: now, [], completion: completion, decode: StoreReply.revocationList)
    }
}

/// Times and TTLs as script arguments, clamped so that sums stay exact in Lua's doubles.
@inline(__always)
func arg(_ value: Int64) -> [UInt8] {
    let bound: Int64 = 1 << 51
    return Array(String(min(max(value, -bound), bound)).utf8)
}

@inline(__always)
func arg(_ value: String) -> [UInt8] { Array(value.utf8) }

@inline(__always)
func arg(_ value: Bool) -> [UInt8] { value ? [UInt8(ascii: "1")] : [UInt8(ascii: "0")] }
