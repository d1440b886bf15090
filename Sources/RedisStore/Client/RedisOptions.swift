import EventLoop
import Glibc
import TokenStore

/// Settings of the Redis store (`"store": {"kind": "redis", "url": "redis://…"}`).
///
/// ```swift
/// let options = try RedisOptions(url: config.url, password: env["GATEWAY_REDIS_PASSWORD"], logger: log)
/// let store = RedisTokenStore(options: options)
/// ```
public struct RedisOptions: Sendable, CustomStringConvertible {
    /// Server, database and credentials.
    public var url: RedisURL
    /// TLS settings of a `rediss://` URL (nil: the system CA store, the URL's host).
    public let tls: RedisTLSSettings?
    /// Made from `tls` for a `rediss://` URL; nil for `redis://`.
    let tlsContext: RedisTLSContext?
    /// Prefix of every key and of the pub/sub channel, so several gateways (or tests) can
    /// share one Redis database.
    public var keyPrefix: String
    /// Connections for commands (the subscriber has its own).
    public var poolSize: Int
    /// Time for TCP connect plus AUTH/SELECT (ms).
    public var connectTimeout: Int64
    /// Time from a call to its reply (ms), waiting for a connection included. Past it the
    /// call fails with `.unavailable` and the connection is replaced.
    public var commandTimeout: Int64
    /// First reconnect delay after a failed attempt (ms); doubles up to `reconnectMaxDelay`.
    public var reconnectBaseDelay: Int64
    public var reconnectMaxDelay: Int64
    /// How often the subscriber pings Redis to detect a silently dead connection (ms).
    public var healthCheckInterval: Int64
    /// Most commands waiting or in flight; beyond it calls fail at once (back-pressure).
    public var maxPendingCommands: Int
    /// Reply size limits.
    public var limits: RESPLimits
    /// Identifies this process's revocations on the channel (its own are not echoed to the
    /// listener). Random by default.
    public var instanceID: String
    /// Unix ms: the `now` of the resync after a reconnect. Tests pass a manual clock.
    public var clock: @Sendable () -> Int64
    /// Lifecycle events (connected, lost, resynced); never tokens or the password.
    public var logger: StoreLogger

    /// - Parameters:
    ///   - url: `redis://[user:password@]host:port/db`, or `rediss://…` for TLS.
    ///   - password: replaces the URL's password when set (from an environment variable).
    ///   - tls: CA, client certificate and server name of a `rediss://` URL; the files are
    ///     loaded and checked now, so a bad one is a start-up error.
    public init(
        url: String,
        password: String? = nil,
        tls: RedisTLSSettings? = nil,
        keyPrefix: String = "gw:",
        poolSize: Int = 2,
        connectTimeout: Int64 = 2_000,
        commandTimeout: Int64 = 2_000,
        reconnectBaseDelay: Int64 = 100,
        reconnectMaxDelay: Int64 = 5_000,
        healthCheckInterval: Int64 = 5_000,
        maxPendingCommands: Int = 65_536,
        limits: RESPLimits = .default,
        instanceID: String? = nil,
        clock: @escaping @Sendable () -> Int64 = RedisOptions.wallClock,
        logger: @escaping StoreLogger = { _, _ in }
    ) throws(RedisOptionsError) {
        var parsed: RedisURL
        do {
            parsed = try RedisURL(parsing: url)
        } catch {
            throw .url(error)
        }
        if let password { parsed.password = password }
        self.url = parsed
        self.tls = tls
        if parsed.tls {
            tlsContext = try RedisTLSContext(tls ?? RedisTLSSettings(), host: parsed.host)
        } else if tls != nil {
            throw .tlsNeedsRediss
        } else {
            tlsContext = nil
        }
        self.keyPrefix = keyPrefix
        self.poolSize = max(1, min(poolSize, 16))
        self.connectTimeout = max(1, connectTimeout)
        self.commandTimeout = max(1, commandTimeout)
        self.reconnectBaseDelay = max(1, reconnectBaseDelay)
        self.reconnectMaxDelay = max(self.reconnectBaseDelay, reconnectMaxDelay)
        self.healthCheckInterval = max(10, healthCheckInterval)
        self.maxPendingCommands = max(1, maxPendingCommands)
        self.limits = limits
        self.instanceID = instanceID ?? Self.randomID()
        self.clock = clock
        self.logger = logger
    }

    /// Never shows the password.
    public var description: String {
        "RedisOptions(url: \(url), keyPrefix: \(keyPrefix), poolSize: \(poolSize))"
    }

    /// Wall-clock Unix milliseconds.
    public static let wallClock: @Sendable () -> Int64 = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    static func randomID() -> String {
        Syscall.randomBytes(8).map { String($0, radix: 16).leftPadded(2) }.joined()
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
