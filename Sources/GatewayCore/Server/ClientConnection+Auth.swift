/// What the auth policy decided for a proxied request.
enum AuthOutcome {
    /// Forward, adding these identity header lines (empty for anonymous).
    case allow([UInt8])
    case deny(LocalResponse)
}

extension ClientConnection {
    /// Applies the route's auth mode. Until token verification is wired in, only `none`
    /// routes are served; protected routes fail closed.
    func authorize(_ route: Route) -> AuthOutcome {
        switch route.config.auth {
        case .none:
            return .allow([])
        case .required, .optional:
            return .deny(.error(401, "unauthorized", "Authentication is required",
                                headers: [("WWW-Authenticate", "Bearer realm=\"\(runtime.config.auth.realm)\"")]))
        }
    }
}
