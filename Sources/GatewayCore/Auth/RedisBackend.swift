import TokenStore

/// Opens the Redis store and throttle (SPEC §5, issue 5).
enum RedisBackend {
    static func open(url: String, password: String?, keyPrefix: String,
                     logger: @escaping StoreLogger) throws(ConfigError) -> (store: any TokenStore, throttle: any LoginThrottle) {
        throw ConfigError("store.kind", "the redis store is not available in this build yet")
    }
}
