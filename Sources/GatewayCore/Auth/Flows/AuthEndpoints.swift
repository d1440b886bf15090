import HTTP1
import JOSE
import TokenStore

/// A response to send at once instead of going on.
struct AnswerNow: Error {
    let response: LocalResponse
}

/// How grant answers are spelled: the gateway's own routes (`/auth/*`: 401 `invalid_grant`)
/// or an RFC 6749 token endpoint (§5.2: 400 `invalid_grant`).
enum GrantStyle: Sendable {
    case gateway
    case oauth
}

/// The HTTP side of the auth flows: what each endpoint reads and how it answers.
struct AuthEndpoints: Sendable {
    let flows: AuthFlows

    /// `Set-Cookie` for the refresh token in cookie mode (SPEC §8).
    func refreshCookie(_ value: String?, maxAge: Int64) -> (String, String)? {
        guard let name = flows.auth.refreshCookie, let path = flows.auth.refreshPath else { return nil }
        return (
            "Set-Cookie",
            "\(name)=\(value ?? ""); Max-Age=\(value == nil ? 0 : maxAge); Path=\(path); HttpOnly; Secure; SameSite=Strict"
        )
    }

    static let noStore: [(String, String)] = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]

    func success(_ pair: TokenPair, style: GrantStyle, accessHeader: Bool) -> LocalResponse {
        var body: [UInt8] = []
        HeadWriter.append("{\"access_token\":", to: &body)
        JSONWriter.appendString(pair.accessToken, to: &body)
        HeadWriter.append(",\"token_type\":\"Bearer\",\"expires_in\":\(pair.accessExpiresIn)", to: &body)
        // In cookie mode the gateway's routes keep the refresh token out of reach of scripts.
        let cookie = style == .gateway ? refreshCookie(pair.refreshToken.text, maxAge: pair.refreshExpiresIn) : nil
        if cookie == nil {
            HeadWriter.append(",\"refresh_token\":", to: &body)
            JSONWriter.appendString(pair.refreshToken.text, to: &body)
        }
        HeadWriter.append(",\"refresh_expires_in\":\(pair.refreshExpiresIn)", to: &body)
        if let scope = pair.scope {
            HeadWriter.append(",\"scope\":", to: &body)
            JSONWriter.appendString(scope, to: &body)
        }
        HeadWriter.append("}", to: &body)
        var headers = Self.noStore
        if accessHeader { headers.append(("X-Access-Token", pair.accessToken)) }
        if let cookie { headers.append(cookie) }
        return .json(200, body, headers: headers)
    }

    func failure(_ f: GrantFailure, style: GrantStyle) -> LocalResponse {
        switch f {
        case .invalidGrant(let d):
            return .error(style == .oauth ? 400 : 401, "invalid_grant", d, headers: Self.noStore)
        case .invalidRequest(let d):
            return .error(400, "invalid_request", d, headers: Self.noStore)
        case .throttled(let seconds):
            return .error(
                429, "too_many_requests", "Too many failed logins; try again later",
                headers: Self.noStore + [("Retry-After", "\(max(1, seconds))")])
        case .staleAccessToken(let d):
            return .error(
                401, "invalid_token", d,
                headers: Self.noStore + [
                    ("WWW-Authenticate", AuthAnswers.challenge(flows.auth.realm, "invalid_token", d))
                ])
        case .unavailable(let d):
            return .error(503, "temporarily_unavailable", d, headers: Self.noStore + [("Retry-After", "1")])
        }
    }

    func parameters(_ request: LocalRequest, style: GrantStyle) throws(AnswerNow) -> RequestParameters {
        let type = request.header("content-type")
        if style == .oauth, !request.body.isEmpty,
            type?.lowercased().hasPrefix("application/x-www-form-urlencoded") != true
        {
            throw AnswerNow(
                response: .error(400, "invalid_request", "The token endpoint takes application/x-www-form-urlencoded"))
        }
        do {
            return try RequestParameters.parse(body: request.body, contentType: type)
        } catch {
            switch error {
            case .unsupportedMediaType:
                throw AnswerNow(
                    response: .error(
                        415, "invalid_request", "Send application/json or application/x-www-form-urlencoded"))
            case .malformed(let d):
                throw AnswerNow(response: .error(400, "invalid_request", d))
            }
        }
    }

    static func methodNotAllowed(_ allowed: String) -> LocalResponse {
        .error(405, "method_not_allowed", "Use \(allowed)", headers: [("Allow", allowed)])
    }

    // MARK: Shared steps

    func login(_ p: RequestParameters, _ request: LocalRequest, style: GrantStyle, respond: LocalResponder) {
        guard let username = p["username"], !username.isEmpty, let password = p["password"] else {
            respond.respond(failure(.invalidRequest("username and password are required"), style: style))
            return
        }
        guard username.utf8.count <= 256, password.utf8.count <= 1024 else {
            respond.respond(failure(.invalidRequest("username or password too long"), style: style))
            return
        }
        flows.login(username: username, password: Array(password.utf8), clientAddress: request.clientAddress) { r in
            switch r {
            case .success(let pair): respond.respond(success(pair, style: style, accessHeader: false))
            case .failure(let f): respond.respond(failure(f, style: style))
            }
        }
    }

    func refresh(_ text: String?, _ request: LocalRequest, style: GrantStyle, respond: LocalResponder) {
        guard let text, !text.isEmpty else {
            respond.respond(failure(.invalidRequest("refresh_token is required"), style: style))
            return
        }
        guard let presented = RefreshToken(presented: text) else {
            respond.respond(failure(.invalidGrant("The refresh token is not valid"), style: style))
            return
        }
        var bound: BoundAccessToken?
        if style == .gateway, let access = request.bearerToken {
            switch flows.boundAccessToken(access) {
            case .success(let t):
                guard let sub = t.claims.sub, let jti = t.claims.jti else {
                    respond.respond(failure(.invalidGrant("The access token has no sub or jti"), style: style))
                    return
                }
                bound = BoundAccessToken(subject: sub, jti: jti)
            case .failure(let e):
                respond.respond(
                    failure(.invalidGrant("The access token sent with the refresh is invalid: \(e)"), style: style))
                return
            }
        }
        flows.refresh(presented, bound: bound) { r in
            switch r {
            case .success(let pair): respond.respond(success(pair, style: style, accessHeader: true))
            case .failure(let f):
                var answer = failure(f, style: style)
                if case .invalidGrant = f, style == .gateway, let c = refreshCookie(nil, maxAge: 0) {
                    answer.headers.append(c)
                }
                respond.respond(answer)
            }
        }
    }
}

