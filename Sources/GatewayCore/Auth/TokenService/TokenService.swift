import JOSE
import TokenStore

/// The token service of one configuration generation (issue 14): registered clients,
/// client_credentials, revocation and introspection over the long-lived `TokenServices`.
final class TokenService: Sendable {
    let settings: TokenServiceSettings
    let services: TokenServices
    let keys: TokenKeys
    let endpoints: AuthEndpoints
    let clients: ClientAuthenticator?
    let cache: IntrospectionCache
    let realm: String

    init(
        settings: TokenServiceSettings, services: TokenServices, keys: TokenKeys, endpoints: AuthEndpoints,
        registry: ClientRegistry?, auth: AuthSettings
    ) {
        self.settings = settings
        self.services = services
        self.keys = keys
        self.endpoints = endpoints
        clients = registry.map { ClientAuthenticator(registry: $0, services: services, throttle: auth.throttle) }
        cache = IntrospectionCache(capacity: settings.introspectionCacheEntries)
        realm = auth.realm
    }

    var revocationTTL: Int64 { endpoints.flows.revocationTTL }

    // MARK: Answers

    func invalidClient(_ description: String, basic: Bool) -> LocalResponse {
        // RFC 6749 §5.2: a challenge for the scheme the client tried.
        .error(
            401, "invalid_client", description,
            headers: AuthEndpoints.noStore + (basic ? [("WWW-Authenticate", "Basic realm=\"\(realm)\"")] : []))
    }

    func answer(_ f: ClientAuthFailure, basic: Bool) -> LocalResponse {
        switch f {
        case .invalidClient: return invalidClient("Client authentication failed", basic: basic)
        case .throttled(let s): return endpoints.failure(.throttled(retryAfter: s), style: .oauth)
        case .unavailable(let d): return endpoints.failure(.unavailable(d), style: .oauth)
        }
    }

    func answer(_ e: ClientCredentialsError) -> LocalResponse {
        switch e {
        case .malformed(let d): return invalidClient(d, basic: true)
        case .severalMethods:
            return .error(
                400, "invalid_request", "Use one client authentication method per request",
                headers: AuthEndpoints.noStore)
        }
    }

    /// Reads and, when it carries a secret, checks the request's client. `completion` gets
    /// the registered client (nil for anonymous and public clients) or the answer to send.
    func authenticate(
        _ request: LocalRequest, _ p: RequestParameters,
        completion: @escaping @Sendable (Result<(PresentedClient, RegisteredClient?), AnswerNow>) -> Void
    ) {
        let presented: PresentedClient
        do {
            presented = try ClientCredentials.parse(authorization: request.headers("authorization"), parameters: p)
        } catch {
            return completion(.failure(AnswerNow(response: answer(error))))
        }
        guard case .secret(let id, let secret, let basic) = presented else {
            return completion(.success((presented, nil)))
        }
        guard let clients else {
            return completion(
                .failure(AnswerNow(response: invalidClient("No confidential clients are registered", basic: basic))))
        }
        clients.authenticate(id: id, secret: secret, clientAddress: request.clientAddress) { [self] r in
            switch r {
            case .success(let c): completion(.success((presented, c)))
            case .failure(let f): completion(.failure(AnswerNow(response: answer(f, basic: basic))))
            }
        }
    }

    // MARK: client_credentials

    func issue(
        _ client: RegisteredClient, _ p: RequestParameters, respond: LocalResponder
    ) {
        if p["audience"] != nil && p["resource"] != nil {
            return respond.respond(
                .error(400, "invalid_request", "Send audience or resource, not both", headers: AuthEndpoints.noStore))
        }
        let decided = ClientGrant.decide(
            client: client, requestedScope: p["scope"], requestedAudience: p["audience"] ?? p["resource"],
            tokens: keys.settings)
        let grant: ClientGrant
        switch decided {
        case .success(let g): grant = g
        case .failure(.invalidScope(let d)):
            return respond.respond(.error(400, "invalid_scope", d, headers: AuthEndpoints.noStore))
        case .failure(.invalidTarget(let d)):
            return respond.respond(.error(400, "invalid_target", d, headers: AuthEndpoints.noStore))
        }
        let payload = grant.payload(
            client: client, issuer: keys.settings.issuer, jti: TokenMinter.newID(), now: WallClock.millis())
        do {
            let token = String(decoding: try keys.keySet.sign(payload: payload, typ: "at+jwt"), as: UTF8.self)
            services.counters.count(.issued)
            respond.respond(.json(200, grant.response(accessToken: token), headers: AuthEndpoints.noStore))
        } catch {
            services.logger.error("cannot sign an access token: \(error)")
            respond.respond(endpoints.failure(.unavailable("cannot sign tokens"), style: .oauth))
        }
    }
}
