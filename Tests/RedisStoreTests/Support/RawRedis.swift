import EventLoop
import Synchronization
import TokenStore

@testable import RedisStore

/// A bare `RedisClient` on its own loop thread, for inspecting what the store wrote and
/// for driving the client directly.
final class RawRedis: @unchecked Sendable {
    let loop: EventLoop
    let client: RedisClient
    private let stopped = Mutex(false)

    init(_ options: RedisOptions, waitForConnection: Bool = true) throws {
        loop = try EventLoop(index: 0)
        client = RedisClient(loop: loop, options: options)
        let loop = self.loop
        let client = self.client
        Thread.spawn(name: "raw-redis") { loop.run() }
        loop.execute { client.start() }
        if waitForConnection, !waitUntil(seconds: 10, client.isUp) { throw TestFailure("raw client did not connect") }
    }

    /// Generous command and connect deadlines: these clients test commands, not timeouts, and
    /// a loaded CI machine once took more than the 2 s default to answer a pipelined batch,
    /// which closed the connection ("not connected").
    convenience init(url: String) throws {
        try self.init(try RedisOptions(url: url, connectTimeout: 20_000, commandTimeout: 20_000))
    }

    /// Connects on a thread of its own (the wait blocks).
    static func open(_ options: RedisOptions, waitForConnection: Bool = true) async throws -> RawRedis {
        try await offPool { try RawRedis(options, waitForConnection: waitForConnection) }
    }

    static func open(url: String) async throws -> RawRedis {
        try await offPool { try RawRedis(url: url) }
    }

    func send(_ args: [any RESPArgument]) async -> Result<RESPValue, RedisError> {
        precondition(!args.isEmpty)
        let command = RedisCommand(arguments: args.map(\.respBytes))
        return await withCheckedContinuation { c in client.send(command) { c.resume(returning: $0) } }
    }

    /// Sends and says how long the answer took, timed on the client's loop thread where it is
    /// given: the awaiting task may wait seconds for a pool thread on a loaded machine.
    func timedSend(_ args: any RESPArgument...) async -> (Result<RESPValue, RedisError>, milliseconds: Int64) {
        let command = RedisCommand(arguments: args.map(\.respBytes))
        let started = monotonicMillis()
        return await withCheckedContinuation { c in
            client.send(command) { c.resume(returning: ($0, monotonicMillis() - started)) }
        }
    }

    func send(_ args: any RESPArgument...) async -> Result<RESPValue, RedisError> {
        await send(args)
    }

    func value(_ args: any RESPArgument...) async throws -> RESPValue {
        try await send(args).get()
    }

    func close() {
        guard
            !stopped.withLock({ s in
                defer { s = true }; return s
            })
        else { return }
        client.shutdown()
    }

    deinit { close() }
}

/// Collects what a revocation listener receives.
final class ListenerLog: Sendable {
    private let received = Mutex<[Revocation]>([])

    var listener: @Sendable (Revocation) -> Void { { [self] r in received.withLock { $0.append(r) } } }
    var all: [Revocation] { received.withLock { $0 } }
    func contains(_ r: Revocation) -> Bool { received.withLock { $0.contains(r) } }
    func clear() { received.withLock { $0.removeAll() } }
}

/// A Redis store on `server` for integration tests, available before it is returned.
func openStore(
    _ server: RedisServer,
    prefix: String = "it:",
    instance: String? = nil,
    commandTimeout: Int64 = 2_000,
    clock: @escaping @Sendable () -> Int64 = { t0 },
    url: String? = nil,
    password: String? = nil,
    waitAvailable: Bool = true
) async throws -> RedisTokenStore {
    try await offPool {
        try openStoreBlocking(
            server,
            prefix: prefix,
            instance: instance,
            commandTimeout: commandTimeout,
            clock: clock,
            url: url,
            password: password,
            waitAvailable: waitAvailable
        )
    }
}

func openStoreBlocking(
    _ server: RedisServer,
    prefix: String = "it:",
    instance: String? = nil,
    commandTimeout: Int64 = 2_000,
    clock: @escaping @Sendable () -> Int64 = { t0 },
    url: String? = nil,
    password: String? = nil,
    waitAvailable: Bool = true
) throws -> RedisTokenStore {
    let options = try RedisOptions(
        url: url ?? server.url,
        password: password,
        keyPrefix: prefix,
        connectTimeout: 1_000,
        commandTimeout: commandTimeout,
        reconnectBaseDelay: 50,
        reconnectMaxDelay: 250,
        healthCheckInterval: 200,
        instanceID: instance,
        clock: clock
    )
    let store = RedisTokenStore(options: options)
    if waitAvailable, !waitUntil(seconds: 10, store.isAvailable) {
        store.close()
        throw TestFailure("store not available within 10 s")
    }
    return store
}
