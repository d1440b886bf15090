/// Checks a username and password (SPEC §3 login). Called on a `BlockingPool` thread, so
/// implementations may block (hashing, an HTTP call), within their own timeout.
protocol Authenticator: Sendable {
    func authenticate(username: String, password: [UInt8]) -> AuthenticationResult
}

enum AuthenticationResult: Sendable {
    case success(LoginIdentity)
    /// Wrong username or password: 401 `invalid_grant`, counted by the throttle.
    case rejected
    /// The authenticator could not decide (upstream down, timeout): 503, not counted.
    case unavailable(String)
}
