import TokenStore

/// The long-lived parts of the token life cycle, shared by every configuration generation:
/// a reload swaps keys and settings, never the store or the revocations in force.
final class TokenServices: Sendable {
    let store: any TokenStore
    let throttle: any LoginThrottle
    let hub: RevocationHub
    let pool: BlockingPool
    let logger: Logger
    let counters = TokenCounters()

    init(store: any TokenStore, throttle: any LoginThrottle, hub: RevocationHub, pool: BlockingPool, logger: Logger) {
        self.store = store
        self.throttle = throttle
        self.hub = hub
        self.pool = pool
        self.logger = logger
    }
}

/// A newly issued pair (RFC 6749 §5.1).
struct TokenPair: Sendable {
    var accessToken: String
    var accessExpiresIn: Int64
    var refreshToken: RefreshToken
    var refreshExpiresIn: Int64
    var scope: String?
}

/// Why a grant failed; each maps to one answer per endpoint style (`/auth/*` or RFC 6749).
enum GrantFailure: Error, Sendable {
    /// Bad credentials, or an expired, revoked, reused or unknown refresh token.
    case invalidGrant(String)
    case invalidRequest(String)
    /// Too many failed logins; seconds until the next try.
    case throttled(retryAfter: Int64)
    /// The access token is genuine but too old for what it was presented for (SPEC §8
    /// logout everywhere): 401 `invalid_token`.
    case staleAccessToken(String)
    /// The store or the authenticator cannot answer now.
    case unavailable(String)
}

typealias GrantCompletion = @Sendable (Result<TokenPair, GrantFailure>) -> Void
