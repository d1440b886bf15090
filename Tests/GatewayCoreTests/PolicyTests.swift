import JOSE
import Testing

@testable import GatewayCore

@Suite("Request parameters")
struct RequestParametersTests {
    private func parse(_ body: String, _ type: String?) throws(RequestParameters.Failure) -> RequestParameters {
        try RequestParameters.parse(body: bytes(body), contentType: type)
    }

    private func failure(_ body: String, _ type: String?) -> RequestParameters.Failure? {
        do {
            _ = try parse(body, type)
            return nil
        } catch {
            return error
        }
    }

    private func isMalformed(_ body: String, _ type: String? = "application/x-www-form-urlencoded") -> Bool {
        if case .malformed? = failure(body, type) { return true }
        return false
    }

    @Test("a JSON object: strings are values, true members are flags")
    func json() throws {
        let p = try parse(
            #"{"username":"alice","password":"p\u00e4ss w","all":true,"off":false,"n":null}"#, "application/json")
        #expect(p["username"] == "alice")
        #expect(p["password"] == "päss w")
        #expect(p.flag("all"))
        #expect(!p.flag("off"))
        #expect(p["n"] == nil)
        #expect(p["missing"] == nil)
        let charset = try parse(#"{"a":"b"}"#, "Application/JSON ; charset=utf-8")
        #expect(charset["a"] == "b")
    }

    @Test("JSON that is not an object of strings is refused")
    func badJSON() {
        #expect(isMalformed(#"{"a":1}"#, "application/json"))
        #expect(isMalformed(#"{"a":["x"]}"#, "application/json"))
        #expect(isMalformed(#"["a"]"#, "application/json"))
        #expect(isMalformed(#"{"a":"x","a":"y"}"#, "application/json"))
        #expect(isMalformed(#"{"a":"#, "application/json"))
        #expect(isMalformed("username=alice", "application/json"))
    }

    @Test("a form: + is a space, %XX escapes, empty values")
    func form() throws {
        let p = try parse(
            "grant_type=password&username=al%69ce+b&password=a%2Bb%26c%3D&empty=&bare&&scope=read+write",
            "application/x-www-form-urlencoded")
        #expect(p["grant_type"] == "password")
        #expect(p["username"] == "alice b")
        #expect(p["password"] == "a+b&c=")
        #expect(p["empty"] == "")
        #expect(p["bare"] == "")
        #expect(p["scope"] == "read write")
        #expect(try parse("x=%C3%A9", "application/x-www-form-urlencoded; charset=UTF-8")["x"] == "é")
        #expect(try parse("all=true", "application/x-www-form-urlencoded").flag("all"))
        #expect(try parse("all=1", "application/x-www-form-urlencoded").flag("all"))
        #expect(!(try parse("all=yes", "application/x-www-form-urlencoded").flag("all")))
    }

    @Test("a form parameter given twice is refused (RFC 6749 §3.2)")
    func duplicate() {
        #expect(isMalformed("username=a&username=b"))
        #expect(isMalformed("username=a&user%6Eame=a"))
    }

    static let badEscapes = ["a=%", "a=%2", "a=%zz", "a=%g0", "%=1", "a=%ff", "a=%C3", "a=%C3%28"]

    @Test("bad escapes and invalid UTF-8 are refused", arguments: badEscapes)
    func badEscape(body: String) {
        #expect(isMalformed(body))
    }

    @Test("other media types are unsupported; an empty body is no parameters")
    func mediaTypes() throws {
        for type in ["text/plain", "application/xml", "multipart/form-data; boundary=x", nil] as [String?] {
            if case .unsupportedMediaType? = failure("a=b", type) {} else { Issue.record("\(type ?? "nil") accepted") }
        }
        #expect(try parse("", "text/plain")["a"] == nil)
        #expect(try parse("", nil)["a"] == nil)
    }

    @Test("query strings")
    func query() {
        #expect(RequestParameters.query("all=true&x=a+b") == ["all": "true", "x": "a b"])
        #expect(RequestParameters.query(nil) == [:])
        #expect(RequestParameters.query("bad=%zz&ok=1") == ["ok": "1"])
    }
}

@Suite("CORS policy")
struct CORSPolicyTests {
    private func policy(_ origins: [String], credentials: Bool = false, expose: [String] = []) -> CORSPolicy {
        CORSPolicy(
            settings: CORSSettings(
                origins: origins, allowCredentials: credentials, allowMethods: ["GET", "POST", "PUT"],
                allowHeaders: ["Authorization", "Content-Type"], exposeHeaders: expose, maxAge: 600_000))
    }

    @Test("configured origins are allowed, others are not")
    func origins() {
        let p = policy(["https://app.example.com"])
        #expect(p.allows("https://app.example.com"))
        #expect(!p.allows("https://evil.example.com"))
        #expect(!p.allows("https://app.example.com.evil.com"))
        #expect(!p.allows("http://app.example.com"))
        #expect(!p.allows("null"))
        #expect(policy(["*"]).allows("https://anything.example"))
    }

    @Test("response headers: the origin echoed with Vary, credentials, exposed headers")
    func responseHeaders() {
        let p = policy(["https://app.example.com"], credentials: true, expose: ["X-Access-Token", "X-Request-Id"])
        let h = p.responseHeaders(origin: "https://app.example.com")
        #expect(
            h.map { "\($0.0): \($0.1)" } == [
                "Access-Control-Allow-Origin: https://app.example.com", "Vary: Origin",
                "Access-Control-Allow-Credentials: true", "Access-Control-Expose-Headers: X-Access-Token, X-Request-Id",
            ])
        let denied = p.responseHeaders(origin: "https://evil.example.com")
        #expect(denied.map { "\($0.0): \($0.1)" } == ["Vary: Origin"])
    }

    @Test("wildcard: * without credentials, the echoed origin with them")
    func wildcard() {
        let h = policy(["*"]).responseHeaders(origin: "https://x.example")
        #expect(h.map { "\($0.0): \($0.1)" } == ["Access-Control-Allow-Origin: *"])
        let withCredentials = policy(["*"], credentials: true).responseHeaders(origin: "https://x.example")
        #expect(
            headerValue(LocalResponse(status: 200, headers: withCredentials), "Access-Control-Allow-Origin")
                == "https://x.example")
    }

