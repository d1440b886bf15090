import HTTP1
import JOSE

/// What the auth policy decided for a proxied request.
enum AuthOutcome {
    /// Forward, adding these identity header lines (empty for anonymous).
    case allow([UInt8])
    case deny(LocalResponse)
}

extension ClientConnection {
    /// Applies the route's auth mode to the request's bearer token (SPEC §1, §3).
    func authorize(_ route: Route) -> AuthOutcome {
        let mode = route.config.auth
        if mode == .none { return .allow([]) }
        guard let auth = runtime.auth else {
            // `gateway check` refuses protected routes without token settings.
            return .deny(.error(500, "server_error", "Token verification is not configured"))
        }
        var credentials = BearerCredentials.none
        var fields = 0
        head.bytes.withUnsafeBytes { b in
            for f in head.fields where f.known == .authorization {
                fields += 1
                credentials = BearerCredentials.parse(b, Int(f.valueStart)..<Int(f.valueEnd))
            }
        }
        if fields > 1 { credentials = .malformed }
        switch credentials {
        case .none:
            if mode == .optional { return .allow([]) }
            authFailure = "missing"
            return .deny(AuthAnswers.unauthorized(realm: auth.realm))
        case .malformed:
            authFailure = "malformed_header"
            return .deny(
                AuthAnswers.invalidRequest(
                    realm: auth.realm, "The Authorization header is not a valid Bearer credential"))
        case .token(let range):
            let now = ClaimValidator.currentTime()
            let checked = head.bytes.withUnsafeBytes { b in
                worker.verifier(for: auth).grant(
                    UnsafeRawBufferPointer(rebasing: b[range]), now: now, route: route.config)
            }
            let grant: AccessGrant
            switch checked {
            case .success(let g): grant = g
            case .failure(let error):
                authFailure = error.code
                return .deny(AuthAnswers.invalidToken(realm: auth.realm, error))
            }
            if worker.revocations.isRevoked(sid: grant.sid, jti: grant.jti, now: Int64(now * 1000)) {
                authFailure = "revoked"
                return .deny(AuthAnswers.revoked(realm: auth.realm))
            }
            if let missing = AuthAnswers.insufficient(
                route.config, scopes: grant.scopes, roles: grant.roles,
                realm: auth.realm)
            {
                authFailure = "insufficient_scope"
                return .deny(missing)
            }
            if let deny = MachineTokenPolicy.check(route.config, grant, realm: auth.realm, failure: &authFailure) {
                return .deny(deny)
            }
            guard let identity = grant.identity else {
                authFailure = "unforwardable_claim"
                return .deny(AuthAnswers.unforwardable(realm: auth.realm, claim: grant.unforwardable ?? "?"))
            }
            self.grant = grant
            return .allow(identity)
        }
    }
}
