import JOSE
import TokenStore

/// `POST /oauth/token` with registered clients: `client_credentials` for authenticated
/// clients, the password and refresh_token grants as before (for public clients unchanged,
/// for an authenticated client only when its registration lists the grant).
struct ClientTokenEndpointHandler: ParameterHandler {
    let service: TokenService
    var endpoints: AuthEndpoints { service.endpoints }
    var style: GrantStyle { .oauth }

    func handle(_ p: RequestParameters, _ request: LocalRequest, respond: LocalResponder) {
        service.authenticate(request, p) { [service] r in
            let client: RegisteredClient
            switch r {
            case .failure(let a): return respond.respond(a.response)
            case .success((_, nil)):
                if p["grant_type"] == "client_credentials" {
                    return respond.respond(
                        service.invalidClient("client_credentials needs client authentication", basic: true))
                }
                // Public clients: exactly the existing endpoint.
                return TokenEndpointHandler(endpoints: service.endpoints).handle(p, request, respond: respond)
            case .success((_, let c?)): client = c
            }
            guard let grant = p["grant_type"] else {
                return respond.respond(
                    service.endpoints.failure(.invalidRequest("grant_type is required"), style: .oauth))
            }
            guard RegisteredClient.knownGrants.contains(grant) else {
                return respond.respond(
                    .error(
                        400, "unsupported_grant_type",
                        "Supported grant types: client_credentials, password, refresh_token",
                        headers: AuthEndpoints.noStore))
            }
            guard client.grantTypes.contains(grant) else {
                return respond.respond(
                    .error(
                        400, "unauthorized_client", "The client may not use the \(grant) grant",
                        headers: AuthEndpoints.noStore))
            }
            switch grant {
            case "client_credentials": service.issue(client, p, respond: respond)
            case "password": service.endpoints.login(p, request, style: .oauth, respond: respond)
            default: service.endpoints.refresh(p["refresh_token"], request, style: .oauth, respond: respond)
            }
        }
    }
}

/// `POST /oauth/revoke` (RFC 7009): a refresh token revokes its family, an access token its
/// `jti`, at every replica. 200 for unknown, malformed or foreign tokens (§2.2).
struct RevocationHandler: ParameterHandler {
    let service: TokenService
    var endpoints: AuthEndpoints { service.endpoints }
    var style: GrantStyle { .oauth }

    func handle(_ p: RequestParameters, _ request: LocalRequest, respond: LocalResponder) {
        guard let token = p["token"], !token.isEmpty else {
            return respond.respond(.error(400, "invalid_request", "token is required", headers: AuthEndpoints.noStore))
        }
        service.authenticate(request, p) { [service] r in
            let requester: PresentedClient
            switch r {
            case .failure(let a): return respond.respond(a.response)
            case .success((let presented, _)): requester = presented
            }
            let done = LocalResponse(status: 200, headers: AuthEndpoints.noStore)
            let now = WallClock.millis()
            let finish: @Sendable (Result<[Revocation], TokenStoreError>) -> Void = { result in
                switch result {
                case .success(let revocations):
                    service.services.counters.count(.revoked, by: revocations.count)
                    service.services.hub.broadcast(revocations, now: now) { respond.respond(done) }
                case .failure(let e):
                    service.services.logger.error("revocation not recorded: \(e)")
                    respond.respond(
                        service.endpoints.failure(.unavailable("The token store is unavailable"), style: .oauth))
                }
            }
            if let refresh = RefreshToken(presented: token) {
                return service.services.store.revokeFamily(
                    byRefreshToken: refresh.lookupKey, presentedHash: refresh.hash,
                    revocationTTL: service.revocationTTL,
                    now: now
                ) { finish($0.map { $0.map { [$0] } ?? [] }) }
            }
            // Expired tokens still verify here: revoking one is harmless and answers 200 anyway.
            guard case .success(let verified) = service.endpoints.flows.boundAccessToken(token),
                let jti = verified.claims.jti, let exp = verified.claims.exp
            else { return respond.respond(done) }
            // RFC 7009 §2.1: a client's token is revoked only by that client (or by anyone without
            // client authentication holding it, as logout allows).
            if let owner = verified.claims.string("client_id"), let id = requester.id,
                case .secret = requester, owner != id
            {
                return respond.respond(
                    .error(
                        400, "unauthorized_client", "The token was issued to another client",
                        headers: AuthEndpoints.noStore))
            }
            service.services.store.revokeToken(
                jti: jti, expiresAt: saturatingSum(epochMillis(exp), service.keys.settings.leeway), now: now
            ) { finish($0.map { [$0] }) }
        }
    }
}

/// `POST /oauth/introspect` (RFC 7662), for registered clients with `"introspect": true`.
/// `active: false` for anything that is not a valid access token of this issuer now
/// (expired, revoked, unknown, another issuer's, a refresh token).
struct IntrospectionHandler: ParameterHandler {
    let service: TokenService
    var endpoints: AuthEndpoints { service.endpoints }
    var style: GrantStyle { .oauth }

    static let inactive = Array("{\"active\":false}".utf8)

    func handle(_ p: RequestParameters, _ request: LocalRequest, respond: LocalResponder) {
        service.authenticate(request, p) { [service] r in
            switch r {
            case .failure(let a): return respond.respond(a.response)
            case .success((let presented, nil)):
                var basic = false
                if case .anonymous = presented { basic = true }
                return respond.respond(service.invalidClient("Introspection needs client authentication", basic: basic))
            case .success((_, let c?)) where !c.mayIntrospect:
                return respond.respond(
                    .error(403, "unauthorized_client", "The client may not introspect", headers: AuthEndpoints.noStore))
            case .success: break
            }
            guard let token = p["token"], !token.isEmpty else {
                return respond.respond(
                    .error(400, "invalid_request", "token is required", headers: AuthEndpoints.noStore))
            }
            respond.respond(.json(200, Self.answer(token, service: service), headers: AuthEndpoints.noStore))
        }
    }

    static func answer(_ token: String, service: TokenService) -> [UInt8] {
        let bytes = Array(token.utf8)
        guard bytes.count <= 16 * 1024 else { return inactive }
        let now = WallClock.millis()
        let key = IntrospectionCache.key(bytes)
        var entry = service.cache.entry(key, now: now)
        if entry == nil {
            guard let verified = try? service.keys.verifier.verify(token: bytes, now: Double(now) / 1000),
                let fresh = render(verified.claims, leeway: service.keys.settings.leeway)
            else { return inactive }
            service.cache.insert(key, fresh)
            entry = fresh
        }
        guard let entry, !service.services.hub.isRevoked(sid: entry.sid, jti: entry.jti, now: now) else {
            return inactive
        }
        return entry.body
    }

    /// `{"active":true,"token_type":"Bearer",<the token's claims>}`: the claims the identity
    /// headers are made from, as RFC 7662 §2.2 names them.
    static func render(_ claims: Claims, leeway: Int64) -> IntrospectionCache.Entry? {
        guard let exp = claims.exp, case .object(let members)? = try? JSONParser.parse(claims.json) else { return nil }
        var fields: [(String, JSONValue)] = [("active", .bool(true)), ("token_type", .string("Bearer"))]
        fields += members.filter { $0.0 != "active" && $0.0 != "token_type" }
        var body: [UInt8] = []
        JSONWriter.serialize(.object(fields), to: &body)
        return .init(
            body: body, validUntil: saturatingSum(epochMillis(exp), leeway), sid: claims.sid, jti: claims.jti)
    }
}