    @Test("preflight: allowed origin, method and headers get 204 with the allow lists")
    func preflight() {
        let p = policy(["https://app.example.com"], credentials: true)
        let r = p.preflight(
            origin: "https://app.example.com", method: "PUT", requestHeaders: "authorization, Content-Type")
        #expect(r.status == 204)
        #expect(headerValue(r, "Access-Control-Allow-Origin") == "https://app.example.com")
        #expect(headerValue(r, "Access-Control-Allow-Credentials") == "true")
        #expect(headerValue(r, "Access-Control-Allow-Methods") == "GET, POST, PUT")
        #expect(headerValue(r, "Access-Control-Allow-Headers") == "Authorization, Content-Type")
        #expect(headerValue(r, "Access-Control-Max-Age") == "600")
        #expect(headerValue(r, "Vary") == "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
        #expect(r.headers.filter { $0.0 == "Vary" }.count == 1)
        // Simple methods need no listing.
        #expect(p.preflight(origin: "https://app.example.com", method: "HEAD", requestHeaders: nil).status == 204)
    }

    @Test("preflight refusals: origin, method, header")
    func preflightRefused() {
        let p = policy(["https://app.example.com"])
        let origin = p.preflight(origin: "https://evil.example.com", method: "GET", requestHeaders: nil)
        #expect(origin.status == 403)
        #expect(headerValue(origin, "Access-Control-Allow-Origin") == nil)
        #expect(bodyText(origin).contains("cors_forbidden"))
        #expect(p.preflight(origin: "https://app.example.com", method: "DELETE", requestHeaders: nil).status == 403)
        let header = p.preflight(
            origin: "https://app.example.com", method: "GET", requestHeaders: "Authorization, X-Secret")
        #expect(header.status == 403)
        #expect(bodyText(header).contains("x-secret"))
    }
}

