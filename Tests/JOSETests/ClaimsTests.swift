import Testing

@testable import JOSE

@Suite("Claims scanner")
struct ClaimsTests {
    @Test("registered and extra claims")
    func registered() throws {
        let c = try ClaimsScanner.scan(
            bytes(accessClaims(extra: #","n":1.25,"flag":false,"obj":{"a":[1,"x"]},"esc":"a\"b\u00e9""#))
        )
        #expect(c.iss == "https://auth.example.com")
        #expect(c.sub == "user-1234567890")
        #expect(c.aud == ["api", "billing"])
        #expect(c.exp == 1_700_000_900)
        #expect(c.iat == 1_700_000_000)
        #expect(c.nbf == 1_700_000_000)
        #expect(c.jti == "01HF8Z3Q7X9K2M4N6P8R0T2V4W")
        #expect(c.sid == "fam-4f9c2a7e1b3d")
        #expect(c.scope == "read write admin:users")
        #expect(c.scopes == ["read", "write", "admin:users"])
        #expect(c.roles == ["admin", "ops"])
        #expect(c.typ == nil)
        #expect(c.string("tenant") == "acme")
        #expect(c.textValue("tenant") == "acme")
        #expect(c.number("n") == 1.25)
        #expect(c.textValue("n") == "1.25")
        #expect(c.textValue("flag") == "false")
        #expect(c.kind(of: "obj") == .object)
        #expect(c.rawValue("obj").map(Array.init) == bytes(#"{"a":[1,"x"]}"#))
        #expect(c.string("esc") == "a\"b\u{E9}")
        #expect(c.string("missing") == nil)
        #expect(c.string("n") == nil)
        #expect(c.names.contains("tenant"))
    }

    @Test("aud and roles as a single string; fractional times; typ claim")
    func shapes() throws {
        let c = try ClaimsScanner.scan(
            bytes(#"{"aud":"api","roles":"admin","exp":1700000000.75,"nbf":-5,"iat":1.7e9,"typ":"Bearer"}"#)
        )
        #expect(c.aud == ["api"])
        #expect(c.roles == ["admin"])
        #expect(c.exp == 1_700_000_000.75)
        #expect(c.nbf == -5)
        #expect(c.iat == 1_700_000_000)
        #expect(c.typ == "Bearer")
        let escaped = try ClaimsScanner.scan(bytes(#"{"\u0065xp":5,"s\u0075b":"x"}"#))
        #expect(escaped.exp == 5)
        #expect(escaped.sub == "x")
    }

    static let wrongTypes: [(String, String)] = [
        (#"{"exp":"1700000000"}"#, "exp"), (#"{"nbf":true}"#, "nbf"), (#"{"iat":null}"#, "iat"),
        (#"{"iss":1}"#, "iss"), (#"{"sub":["a"]}"#, "sub"), (#"{"aud":1}"#, "aud"), (#"{"aud":["a",1]}"#, "aud"),
        (#"{"roles":[["a"]]}"#, "roles"), (#"{"scope":["a"]}"#, "scope"), (#"{"sid":{}}"#, "sid"),
        (#"{"jti":1}"#, "jti"), (#"{"exp":1e400}"#, "exp"),
    ]

    @Test("registered claims of the wrong type are refused", arguments: wrongTypes)
    func wrongType(json: String, name: String) {
        expectError(.invalidClaim(name)) { () throws(JOSEError) in try ClaimsScanner.scan(bytes(json)) }
    }

    @Test("claims must be one strict JSON object")
    func strict() {
        for doc in ["", "[]", "\"x\"", "{} {}", "{\"a\":1,}", "{\"sub\":\"\\ud800\"}"] {
            expectError(code: "malformed") { () throws(JOSEError) in try ClaimsScanner.scan(bytes(doc)) }
        }
    }
}
