import RedisStore
import TokenStore

/// Opens the Redis store and its login throttle, sharing one connection pool (SPEC §5).
enum RedisBackend {
    static func open(
        url: String, password: String?, keyPrefix: String, tls: RedisTLSSettings?,
        logger: @escaping StoreLogger
    ) throws(ConfigError) -> (store: any TokenStore, throttle: any LoginThrottle) {
        let options = try options(url: url, password: password, keyPrefix: keyPrefix, tls: tls, logger: logger)
        let store = RedisTokenStore(options: options)
        return (store, RedisLoginThrottle(sharing: store))
    }

    /// The store's options, its TLS files loaded and checked (no connection is made), so
    /// `gateway check` names a missing, unreadable or mismatched certificate or key.
    static func options(
        url: String, password: String?, keyPrefix: String, tls: RedisTLSSettings?,
        logger: @escaping StoreLogger = { _, _ in }
    ) throws(ConfigError) -> RedisOptions {
        do {
            return try RedisOptions(url: url, password: password, tls: tls, keyPrefix: keyPrefix, logger: logger)
        } catch {
            if case .url = error { throw ConfigError("store.url", "\(error)") }
            throw ConfigError("store.tls", "\(error)")
        }
    }
}
