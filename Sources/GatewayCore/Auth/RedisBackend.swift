import RedisStore
import TokenStore

/// Opens the Redis store and its login throttle, sharing one connection pool (SPEC §5).
enum RedisBackend {
    static func open(
        url: String, password: String?, keyPrefix: String,
        logger: @escaping StoreLogger
    ) throws(ConfigError) -> (store: any TokenStore, throttle: any LoginThrottle) {
        let options: RedisOptions
        do {
            options = try RedisOptions(url: url, password: password, keyPrefix: keyPrefix, logger: logger)
        } catch {
            throw ConfigError("store.url", "\(error)")
        }
        let store = RedisTokenStore(options: options)
        return (store, RedisLoginThrottle(sharing: store))
    }
}
