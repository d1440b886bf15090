import TokenStore

/// Why a command got no usable reply.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No connection: Redis is unreachable, a connect or AUTH failed, or the connection was
    /// lost with the command in flight (it may or may not have run).
    case unavailable(String)
    /// No reply within the command timeout (the connection is replaced).
    case timeout
    /// Too many commands waiting (`RedisOptions.maxPendingCommands`).
    case overloaded
    /// Redis answered with an error reply.
    case server(String)
    /// Redis sent something this client cannot parse, or did not expect.
    case protocolViolation(String)
    /// The client was closed.
    case closed

    public var description: String {
        switch self {
        case .unavailable(let why): return "redis unavailable: \(why)"
        case .timeout: return "redis command timed out"
        case .overloaded: return "too many redis commands pending"
        case .server(let message): return "redis error: \(message)"
        case .protocolViolation(let why): return "redis protocol error: \(why)"
        case .closed: return "redis client closed"
        }
    }

    /// The store's error for this failure: `.closed`, or `.unavailable` (503 + Retry-After).
    var storeError: TokenStoreError {
        if case .closed = self { return .closed }
        return .unavailable(reason: description)
    }
}
