import JOSE
import XCTest

@testable import GatewayCore

/// JWKS and discovery parsing, the outside-issuer policy and claim mapping, without sockets.
final class TrustedIssuerTests: XCTestCase {
    private let es = try! JWSKey.generate(algorithm: .es256, kid: "es-1")
    private let es2 = try! JWSKey.generate(algorithm: .es256, kid: "es-2")

    private func jwk(_ k: JWSKey, _ extra: String = "") -> String {
        var s = String(decoding: k.publicJWK()!, as: UTF8.self)
        if !extra.isEmpty { s = String(s.dropLast()) + "," + extra + "}" }
        return s
    }

    private func doc(_ entries: [String]) -> [UInt8] { Array("{\"keys\":[\(entries.joined(separator: ","))]}".utf8) }

    func testJWKSKeepsSignatureKeysAndSkipsEncryptionKeys() throws {
        let enc = jwk(es2).replacingOccurrences(of: "\"use\":\"sig\"", with: "\"use\":\"enc\"")
        let oaep =
            "{\"kty\":\"RSA\",\"kid\":\"x\",\"alg\":\"RSA-OAEP\",\"n\":\"AQAB\",\"e\":\"AQAB\"}"
        let set = try IssuerDocuments.keys(doc([jwk(es, "\"x5t\":\"abc\",\"x5c\":[\"MIIB\"]"), enc, oaep]))
        XCTAssertEqual(set.keys.map(\.kid), ["es-1"])
    }

    func testJWKSStrictness() {
        func refused(_ body: [UInt8], _ line: UInt = #line) {
            XCTAssertThrowsError(try IssuerDocuments.keys(body), line: line)
        }
        refused(Array("not json".utf8))
        refused(Array("{\"keys\":{}}".utf8))
        refused(doc([]))
        refused(doc(["{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\"}", jwk(es)]))
        // Two different keys under one kid.
        let clash = jwk(es2).replacingOccurrences(of: "\"es-2\"", with: "\"es-1\"")
        refused(doc([jwk(es), clash]))
        // A bad signature entry refuses the set (no silent partial set).
        refused(doc([jwk(es), "{\"kty\":\"EC\",\"kid\":\"b\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}"]))
        // Duplicate members are not JSON the gateway accepts.
        refused(Array("{\"keys\":[\(jwk(es))],\"keys\":[]}".utf8))
    }