@Suite("RFC 6750 answers")
struct AuthAnswersTests {
    private func routeConfig(scopes: [String] = [], roles: [String] = []) throws -> RouteConfig {
        let c = try parseConfig(
            #"{"tokens":\#(tokensJSON),"routes":[{"path":"/api","upstream":"http://127.0.0.1:9001"}]}"#)
        var r = c.routes[0]
        r.scopes = scopes
        r.roles = roles
        return r
    }

    @Test("no credentials: a challenge without an error code")
    func unauthorized() {
        let r = AuthAnswers.unauthorized(realm: "x")
        #expect(r.status == 401)
        #expect(headerValue(r, "WWW-Authenticate") == #"Bearer realm="x""#)
        #expect(headerValue(r, "Content-Type") == "application/json")
        #expect(bodyText(r) == #"{"error":"unauthorized","error_description":"Authentication is required"}"#)
    }

    @Test("expired: invalid_token with the exact description")
    func expired() {
        let r = AuthAnswers.invalidToken(realm: "x", .expired)
        #expect(r.status == 401)
        #expect(
            headerValue(r, "WWW-Authenticate")
                == #"Bearer realm="x", error="invalid_token", error_description="The access token expired""#)
        #expect(bodyText(r) == #"{"error":"invalid_token","error_description":"The access token expired"}"#)
    }

    @Test("other token failures: invalid_token")
    func invalid() {
        for e in [
            JOSEError.badSignature, .issuerMismatch, .audienceMismatch, .typeMismatch, .malformed("x"), .algorithmNone,
        ] {
            let r = AuthAnswers.invalidToken(realm: "gw", e)
            #expect(r.status == 401)
            #expect(
                headerValue(r, "WWW-Authenticate")
                    == #"Bearer realm="gw", error="invalid_token", error_description="The access token is invalid""#)
            #expect(bodyText(r).hasPrefix(#"{"error":"invalid_token","#))
        }
        let revoked = AuthAnswers.revoked(realm: "gw")
        #expect(revoked.status == 401)
        #expect(headerValue(revoked, "WWW-Authenticate")?.contains(#"error="invalid_token""#) == true)
    }

    @Test("a malformed Authorization header: 400 invalid_request")
    func invalidRequest() {
        let r = AuthAnswers.invalidRequest(realm: "x", "Malformed Authorization header")
        #expect(r.status == 400)
        #expect(
            headerValue(r, "WWW-Authenticate")
                == #"Bearer realm="x", error="invalid_request", error_description="Malformed Authorization header""#)
        #expect(bodyText(r).contains(#""error":"invalid_request""#))
    }

    @Test("insufficient scope: 403 with the required scopes")
    func insufficientScope() throws {
        let route = try routeConfig(scopes: ["read", "write"])
        let c = try claims(#"{"sub":"a","scope":"read"}"#)
        let r = try #require(insufficient(route, c))
        #expect(r.status == 403)
        #expect(
            headerValue(r, "WWW-Authenticate")
                == #"Bearer realm="x", error="insufficient_scope", error_description="The access token lacks a required scope", scope="read write""#
        )
        #expect(bodyText(r).contains(#""error":"insufficient_scope""#))
        #expect(insufficient(route, try claims(#"{"scope":"write admin read"}"#)) == nil)
        #expect(insufficient(route, try claims(#"{"sub":"a"}"#)) != nil)
        // Scope tokens are compared whole.
        #expect(insufficient(route, try claims(#"{"scope":"readwrite"}"#)) != nil)
    }

    @Test("roles: any one of them is enough")
    func roles() throws {
        let route = try routeConfig(roles: ["admin", "ops"])
        #expect(insufficient(route, try claims(#"{"roles":["ops"]}"#)) == nil)
        let r = try #require(insufficient(route, try claims(#"{"roles":["user"]}"#)))
        #expect(r.status == 403)
        #expect(
            headerValue(r, "WWW-Authenticate")
                == #"Bearer realm="x", error="insufficient_scope", error_description="The access token lacks a required role""#
        )
        #expect(insufficient(try routeConfig(), try claims(#"{"sub":"a"}"#)) == nil)
    }
}

@Suite("Local requests")
struct LocalRequestTests {
    private func request(_ headers: [(String, String)]) -> LocalRequest {
        LocalRequest(
            method: .post, path: "/auth/refresh", query: nil, headers: headers.map { (name: $0.0, value: $0.1) },
            body: [], clientAddress: "127.0.0.1", requestID: "r")
    }

    @Test("cookies are found in every Cookie field, by exact name")
    func cookies() {
        let r = request([("cookie", "a=1; refresh_token=abc ; other=2"), ("cookie", "late=3")])
        #expect(r.cookie("refresh_token") == "abc")
        #expect(r.cookie("late") == "3")
        #expect(r.cookie("refresh") == nil)
        #expect(r.cookie("missing") == nil)
    }

    @Test("the bearer token of a single Authorization field")
    func bearer() {
        #expect(request([("authorization", "Bearer abc.def")]).bearerToken == "abc.def")
        #expect(request([("authorization", "bearer abc")]).bearerToken == "abc")
        #expect(request([("authorization", "Basic abc")]).bearerToken == nil)
        #expect(request([("authorization", "Bearer ")]).bearerToken == nil)
        #expect(request([("authorization", "Bearer a"), ("authorization", "Bearer b")]).bearerToken == nil)
        #expect(request([]).bearerToken == nil)
    }

    @Test("error bodies are JSON with escaped descriptions")
    func errorBody() {
        let r = LocalResponse.error(400, "invalid_request", "bad \"x\"\n", headers: [("X-A", "1")])
        #expect(r.status == 400)
        #expect(bodyText(r) == #"{"error":"invalid_request","error_description":"bad \"x\"\n"}"#)
        #expect(r.headers.map(\.0) == ["Content-Type", "X-A"])
    }
}

/// The route check as the request path runs it: on the grant derived from the claims.
private func insufficient(_ route: RouteConfig, _ c: Claims) -> LocalResponse? {
    let g = AccessGrant(c, names: IdentityHeaderNames())
    return AuthAnswers.insufficient(route, scopes: g.scopes, roles: g.roles, realm: "x")
}
