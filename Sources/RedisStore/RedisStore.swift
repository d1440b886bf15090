/// The Redis backend of `TokenStore` (SPEC §5): see `RedisTokenStore`.
public enum RedisStore {}
