import EventLoop
import Synchronization
import TokenStore

/// The dedicated pub/sub connection: `SUBSCRIBE`s to the revocation channel and hands
/// revocations made by *other* instances to the listener.
///
/// After every (re)connect it subscribes first, then reads every revocation in force
/// (`resync`) and delivers each to the listener, and only then reports itself synced: a
/// revocation published while it was away is never missed, and one published during the
/// resync may arrive twice (delivery is idempotent). While disconnected or resyncing,
/// `isSynced` is false. A `PING` every `healthCheckInterval` detects a silently dead
/// connection. Confined to the loop thread, but for `isSynced` and `setListener`.
final class RedisSubscriber: @unchecked Sendable {
    typealias Resync = (@escaping @Sendable (Result<[Revocation], TokenStoreError>) -> Void) -> Void

    private let loop: EventLoop
    private let options: RedisOptions
    private let channel: String
    private let resync: Resync
    private let synced = Atomic<Bool>(false)
    private let listener = Mutex<(@Sendable (Revocation) -> Void)?>(nil)

    private var connection: RedisConnection?
    private var backoff: Backoff
    private var resyncBackoff: Backoff
    private var generation = 0
    private var retry: TimerHandle?
    private var health: TimerHandle?
    private var pingSentAt: Int64?
    private var closed = false

    /// Called on the loop when `isSynced` changes.
    var onSyncChange: ((Bool) -> Void)?

    init(loop: EventLoop, options: RedisOptions, channel: String, resync: @escaping Resync) {
        self.loop = loop
        self.options = options
        self.channel = channel
        self.resync = resync
        backoff = Backoff(base: options.reconnectBaseDelay, max: options.reconnectMaxDelay)
        resyncBackoff = backoff
    }

    /// Subscribed and resynced (any thread).
    var isSynced: Bool { synced.load(ordering: .acquiring) }

    /// Sets the listener (any thread). If the subscriber is synced already, every
    /// revocation in force is delivered to the new listener too.
    func setListener(_ body: @escaping @Sendable (Revocation) -> Void) {
        listener.withLock { $0 = body }
        loop.execute { [self] in
            if isSynced { startResync(generation, announce: false) }
        }
    }

    func start() {
        connect()
        health = loop.scheduleRepeating(every: options.healthCheckInterval) { [weak self] in self?.checkHealth() }
    }

    func close() {
        closed = true
        retry?.cancel()
        health?.cancel()
        connection?.close(.closed)
        setSynced(false)
    }

    // MARK: - Connection

    private func connect() {
        retry = nil
        guard !closed else { return }
        generation += 1
        let address: SocketAddress
        let c: RedisConnection
        do {
            guard let a = try? SocketAddress.resolve(host: options.url.host, port: options.url.port).first else {
                throw RedisError.unavailable("cannot resolve \(options.url.host)")
            }
            address = a
            c = try RedisConnection(
                loop: loop,
                address: address,
                tls: options.tlsContext,
                handshake: RedisClient.handshake(options.url),
                connectTimeout: options.connectTimeout,
                limits: options.limits
            )
        } catch {
            failedAttempt()
            return
        }
        connection = c
        pingSentAt = nil
        c.onReady = { [unowned self, unowned c] in
            c.send(RedisCommand("SUBSCRIBE", channel), deadline: .max, reply: nil)
        }
        c.onPush = { [unowned self] value in handle(value) }
        c.onClose = { [unowned self] error in
            connection = nil
            setSynced(false)
            guard !closed else { return }
            if backoff.failures == 0 {
                options.logger(.warning, "redis: subscriber disconnected (\(error))")
            }
            failedAttempt()
        }
    }

    private func failedAttempt() {
        backoff.failed()
        retry = loop.schedule(after: backoff.delay) { [weak self] in self?.connect() }
    }

    private func handle(_ value: RESPValue) {
        guard let parts = value.array, let kind = parts.first?.string else { return }
        switch kind {
        case "subscribe":
            backoff.succeeded()
            resyncBackoff.succeeded()
            startResync(generation, announce: true)
        case "message":
            guard parts.count == 3, let payload = parts[2].bytes,
                let (instance, revocation) = RevocationMessage.decode(payload)
            else { return }
            if instance != options.instanceID { deliver([revocation]) }
        case "pong":
            pingSentAt = nil
        default:
            break
        }
    }

    // MARK: - Resync

    /// Reads every revocation in force and delivers it; marks the subscriber synced if
    /// `announce`. Retried with backoff while the connection that asked for it lives.
    private func startResync(_ gen: Int, announce: Bool) {
        resync { [weak self] result in
            self?.loop.execute { [weak self] in self?.resynced(result, gen, announce) }
        }
    }

    private func resynced(_ result: Result<[Revocation], TokenStoreError>, _ gen: Int, _ announce: Bool) {
        guard gen == generation, connection != nil, !closed else { return }
        switch result {
        case .success(let revocations):
            deliver(revocations)
            if announce {
                options.logger(.info, "redis: subscribed and resynced (\(revocations.count) revocations in force)")
                setSynced(true)
            }
        case .failure(let error):
            resyncBackoff.failed()
            if resyncBackoff.failures == 1 { options.logger(.warning, "redis: resync failed (\(error))") }
            retry = loop.schedule(after: resyncBackoff.delay) { [weak self] in
                guard let self, gen == generation, connection != nil else { return }
                startResync(gen, announce: announce)
            }
        }
    }

    private func deliver(_ revocations: [Revocation]) {
        guard let body = listener.withLock({ $0 }) else { return }
        for r in revocations { body(r) }
    }

    private func setSynced(_ value: Bool) {
        if synced.exchange(value, ordering: .acquiringAndReleasing) != value { onSyncChange?(value) }
    }

    // MARK: - Health

    private func checkHealth() {
        guard let c = connection, c.state == .ready else { return }
        if let sent = pingSentAt {
            if loop.now - sent > options.commandTimeout { c.close(.timeout) }
            return
        }
        pingSentAt = loop.now
        c.send(RedisCommand("PING"), deadline: .max, reply: nil)
    }
}
