/// A Lua script run by `EVALSHA`, with `EVAL` once if Redis answers `NOSCRIPT` (after a
/// restart or `SCRIPT FLUSH`), which also caches it again.
public struct RedisScript: Sendable {
    public let source: String
    /// SHA-1 of the source, as Redis names it.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = SHA1.hex(Array(source.utf8))
    }
}