/// The shared front of the POST endpoints: the method check, then the body's parameters.
protocol ParameterHandler: LocalHandler {
    var endpoints: AuthEndpoints { get }
    var style: GrantStyle { get }
    func handle(_ p: RequestParameters, _ request: LocalRequest, respond: LocalResponder)
}

extension ParameterHandler {
    var maxBodyBytes: Int { 16 * 1024 }
    var style: GrantStyle { .gateway }

    func handle(_ request: LocalRequest, respond: LocalResponder) {
        guard request.method == .post else { return respond.respond(AuthEndpoints.methodNotAllowed("POST")) }
        let p: RequestParameters
        do {
            p = try endpoints.parameters(request, style: style)
        } catch {
            return respond.respond(error.response)
        }
        handle(p, request, respond: respond)
    }
}

/// `POST /auth/login`.
struct LoginHandler: ParameterHandler {
    let endpoints: AuthEndpoints

    func handle(_ p: RequestParameters, _ request: LocalRequest, respond: LocalResponder) {
        endpoints.login(p, request, style: .gateway, respond: respond)
    }
}

/// `POST /auth/refresh`: the token from the body (JSON or form) or the refresh cookie.
struct RefreshHandler: ParameterHandler {
    let endpoints: AuthEndpoints

    func handle(_ p: RequestParameters, _ request: LocalRequest, respond: LocalResponder) {
        let cookie = endpoints.flows.auth.refreshCookie.flatMap { request.cookie($0) }
        endpoints.refresh(p["refresh_token"] ?? cookie, request, style: .gateway, respond: respond)
    }
}

/// `POST /oauth/token`: RFC 6749 password and refresh_token grants for public clients.
struct TokenEndpointHandler: ParameterHandler {
    let endpoints: AuthEndpoints
    var style: GrantStyle { .oauth }

