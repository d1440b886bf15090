import JOSE
import Testing

@testable import GatewayCore

private func parse(_ value: String) -> BearerCredentials {
    // The value sits inside a larger buffer, as in a request head.
    let head = Array(("Authorization: " + value + "\r\n").utf8)
    return head.withUnsafeBytes { BearerCredentials.parse($0, 15..<(15 + value.utf8.count)) }
}

private func token(_ value: String) -> String? {
    let head = Array(("Authorization: " + value + "\r\n").utf8)
    guard case .token(let r) = parse(value) else { return nil }
    return String(decoding: head[r], as: UTF8.self)
}

@Suite("Bearer credentials (RFC 6750 §2.1)")
struct BearerCredentialsTests {
    @Test("the scheme is case-insensitive")
    func schemeCase() {
        #expect(token("Bearer abc") == "abc")
        #expect(token("bearer abc") == "abc")
        #expect(token("BEARER abc") == "abc")
        #expect(token("bEaReR abc") == "abc")
        #expect(token("Bearer    abc") == "abc")
    }

    @Test("token68 characters and trailing = padding")
    func token68() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl-_"
        #expect(token("Bearer " + jwt) == jwt)
        #expect(token("Bearer a-._~+/Z9") == "a-._~+/Z9")
        #expect(token("Bearer abc=") == "abc=")
        #expect(token("Bearer abc==") == "abc==")
    }

    @Test("every byte value: inside a token only the token68 characters are accepted")
    func everyByte() {
        let token68 = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/".utf8)
        for b in 0...255 {
            let value: [UInt8] = Array("Bearer a".utf8) + [UInt8(b)] + Array("z".utf8)
            let head = Array("Authorization: ".utf8) + value + Array("\r\n".utf8)
            let parsed = head.withUnsafeBytes { BearerCredentials.parse($0, 15..<(15 + value.count)) }
            if token68.contains(UInt8(b)) {
                #expect(parsed == .token(22..<25), "byte \(b)")
            } else {
                #expect(parsed == .malformed, "byte \(b)")
            }
        }
    }

    static let otherSchemes = [
        "Basic dXNlcjpwYXNz", "Digest username=\"a\"", "BearerX abc", "Bearerabc", "Token abc", "", "Bear", "B",
    ]

    @Test("other schemes count as no credentials", arguments: otherSchemes)
    func otherScheme(value: String) {
        #expect(parse(value) == .none)
    }

    static let malformed = [
        "Bearer", "bearer", "Bearer ", "Bearer    ", "Bearer\tabc", "Bearer a b", "Bearer abc def", "Bearer a,b",
        "Bearer =abc", "Bearer abc=d", "Bearer ab\"c", "Bearer abc\t", "Bearer é", "Bearer a;b",
    ]

    @Test("broken Bearer fields are malformed", arguments: malformed)
    func malformedField(value: String) {
        #expect(parse(value) == .malformed)
    }
}

@Suite("Identity headers")
struct IdentityHeadersTests {
    private func render(_ payload: String, names: IdentityHeaderNames = IdentityHeaderNames()) throws -> Result<
        String, IdentityHeaders.Unforwardable
    > {
        let c = try claims(payload)
        var out: [UInt8] = []
        do throws(IdentityHeaders.Unforwardable) {
            try IdentityHeaders.render(c, names: names, into: &out)
            return .success(String(decoding: out, as: UTF8.self))
        } catch {
            return .failure(error)
        }
    }

    private func refused(_ payload: String, names: IdentityHeaderNames = IdentityHeaderNames()) throws -> String? {
        if case .failure(let e) = try render(payload, names: names) { return e.claim }
        return nil
    }

    @Test("default names; scopes space-separated, roles comma-separated")
    func defaults() throws {
        let out = try render(#"{"sub":"alice","scope":"read  write","roles":["admin","ops"],"sid":"fam-1"}"#)
        #expect(
            try out.get()
                == "X-Auth-Subject: alice\r\nX-Auth-Scopes: read write\r\nX-Auth-Roles: admin,ops\r\nX-Auth-Session: fam-1\r\n"
        )
    }

    @Test("absent claims give no line")
    func absent() throws {
        #expect(try render(#"{"sub":"alice"}"#).get() == "X-Auth-Subject: alice\r\n")
        #expect(try render(#"{"roles":[]}"#).get() == "")
    }

    @Test("configured names and claim mappings; non-string claims as JSON text")
    func mappings() throws {
        var names = IdentityHeaderNames()
        names.subject = "X-User"
        names.claims = [
            ("email", "X-Email"), ("level", "X-Level"), ("flag", "X-Flag"), ("obj", "X-Obj"), ("missing", "X-Missing"),
        ]
        let out = try render(
            #"{"sub":"bob","email":"b@example.com","level":42,"flag":true,"obj":{"a":[1,"x"]}}"#, names: names)
        #expect(
            try out.get()
                == "X-User: bob\r\nX-Email: b@example.com\r\nX-Level: 42\r\nX-Flag: true\r\nX-Obj: {\"a\":[1,\"x\"]}\r\n"
        )
    }

    static let badSubjects = [
        #""a\r\nX-Admin: 1""#, #""a\nb""#, #""a\u0000b""#, #""a\u007fb""#, #""caf\u00e9""#, #"" alice""#, #""alice ""#,
        #""a\tb""#, #""\u2028""#,
    ]

    @Test("a claim that would put a control or non-ASCII byte into a header is refused", arguments: badSubjects)
    func badSubject(json: String) throws {
        #expect(try refused(#"{"sub":\#(json)}"#) == "sub")
        #expect(try refused(#"{"sub":"ok","sid":\#(json)}"#) == "sid")
        var names = IdentityHeaderNames()
        names.claims = [("email", "X-Email")]
        #expect(try refused(#"{"sub":"ok","email":\#(json)}"#, names: names) == "email")
    }

    @Test("roles: a comma or a control character refuses the token")
    func roles() throws {
        #expect(try refused(#"{"roles":["admin,root"]}"#) == "roles")
        #expect(try refused(#"{"roles":["ok","a\r\nb"]}"#) == "roles")
        #expect(try refused(#"{"scope":"read\twrite"}"#) == "scope")
        #expect(try refused(#"{"roles":["user"," admin"]}"#) == "roles")
        #expect(try refused(#"{"roles":["user",""]}"#) == "roles")
        #expect(try refused(#"{"roles":["admin"],"sub":"x"}"#) == nil)
    }
}
