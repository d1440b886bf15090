import Dispatch
import JOSE
import Synchronization
import Testing
import TokenStore

@testable import GatewayCore

/// scrypt with N = 16: cheap, and accepted by `PasswordHash.hash` (ln ≥ 1).
private let cheap = PasswordHash.Scheme.scrypt(ln: 4, r: 8, p: 1)

private func parse(_ text: String, maxTTL: Int64 = 900_000) throws(ConfigError) -> ClientRegistry {
    try ClientRegistry.parse(Array(text.utf8), name: "clients.json", maxAccessTTL: maxTTL)
}

private func issues(_ text: String) -> [String] {
    do {
        _ = try parse(text)
        Issue.record("clients file accepted")
        return []
    } catch {
        return error.issues.map { "\($0.path): \($0.message)" }
    }
}

@Suite("Clients file")
struct ClientRegistryTests {
    @Test("a full entry is read; defaults: client_credentials, no scopes, tokens.audience")
    func reads() throws {
        let h = try PasswordHash.hash(password: "s3cret", scheme: cheap)
        let r = try parse(
            #"""
            {"clients":[
              {"client_id":"billing","secret_hash":"\#(h)","grant_types":["client_credentials","password"],
               "scope":"read write","audience":["api","reports"],"roles":["svc"],"access_ttl":"5m","introspect":true},
              {"client_id":"job","secret_hash":"\#(h)"}
            ]}
            """#)
        let b = try #require(r["billing"])
        #expect(b.grantTypes == ["client_credentials", "password"])
        #expect(b.scopes == ["read", "write"] && b.audiences == ["api", "reports"] && b.roles == ["svc"])
        #expect(b.accessTTL == 300_000 && b.mayIntrospect)
        let j = try #require(r["job"])
        #expect(j.grantTypes == ["client_credentials"] && j.scopes.isEmpty && j.audiences.isEmpty)
        #expect(j.accessTTL == nil && !j.mayIntrospect)
        #expect(r.allows("client_credentials") && r.allows("password") && !r.allows("refresh_token"))
        #expect(r["nobody"] == nil)
    }

    @Test(
        "bad entries are errors with their paths",
        arguments: [
            (#"{"clients":[{"secret_hash":"$H"}]}"#, "client_id: is required"),
            (#"{"clients":[{"client_id":"a"}]}"#, "secret_hash: is required"),
            (#"{"clients":[{"client_id":"a","secret_hash":"plain"}]}"#, "secret_hash"),
            (#"{"clients":[{"client_id":"a:b","secret_hash":"$H"}]}"#, "client_id: must be"),
            (#"{"clients":[{"client_id":"","secret_hash":"$H"}]}"#, "client_id: must be"),
            (#"{"clients":[{"client_id":"a","secret_hash":"$H","grant_types":["implicit"]}]}"#, "implicit"),
            (#"{"clients":[{"client_id":"a","secret_hash":"$H","scope":"a\"b"}]}"#, "visible ASCII"),
            (#"{"clients":[{"client_id":"a","secret_hash":"$H","access_ttl":"1h"}]}"#, "access_ttl"),
            (#"{"clients":[{"client_id":"a","secret_hash":"$H","secret":"x"}]}"#, "secret: unknown field"),
            (
                #"{"clients":[{"client_id":"a","secret_hash":"$H"},{"client_id":"a","secret_hash":"$H"}]}"#,
                "duplicate client_id"
            ),
            (#"{"client":[]}"#, "clients: is required"),
            (#"[1]"#, "must be an object"),
            (#"{"clients":"#, "clients_file"),
        ])
    func refuses(_ text: String, _ expected: String) throws {
        let h = try PasswordHash.hash(password: "s3cret", scheme: cheap)
        let found = issues(text.replacingOccurrences(of: "$H", with: h))
        #expect(found.contains { $0.contains(expected) }, "\(found)")
    }
}

/// Standard base64 with padding (RFC 4648 §4), as clients send Basic credentials.
private func b64(_ bytes: [UInt8]) -> String {
    let a = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
        let n = min(3, bytes.count - i)
        var v = 0
        for k in 0..<3 { v = v << 8 | (k < n ? Int(bytes[i + k]) : 0) }
        for k in 0..<4 { out.append(k <= n ? a[(v >> (18 - 6 * k)) & 63] : UInt8(ascii: "=")) }
        i += 3
    }
    return String(decoding: out, as: UTF8.self)
}

extension String {
    fileprivate func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}

@Suite("Client credentials in a request")
struct ClientCredentialsTests {
    private func params(_ form: String) throws -> RequestParameters {
        try RequestParameters.parse(body: Array(form.utf8), contentType: "application/x-www-form-urlencoded")
    }

    private func basic(_ s: String) -> String { "Basic " + b64(Array(s.utf8)) }

    @Test("client_secret_basic, with form-encoded id and secret (RFC 6749 §2.3.1)")
    func basicAuth() throws {
        let p = try params("grant_type=client_credentials")
        #expect(
            try ClientCredentials.parse(authorization: [basic("my%20app:p%3Ass+w")], parameters: p)
                == .secret(id: "my app", secret: "p:ss w", basic: true))
        // The scheme name is case-insensitive; a Bearer field is not a client credential.
        #expect(
            try ClientCredentials.parse(
                authorization: ["bearer x", "BASIC " + b64(Array("a:b".utf8))], parameters: p)
                == .secret(id: "a", secret: "b", basic: true))
    }

    @Test("client_secret_post, public clients, anonymous")
    func post() throws {
        #expect(
            try ClientCredentials.parse(authorization: [], parameters: params("client_id=a&client_secret=b"))
                == .secret(id: "a", secret: "b", basic: false))
        #expect(
            try ClientCredentials.parse(authorization: [], parameters: params("client_id=a")) == .publicClient(id: "a"))
        #expect(try ClientCredentials.parse(authorization: [], parameters: params("x=1")) == .anonymous)
        // A body client_id naming the Basic client is allowed (some libraries send both).
        #expect(
            try ClientCredentials.parse(authorization: [basic("a:b")], parameters: params("client_id=a"))
                == .secret(id: "a", secret: "b", basic: true))
    }

    @Test(
        "malformed Basic credentials are invalid_client",
        arguments: [
            "Basic !!!", "Basic " + b64(Array("nocolon".utf8)), "Basic " + b64(Array(":b".utf8)),
            "Basic " + b64(Array("a:".utf8)), "Basic " + b64(Array("a:%zz".utf8)),
            "Basic " + b64([0x61, 0x3A, 0xFF]),
        ])
    func malformed(_ header: String) throws {
        #expect(throws: ClientCredentialsError.self) {
            try ClientCredentials.parse(authorization: [header], parameters: RequestParameters())
        }
        do {
            _ = try ClientCredentials.parse(authorization: [header], parameters: RequestParameters())
        } catch {
            #expect(error != .severalMethods)
        }
    }

    @Test("two methods at once are refused (RFC 6749 §2.3)")
    func several() throws {
        for (auth, form) in [
            ([basic("a:b")], "client_secret=b"), ([basic("a:b"), basic("a:b")], ""),
            ([basic("a:b")], "client_id=other"),
        ] {
            #expect(throws: ClientCredentialsError.severalMethods) {
                try ClientCredentials.parse(authorization: auth, parameters: params(form))
            }
        }
        #expect(throws: ClientCredentialsError.self) {
            try ClientCredentials.parse(authorization: [], parameters: params("client_secret=b"))
        }
    }
}

@Suite("Client authentication")
struct ClientAuthenticatorTests {
    private func authenticator(perClient: Int = 3) throws -> ClientAuthenticator {
        let h = try PasswordHash.hash(password: "right-secret", scheme: cheap)
        let r = try parse(#"{"clients":[{"client_id":"job","secret_hash":"\#(h)"}]}"#)
        let services = TokenServices(
            store: MemoryTokenStore(), throttle: MemoryLoginThrottle(), hub: RevocationHub(),
            pool: BlockingPool(threads: 2, maxQueued: 64), logger: Logger(level: .error))
        var t = ThrottleSettings()
        t.maxFailuresPerUser = perClient
        return ClientAuthenticator(registry: r, services: services, throttle: t)
    }

    private func attempt(_ a: ClientAuthenticator, _ id: String, _ secret: String) -> Result<String, ClientAuthFailure>?
    {
        let out = Mutex<Result<String, ClientAuthFailure>?>(nil)
        let done = DispatchSemaphore(value: 0)
        a.authenticate(id: id, secret: secret, clientAddress: "10.0.0.1") { r in
            out.withLock { $0 = r.map(\.id) }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 20) == .success)
        return out.withLock { $0 }
    }

    @Test("the right secret passes, again from the remembered tag; a wrong one never does")
    func rightAndWrong() throws {
        let a = try authenticator()
        #expect(attempt(a, "job", "right-secret") == .success("job"))
        #expect(attempt(a, "job", "right-secret") == .success("job"))
        #expect(attempt(a, "job", "right-secretX") == .failure(.invalidClient))
        #expect(attempt(a, "job", "right-secre") == .failure(.invalidClient))
        #expect(attempt(a, "job", "") == .failure(.invalidClient))
        #expect(attempt(a, "nobody", "right-secret") == .failure(.invalidClient))
    }

    @Test("failures are throttled per client id; a success clears the count")
    func throttled() throws {
        let a = try authenticator(perClient: 3)
        for _ in 0..<3 { #expect(attempt(a, "job", "wrong") == .failure(.invalidClient)) }
        guard case .failure(.throttled(let s))? = attempt(a, "job", "wrong") else {
            Issue.record("not throttled")
            return
        }
        #expect(s >= 1)
        // Throttled means no hash is tried, even for the right secret (not yet remembered).
        guard case .failure(.throttled)? = attempt(a, "job", "right-secret") else {
            Issue.record("a throttled client id was checked")
            return
        }
    }

    @Test("an unknown client id is throttled like a known one")
    func unknownThrottled() throws {
        let a = try authenticator(perClient: 2)
        #expect(attempt(a, "ghost", "x") == .failure(.invalidClient))
        #expect(attempt(a, "ghost", "x") == .failure(.invalidClient))
        guard case .failure(.throttled)? = attempt(a, "ghost", "x") else {
            Issue.record("unknown client not throttled")
            return
        }
    }
}

@Suite("Client-credentials grant")
struct ClientGrantTests {
    let tokens = tokenSettings(keys: [], audience: ["api", "other"], accessTTL: 600_000)
    let client = RegisteredClient(
        id: "job", secretHash: "", grantTypes: ["client_credentials"], scopes: ["a", "b", "c"],
        audiences: ["api", "reports"], roles: ["svc"], accessTTL: 60_000, mayIntrospect: false)

    @Test("scope and audience are narrowed, never widened")
    func narrowing() {
        let all = ClientGrant.decide(client: client, requestedScope: nil, requestedAudience: nil, tokens: tokens)
        #expect(all == .success(ClientGrant(scope: "a b c", audience: ["api"], ttl: 60_000)))
        let some = ClientGrant.decide(
            client: client, requestedScope: "c a", requestedAudience: "reports", tokens: tokens)
        #expect(some == .success(ClientGrant(scope: "a c", audience: ["reports"], ttl: 60_000)))
        guard
            case .failure(.invalidScope) = ClientGrant.decide(
                client: client, requestedScope: "a admin", requestedAudience: nil, tokens: tokens)
        else {
            Issue.record("a wider scope was granted")
            return
        }
        guard
            case .failure(.invalidTarget) = ClientGrant.decide(
                client: client, requestedScope: nil, requestedAudience: "other", tokens: tokens)
        else {
            Issue.record("an unregistered audience was granted")
            return
        }
    }

    @Test("without registered audiences, the gateway's; ttl never above tokens.access_ttl")
    func defaults() {
        var c = client
        c.audiences = []
        c.accessTTL = nil
        c.scopes = []
        #expect(
            ClientGrant.decide(client: c, requestedScope: nil, requestedAudience: "other", tokens: tokens)
                == .success(ClientGrant(scope: nil, audience: ["other"], ttl: 600_000)))
        #expect(
            ClientGrant.decide(client: c, requestedScope: nil, requestedAudience: nil, tokens: tokens)
                == .success(ClientGrant(scope: nil, audience: ["api", "other"], ttl: 600_000)))
    }

    @Test("the payload: sub and client_id are the client, no sid (RFC 9068 §2.2); a machine token")
    func payload() throws {
        let g = ClientGrant(scope: "a", audience: ["api"], ttl: 60_000)
        let bytes = g.payload(client: client, issuer: "https://i", jti: "j1", now: 1_700_000_000_000)
        let v = try JSONParser.parse(bytes)
        #expect(v["sub"] == .string("job") && v["client_id"] == .string("job") && v["sid"] == nil)
        #expect(v["exp"] == .number(1_700_000_060) && v["aud"] == .string("api") && v["roles"] != nil)
        let claims = try ClaimsScanner.scan(bytes)
        #expect(MachineTokenPolicy.isMachine(claims))
    }
}

@Suite("Discovery metadata")
struct DiscoveryMetadataTests {
    func inputs(_ issuer: String = "https://auth.example.com") -> DiscoveryMetadata.Inputs {
        .init(
            issuer: issuer, tokenPath: "/oauth/token", jwksPath: "/.well-known/jwks.json",
            revocationPath: "/oauth/revoke", introspectionPath: "/oauth/introspect", password: true,
            clientCredentials: true, confidentialClients: true)
    }

    private func names(_ m: DiscoveryMetadata) -> [String] { m.fields.map(\.0) }

    @Test("everything configured: every field, endpoints on the issuer's origin")
    func full() throws {
        let m = try DiscoveryMetadata(inputs())
        #expect(
            names(m) == [
                "issuer", "token_endpoint", "grant_types_supported", "token_endpoint_auth_methods_supported",
                "jwks_uri",
                "revocation_endpoint", "revocation_endpoint_auth_methods_supported", "introspection_endpoint",
                "introspection_endpoint_auth_methods_supported",
            ])
        let doc = try JSONParser.parse(m.document)
        #expect(doc["token_endpoint"] == .string("https://auth.example.com/oauth/token"))
        #expect(
            doc["grant_types_supported"]
                == .array([.string("password"), .string("refresh_token"), .string("client_credentials")]))
        #expect(m.authorizationServerPath == "/.well-known/oauth-authorization-server")
        #expect(m.openIDPath == "/.well-known/openid-configuration")
    }

    @Test("only what is true: no clients, no keys to publish, no password, no revocation")
    func minimal() throws {
        var i = inputs()
        i.jwksPath = nil
        i.revocationPath = nil
        i.password = false
        i.clientCredentials = false
        i.confidentialClients = false
        let m = try DiscoveryMetadata(i)
        #expect(
            names(m) == ["issuer", "token_endpoint", "grant_types_supported", "token_endpoint_auth_methods_supported"])
        let doc = try JSONParser.parse(m.document)
        #expect(doc["grant_types_supported"] == .array([.string("refresh_token")]))
        #expect(doc["token_endpoint_auth_methods_supported"] == .array([.string("none")]))
        // Introspection needs clients even if a path is set.
        i.introspectionPath = "/x"
        #expect(!names(try DiscoveryMetadata(i)).contains("introspection_endpoint"))
    }

    @Test("an issuer with a path: RFC 8414 §3 inserts the well-known part before it")
    func issuerPath() throws {
        let m = try DiscoveryMetadata(inputs("https://auth.example.com/tenant/"))
        #expect(m.authorizationServerPath == "/.well-known/oauth-authorization-server/tenant")
        #expect(m.openIDPath == "/tenant/.well-known/openid-configuration")
        #expect(try JSONParser.parse(m.document)["issuer"] == .string("https://auth.example.com/tenant/"))
    }

    @Test("the issuer must be a URL", arguments: ["gateway", "ftp://x", "https://", "https://x?a=1", "https://x#f"])
    func badIssuer(_ issuer: String) {
        #expect(throws: DiscoveryMetadata.Problem.issuerNotURL) { try DiscoveryMetadata(inputs(issuer)) }
    }
}

@Suite("Introspection cache")
struct IntrospectionCacheTests {
    private func entry(_ until: Int64) -> IntrospectionCache.Entry {
        .init(body: [1], validUntil: until, sid: nil, jti: nil)
    }

    @Test("bounded: the oldest insert goes first; expired entries are not answered")
    func bounded() {
        let c = IntrospectionCache(capacity: 3)
        let keys = (0..<5).map { IntrospectionCache.key(Array("t\($0)".utf8)) }
        for k in keys { c.insert(k, entry(1000)) }
        #expect(c.count == 3)
        #expect(c.entry(keys[0], now: 0) == nil && c.entry(keys[1], now: 0) == nil)
        #expect(c.entry(keys[4], now: 0) != nil)
        #expect(c.entry(keys[4], now: 1000) == nil)
        let off = IntrospectionCache(capacity: 0)
        off.insert(keys[0], entry(1000))
        #expect(off.count == 0)
    }
}