    func handle(_ p: RequestParameters, _ request: LocalRequest, respond: LocalResponder) {
        // Only public clients exist: a client that authenticates with a secret is unknown
        // (RFC 6749 §5.2 invalid_client), a client_id alone is accepted.
        if let secret = p["client_secret"], !secret.isEmpty { return respond.respond(invalidClient()) }
        if let basic = request.header("authorization"), basic.lowercased().hasPrefix("basic ") {
            guard let decoded = Base64.decodeStandard(String(basic.dropFirst(6)).trimmed),
                let colon = decoded.firstIndex(of: UInt8(ascii: ":")), decoded.index(after: colon) == decoded.endIndex
            else { return respond.respond(invalidClient()) }
        }
        switch p["grant_type"] {
        case "password": endpoints.login(p, request, style: .oauth, respond: respond)
        case "refresh_token": endpoints.refresh(p["refresh_token"], request, style: .oauth, respond: respond)
        case nil:
            respond.respond(endpoints.failure(.invalidRequest("grant_type is required"), style: .oauth))
        case .some:
            respond.respond(
                .error(
                    400, "unsupported_grant_type", "Supported grant types: password, refresh_token",
                    headers: AuthEndpoints.noStore))
        }
    }

    private func invalidClient() -> LocalResponse {
        .error(
            401, "invalid_client", "Client authentication failed: only public clients are accepted",
            headers: AuthEndpoints.noStore + [("WWW-Authenticate", "Basic realm=\"\(endpoints.flows.auth.realm)\"")])
    }
}

/// `POST /auth/logout`: revokes the family of the presented access or refresh token;
/// `?all=true` or `{"all": true}` revokes every family of the subject. 204.
struct LogoutHandler: ParameterHandler {
    let endpoints: AuthEndpoints

    func handle(_ p: RequestParameters, _ request: LocalRequest, respond: LocalResponder) {
        let all = p.flag("all") || RequestParameters.query(request.query)["all"] == "true"
        var access: Claims?
        var outside = false
        if let bearer = request.bearerToken {
            switch endpoints.flows.boundAccessToken(bearer) {
            case .success(let t): access = t.claims
            case .failure(let e):
                if let claims = endpoints.flows.outsideAccessToken(bearer) {
                    // A trusted outside issuer's token: revoked by its jti at every replica.
                    access = claims
                    outside = true
                    break
                }
                return respond.respond(
                    .error(
                        401, "invalid_token", "The access token is invalid: \(e)",
                        headers: [
                            (
                                "WWW-Authenticate",
                                AuthAnswers.challenge(
                                    endpoints.flows.auth.realm, "invalid_token", "The access token is invalid")
                            )
                        ]))
            }
        }
        var refresh: RefreshToken?
        let cookie = endpoints.flows.auth.refreshCookie.flatMap { request.cookie($0) }
        if let text = p["refresh_token"] ?? cookie {
            refresh = RefreshToken(presented: text)
            if refresh == nil && access == nil {
                // Nothing valid to revoke; logging out is still done as far as the client goes.
                return respond.respond(done())
            }
        }
        endpoints.flows.logout(access: access, refresh: outside ? nil : refresh, all: all, outside: outside) { r in
            switch r {
            case .success: respond.respond(done())
            case .failure(let f): respond.respond(endpoints.failure(f, style: .gateway))
            }
        }
    }

    private func done() -> LocalResponse {
        var r = LocalResponse(status: 204, headers: AuthEndpoints.noStore)
        if let c = endpoints.refreshCookie(nil, maxAge: 0) { r.headers.append(c) }
        return r
    }
}

/// `GET /.well-known/jwks.json` (RFC 7517 §5).
struct JWKSHandler: LocalHandler {
    let document: [UInt8]
    var maxBodyBytes: Int { 0 }

    func handle(_ request: LocalRequest, respond: LocalResponder) {
        guard request.method == .get || request.method == .head else {
            return respond.respond(AuthEndpoints.methodNotAllowed("GET, HEAD"))
        }
        respond.respond(.json(200, document, headers: [("Cache-Control", "public, max-age=300")]))
    }
}