    func testDiscoveryIssuerMustMatchAndJWKSMustBeHTTPS() throws {
        let ok = Array(#"{"issuer":"https://idp.test/r","jwks_uri":"https://idp.test/r/certs"}"#.utf8)
        XCTAssertEqual(
            try IssuerDocuments.jwksURI(discovery: ok, issuer: "https://idp.test/r"), "https://idp.test/r/certs")
        XCTAssertThrowsError(try IssuerDocuments.jwksURI(discovery: ok, issuer: "https://idp.test/r/"))
        let plain = Array(#"{"issuer":"https://idp.test","jwks_uri":"http://evil.test/certs"}"#.utf8)
        XCTAssertThrowsError(try IssuerDocuments.jwksURI(discovery: plain, issuer: "https://idp.test"))
        let none = Array(#"{"issuer":"https://idp.test"}"#.utf8)
        XCTAssertThrowsError(try IssuerDocuments.jwksURI(discovery: none, issuer: "https://idp.test"))
    }

    func testCacheControlMaxAge() {
        XCTAssertEqual(IssuerDocuments.maxAge(cacheControl: "public, max-age=300"), 300_000)
        XCTAssertEqual(IssuerDocuments.maxAge(cacheControl: "max-age=\"60\""), 60_000)
        XCTAssertEqual(IssuerDocuments.maxAge(cacheControl: "no-cache"), 0)
        XCTAssertEqual(IssuerDocuments.maxAge(cacheControl: "max-age=99999999999999999999"), 100 * 365 * 86_400_000)
        XCTAssertNil(IssuerDocuments.maxAge(cacheControl: "max-age=-1"))
        XCTAssertNil(IssuerDocuments.maxAge(cacheControl: nil))
    }

    private func settings(_ body: (inout TrustedIssuerSettings) -> Void = { _ in }) -> TrustedIssuerSettings {
        var s = TrustedIssuerSettings(
            issuer: "https://idp.test/r", keys: .jwksURI("https://idp.test/r/certs"), audiences: ["api", "other"],
            algorithms: ["ES256"], typ: .jwt, requiredClaims: [], scopeClaim: ["scope"],
            rolesClaim: ["realm_access", "roles"], claimHeaders: [(["azp"], "X-Auth-Client")], caFile: nil,
            minRefresh: 60_000, maxRefresh: 86_400_000, unknownKidInterval: 10_000, maxStaleness: 86_400_000,
            fetchTimeout: 5_000, maxJWKSBytes: 1 << 18)
        body(&s)
        return s
    }

    private func token(_ claims: String, typ: String? = "JWT", key: JWSKey? = nil) throws -> [UInt8] {
        try (key ?? es).signCompact(payload: Array(claims.utf8), typ: typ)
    }

    private func verify(_ t: [UInt8], _ s: TrustedIssuerSettings) throws -> AccessGrant {
        let issuer = TrustedIssuer(settings: s, index: 0, leeway: 30_000)
        let v = try issuer.verifier(try JWSKeySet(verificationKeys: [es])).verify(token: t, now: 1_000)
        try issuer.check(v)
        return issuer.grant(v.claims, names: IdentityHeaderNames())
    }

    private let good =
        #"{"iss":"https://idp.test/r","sub":"u1","aud":["account","other"],"exp":2000,"azp":"web","#
        + #""scope":"openid read","realm_access":{"roles":["admin","user"]}}"#

    func testKeycloakShapedTokenIsMapped() throws {
        let g = try verify(try token(good), settings())
        XCTAssertEqual(g.subject, "u1")
        XCTAssertEqual(g.scopes, ["openid", "read"])
        XCTAssertEqual(g.roles, ["admin", "user"])
        XCTAssertEqual(g.issuer, "https://idp.test/r")
        let lines = String(decoding: g.identity ?? [], as: UTF8.self)
        XCTAssertTrue(lines.contains("X-Auth-Roles: admin,user\r\n"), lines)
        XCTAssertTrue(lines.contains("X-Auth-Client: web\r\n"), lines)
        XCTAssertTrue(lines.contains("X-Auth-Scopes: openid read\r\n"), lines)
    }

    func testPolicyRefusals() throws {
        // typ
        XCTAssertThrowsError(try verify(try token(good, typ: "JWT"), settings { $0.typ = .accessToken }))
        XCTAssertNoThrow(try verify(try token(good, typ: "at+jwt"), settings { $0.typ = .accessToken }))
        XCTAssertNoThrow(try verify(try token(good, typ: nil), settings()))
        XCTAssertThrowsError(try verify(try token(good, typ: "id+jwt"), settings()))
        XCTAssertNoThrow(try verify(try token(good, typ: "id+jwt"), settings { $0.typ = .any }))
        // audiences: any one of several
        XCTAssertThrowsError(try verify(try token(good), settings { $0.audiences = ["api"] })) {
            XCTAssertEqual($0 as? JOSEError, .audienceMismatch)
        }
        // required claims
        XCTAssertThrowsError(try verify(try token(good), settings { $0.requiredClaims = ["email"] })) {
            XCTAssertEqual($0 as? JOSEError, .missingClaim("email"))
        }
        // iss exact
        let otherIss = good.replacingOccurrences(of: "https://idp.test/r", with: "https://idp.test/r/")
        XCTAssertThrowsError(try verify(try token(otherIss), settings())) {
            XCTAssertEqual($0 as? JOSEError, .issuerMismatch)
        }
        // a key outside the issuer's set
        XCTAssertThrowsError(try verify(try token(good, key: es2), settings())) {
            XCTAssertEqual($0 as? JOSEError, .unknownKey)
        }
        // an algorithm outside the allow-list
        XCTAssertThrowsError(try verify(try token(good), settings { $0.algorithms = ["RS256"] }))
    }

    func testScpArrayAndClaimPaths() throws {
        let entra =
            #"{"iss":"https://idp.test/r","sub":"u2","aud":"api","exp":2000,"scp":["a","b"],"roles":"solo","#
            + #""resource_access":{"my.client":{"roles":["r1"]}}}"#
        let g = try verify(try token(entra), settings { $0.scopeClaim = ["scp"] })
        XCTAssertEqual(g.scopes, ["a", "b"])
        XCTAssertEqual(g.roles, [])
        let h = try verify(try token(entra), settings { $0.rolesClaim = ["resource_access", "my.client", "roles"] })
        XCTAssertEqual(h.roles, ["r1"])
        let k = try verify(try token(entra), settings { $0.rolesClaim = ["roles"] })
        XCTAssertEqual(k.roles, ["solo"])
    }

    func testUnforwardableMappedClaimIsRefusedNotForwarded() throws {
        let bad =
            #"{"iss":"https://idp.test/r","sub":"u","aud":"api","exp":2000,"azp":"a\r\nX-Auth-Subject: root"}"#
        let g = try verify(try token(bad), settings())
        XCTAssertNil(g.identity)
        XCTAssertEqual(g.unforwardable, "azp")
    }

    func testRouteIssuerRestriction() throws {
        let g = try verify(try token(good), settings())
        var route = RouteConfig(
            name: "r", path: "/", methods: [], host: nil, upstreams: [], auth: .required, scopes: [], roles: [],
            stripPrefix: false, forwardAuthorization: false, websocket: false, preserveHost: true, maxBodyBytes: 0,
            upstreamTimeout: 1000, setRequestHeaders: [], removeRequestHeaders: [], setResponseHeaders: [],
            removeResponseHeaders: [])
        XCTAssertNoThrow(try IssuerPolicy.admit(g, route: route).get())
        route.issuers = ["https://idp.test/r"]
        XCTAssertNoThrow(try IssuerPolicy.admit(g, route: route).get())
        route.issuers = ["https://gateway.test"]
        XCTAssertThrowsError(try IssuerPolicy.admit(g, route: route).get()) {
            XCTAssertEqual($0 as? JOSEError, .issuerMismatch)
        }
    }

    func testConfigParsing() throws {
        func parse(_ issuers: String, routes: String = #"[{"path":"/","upstream":"http://127.0.0.1:1"}]"#) throws
            -> GatewayConfig
        {
            let json = """
                {"tokens":{"issuer":"https://gw.test","audience":"api",
                 "keys":[{"kid":"k","alg":"HS256","secret_env":"S"}],"trusted_issuers":\(issuers)},
                 "store":{"kind":"memory"},"routes":\(routes)}
                """
            return try GatewayConfig.parse(Array(json.utf8), baseDirectory: "/tmp", environment: [:])
        }
        let c = try parse(
            #"[{"issuer":"https://kc.test/realms/a","discovery":true,"audiences":["api"],"#
                + #""roles_claim":"realm_access.roles","claim_headers":{"azp":"X-Auth-Client"}}]"#,
            routes: #"[{"path":"/","upstream":"http://127.0.0.1:1","issuers":["https://kc.test/realms/a"]}]"#)
        let t = c.tokens!.trustedIssuers[0]
        XCTAssertEqual(t.keys, .discovery("https://kc.test/realms/a/.well-known/openid-configuration"))
        XCTAssertEqual(t.rolesClaim, ["realm_access", "roles"])
        XCTAssertEqual(t.unknownKidInterval, 10_000)
        XCTAssertEqual(c.routes[0].issuers, ["https://kc.test/realms/a"])
        XCTAssertTrue(c.identityHeaders.allNames.contains("X-Auth-Client"), "claim headers are stripped from requests")
        for (bad, message) in [
            (#"[{"issuer":"https://a.test","audiences":["api"]}]"#, "exactly one of"),
            (#"[{"issuer":"https://a.test","jwks_uri":"http://a.test/k","audiences":["api"]}]"#, "https://"),
            (#"[{"issuer":"https://a.test","discovery":true}]"#, "audiences"),
            (#"[{"issuer":"https://gw.test","discovery":true,"audiences":["a"]}]"#, "listed twice"),
            (#"[{"issuer":"https://a.test","discovery":true,"audiences":["a"],"algorithms":["HS256"]}]"#, "asymmetric"),
            (#"[{"issuer":"https://a.test","discovery":true,"audiences":["a"],"typ":"x"}]"#, "typ"),
            (#"[{"issuer":"https://a.test","discovery":true,"audiences":["a"],"colour":"x"}]"#, "colour"),
        ] {
            XCTAssertThrowsError(try parse(bad), bad) { e in
                XCTAssertTrue("\(e)".contains(message), "\(bad): \(e)")
            }
        }
        XCTAssertThrowsError(
            try parse("[]", routes: #"[{"path":"/","upstream":"http://127.0.0.1:1","issuers":["https://x"]}]"#))
    }
}
