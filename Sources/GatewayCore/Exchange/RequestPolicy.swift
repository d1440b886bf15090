import EventLoop
import HTTP1
import JOSE

/// What the auth policy decided for a proxied request.
enum AuthOutcome {
    /// Forward, adding these identity header lines (empty for anonymous).
    case allow([UInt8])
    case deny(LocalResponse)
}

/// The policy step of an exchange: the route's auth mode applied to one request (SPEC §1,
/// §3). A function of the route, the request head and the client's address, apart from the
/// connection that carries the request, so that an HTTP/2 stream can call it too and so
/// that further checks (client address from trusted proxies, per-route issuers, machine
/// tokens) land here rather than in the I/O driver.
enum RequestPolicy {
    /// The outcome, plus what the access log and metrics record about it.
    struct Decision {
        var outcome: AuthOutcome
        /// Who the request acts for, once its token verified.
        var grant: AccessGrant?
        /// Why the request was refused (the metrics label), if it was.
        var failure: String?
    }

    /// Decides for `head` on `route`. `clientAddress` is the address the request came from
    /// (`ClientAddress.text`: the peer, or the client a trusted proxy named);
    /// `runtime` and `worker` give the token settings, the verifier and the revocations.
    /// Static, nothing retained or allocated per request. `head` is `inout` only so that the
    /// caller's stored head is used in place (a borrowed class property would be copied,
    /// retaining its arrays); it is not modified.
    static func decide(
        _ route: Route, head: inout RequestHead, clientAddress: String, runtime: GatewayRuntime,
        worker: Worker
    ) -> Decision {
        let mode = route.config.auth
        if mode == .none { return Decision(outcome: .allow([])) }
        guard let auth = runtime.auth else {
            // `gateway check` refuses protected routes without token settings.
            return Decision(outcome: .deny(.error(500, "server_error", "Token verification is not configured")))
        }
        var credentials = BearerCredentials.none
        var fields = 0
        head.bytes.withUnsafeBytes { b in
            for f in head.fields where f.known == .authorization {
                fields += 1
                // The token68 check waits for a refused token (below).
                credentials = BearerCredentials.locate(b, Int(f.valueStart)..<Int(f.valueEnd))
            }
        }
        if fields > 1 { credentials = .malformed }
        switch credentials {
        case .none:
            if mode == .optional { return Decision(outcome: .allow([])) }
            return Decision(outcome: .deny(AuthAnswers.unauthorized(realm: auth.realm)), failure: "missing")
        case .malformed:
            return malformed(auth)
        case .token(let range):
            let now = ClaimValidator.currentTime()
            let verifier = worker.verifier(for: auth)
            let checked = head.bytes.withUnsafeBytes { b -> Result<AccessGrant, JOSEError>? in
                let token = UnsafeRawBufferPointer(rebasing: b[range])
                if let hit = verifier.cached(token, now: now, route: route.config) { return hit }
                let verified = verifier.verify(token, now: now, route: route.config)
                // A token that verifies is three strict base64url segments, hence a token68;
                // only a refused one needs the grammar check, to tell 400 from 401.
                if case .failure = verified, !BearerCredentials.isToken68(b, range) { return nil }
                assert(BearerCredentials.isToken68(b, range), "a verified token is a token68")
                return verified
            }
            let grant: AccessGrant
            switch checked {
            case nil: return malformed(auth)
            case .success(let g): grant = g
            case .failure(let error):
                return Decision(outcome: .deny(AuthAnswers.invalidToken(realm: auth.realm, error)), failure: error.code)
            }
            if worker.revocations.isRevoked(sid: grant.sid, jti: grant.jti, now: Int64(now * 1000)) {
                return Decision(outcome: .deny(AuthAnswers.revoked(realm: auth.realm)), failure: "revoked")
            }
            if let missing = AuthAnswers.insufficient(
                route.config, scopes: grant.scopes, roles: grant.roles,
                realm: auth.realm)
            {
                return Decision(outcome: .deny(missing), failure: "insufficient_scope")
            }
            var kindFailure: String?
            if let deny = MachineTokenPolicy.check(route.config, grant, realm: auth.realm, failure: &kindFailure) {
                return Decision(outcome: .deny(deny), failure: kindFailure)
            }
            guard let identity = grant.identity else {
                return Decision(
                    outcome: .deny(AuthAnswers.unforwardable(realm: auth.realm, claim: grant.unforwardable ?? "?")),
                    failure: "unforwardable_claim")
            }
            return Decision(outcome: .allow(identity), grant: grant)
        }
    }

    private static func malformed(_ auth: AuthRuntime) -> Decision {
        Decision(
            outcome: .deny(
                AuthAnswers.invalidRequest(
                    realm: auth.realm, "The Authorization header is not a valid Bearer credential")),
            failure: "malformed_header")
    }
}
