import JOSE
import Testing

@testable import GatewayCore

@Suite("Refresh tokens")
struct RefreshTokenTests {
    @Test("64 base64url characters, 384 random bits, parsed back to the same digests")
    func roundTrip() throws {
        let t = RefreshToken.generate()
        #expect(t.text.utf8.count == 64)
        #expect(
            t.text.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D
                    || b == 0x5F
            })
        let p = try #require(RefreshToken(presented: t.text))
        #expect(p.text == t.text)
        #expect(p.lookupKey == t.lookupKey)
        #expect(p.hash == t.hash)
        #expect(p.lookupKey != p.hash)
        let other = RefreshToken.generate()
        #expect(other.text != t.text)
        #expect(other.lookupKey != t.lookupKey)
    }

    @Test("successor keeps the family's lookup key and changes the hash")
    func successor() throws {
        let t = RefreshToken.generate()
        let s = t.successor()
        #expect(s.lookupKey == t.lookupKey)
        #expect(s.hash != t.hash)
        #expect(s.text != t.text)
        #expect(s.text.prefix(21) == t.text.prefix(21))  // 16 lookup bytes = 21⅓ characters
        #expect(s.successor().lookupKey == t.lookupKey)
        #expect(try #require(RefreshToken(presented: s.text)).lookupKey == t.lookupKey)
    }

    static let notTokens = [
        "", "abc", String(repeating: "A", count: 63), String(repeating: "A", count: 65),
        String(repeating: "A", count: 63) + "=", String(repeating: "A", count: 63) + "+",
        String(repeating: "A", count: 63) + "/", String(repeating: "A", count: 63) + " ",
        String(repeating: "é", count: 32),
    ]

    @Test("anything else is not a refresh token", arguments: notTokens)
    func refused(text: String) {
        #expect(RefreshToken(presented: text) == nil)
    }

    @Test("the grace blob opens only with the token it was sealed under")
    func grace() throws {
        let t = RefreshToken.generate()
        let s = t.successor()
        let blob = t.seal(successor: s)
        #expect(!blob.isEmpty)
        #expect(!String(decoding: blob, as: UTF8.self).contains(s.text))
        let opened = try #require(t.open(graceBlob: blob))
        #expect(opened.text == s.text)
        #expect(opened.hash == s.hash)
        #expect(try #require(RefreshToken(presented: t.text)).open(graceBlob: blob)?.text == s.text)
        #expect(s.open(graceBlob: blob) == nil)
        #expect(RefreshToken.generate().open(graceBlob: blob) == nil)
        var tampered = blob
        tampered[tampered.count / 2] ^= 1
        #expect(t.open(graceBlob: tampered) == nil)
        #expect(t.open(graceBlob: []) == nil)
    }
}

@Suite("Login identity")
struct LoginIdentityTests {
    @Test("family claims round trip; reserved claims are dropped")
    func roundTrip() {
        let id = LoginIdentity(
            subject: "alice", scope: "read write", roles: ["admin", "ops"],
            extra: [
                ("email", .string("a@example.com")), ("level", .number(3)), ("iss", .string("evil")),
                ("sid", .string("x")), ("exp", .number(1)), ("cnf", .null),
            ])
        #expect(id.extra.map(\.0) == ["email", "level"])
        let blob = id.familyClaims
        #expect(
            String(decoding: blob, as: UTF8.self)
                == #"{"scope":"read write","roles":["admin","ops"],"email":"a@example.com","level":3}"#)
        let back = LoginIdentity(subject: "alice", familyClaims: blob)
        #expect(back.subject == "alice")
        #expect(back.scope == "read write")
        #expect(back.roles == ["admin", "ops"])
        #expect(back.extra.map(\.0) == ["email", "level"])
        #expect(back.extra.map(\.1) == [.string("a@example.com"), .number(3)])
    }

    @Test("an empty identity and a damaged blob")
    func empty() {
        let id = LoginIdentity(subject: "bob", scope: nil, roles: [], extra: [])
        #expect(id.familyClaims == bytes("{}"))
        let back = LoginIdentity(subject: "bob", familyClaims: bytes("not json"))
        #expect(back.scope == nil && back.roles.isEmpty && back.extra.isEmpty)
        let sneaky = LoginIdentity(subject: "bob", familyClaims: bytes(#"{"sub":"root","aud":"x","tenant":"t"}"#))
        #expect(sneaky.extra.map(\.0) == ["tenant"])
    }
}

@Suite("Access token minting")
struct TokenMinterTests {
    private func minter(audience: [String] = ["api"], ttl: Int64 = 900_000) throws -> TokenMinter {
        let keys = try TokenKeys(
            settings: tokenSettings(keys: [envKey("k1", "SECRET")], audience: audience, accessTTL: ttl),
            environment: ["SECRET": String(repeating: "s", count: 32)])
        return TokenMinter(keys: keys)
    }

    @Test("RFC 9068 claims, verified by the gateway's own verifier")
    func claimsOfAnAccessToken() throws {
        let m = try minter()
        let now = nowMillis()
        let identity = LoginIdentity(
            subject: "alice", scope: "read write", roles: ["admin"],
            extra: [("email", .string("a@example.com")), ("iss", .string("https://evil")), ("exp", .number(9e12))])
        let token = try m.accessToken(for: identity, sid: "fam-1", jti: "jti-1", now: now)
        let verified = try m.keys.verifier.verify(token: bytes(token), now: Double(now) / 1000)
        #expect(verified.header.typ == "at+jwt")
        #expect(verified.keyID == "k1")
        let c = verified.claims
        #expect(c.iss == "https://auth.example.com")
        #expect(c.sub == "alice")
        #expect(c.rawValue("aud").map { Array($0) } == bytes(#""api""#))
        #expect(c.iat == Double(now / 1000))
        #expect(c.nbf == c.iat)
        #expect(c.exp == Double(now / 1000 + 900))
        #expect(c.sid == "fam-1")
        #expect(c.jti == "jti-1")
        #expect(c.scope == "read write")
        #expect(c.roles == ["admin"])
        #expect(c.string("email") == "a@example.com")
        // Reserved claims from an authenticator never reach the token.
        #expect(c.names.filter { $0 == "iss" }.count == 1)
        #expect(c.names.filter { $0 == "exp" }.count == 1)
    }

    @Test("several audiences are an array; no scope or roles, no claims")
    func audienceArray() throws {
        let m = try minter(audience: ["api", "billing"], ttl: 60_000)
        let now = nowMillis()
        let token = try m.accessToken(
            for: LoginIdentity(subject: "bob", scope: nil, roles: [], extra: []),
            sid: "s", jti: "j", now: now)
        let c = try m.keys.verifier.verify(token: bytes(token), now: Double(now) / 1000).claims
        #expect(c.rawValue("aud").map { Array($0) } == bytes(#"["api","billing"]"#))
        #expect(c.aud == ["api", "billing"])
        #expect(c.exp == Double(now / 1000 + 60))
        #expect(c.scope == nil)
        #expect(c.kind(of: "roles") == nil)
    }

    @Test("an expired token is refused by the strict verifier, accepted by the lenient one")
    func expiry() throws {
        let m = try minter(ttl: 60_000)
        let now = nowMillis()
        let token = try m.accessToken(
            for: LoginIdentity(subject: "bob", scope: nil, roles: [], extra: []),
            sid: "s", jti: "j", now: now - 3_600_000)
        do {
            _ = try m.keys.verifier.verify(token: bytes(token), now: Double(now) / 1000)
            Issue.record("expired token verified")
        } catch {
            #expect(error == .expired)
        }
        #expect((try? m.keys.lenientVerifier.verify(token: bytes(token), now: Double(now) / 1000)) != nil)
    }

    @Test("new ids are 128-bit base64url")
    func ids() {
        let a = TokenMinter.newID(), b = TokenMinter.newID()
        #expect(a.utf8.count == 22)
        #expect(a != b)
    }
}

@Suite("Token keys")
struct TokenKeysTests {
    private func failure(_ settings: TokenSettings, _ env: [String: String] = [:]) -> [ConfigError.Issue] {
        do {
            _ = try TokenKeys(settings: settings, environment: env)
            Issue.record("keys were accepted")
            return []
        } catch {
            return error.issues
        }
    }

    private let secret32 = String(repeating: "k", count: 32)

    @Test("secret_env: missing or empty variables are named with the key's path")
    func missingEnv() {
        let issues = failure(
            tokenSettings(keys: [envKey("a", "A", index: 0), envKey("b", "NOPE", index: 1)]),
            ["A": secret32, "NOPE": ""])
        #expect(issues.count == 1)
        #expect(has(issues, "tokens.keys[1]", "NOPE is not set"))
    }

    @Test("an HS256 secret shorter than 32 bytes is refused")
    func shortSecret() throws {
        let issues = failure(tokenSettings(keys: [envKey("a", "A")]), ["A": String(repeating: "k", count: 31)])
        #expect(has(issues, "tokens.keys[0]", "shorter"))
        let hs512 = failure(tokenSettings(keys: [envKey("a", "A", alg: "HS512")]), ["A": secret32])
        #expect(has(hs512, "tokens.keys[0]"))
        #expect(
            (try? TokenKeys(settings: tokenSettings(keys: [envKey("a", "A")]), environment: ["A": secret32])) != nil)
    }

    @Test("signing_key must name a loaded key")
    func signingKey() throws {
        let issues = failure(tokenSettings(keys: [envKey("a", "A")], signingKey: "zzz"), ["A": secret32])
        #expect(has(issues, "tokens.signing_key", "no key has kid"))
        let keys = try TokenKeys(
            settings: tokenSettings(keys: [envKey("a", "A", index: 0), envKey("b", "B", index: 1)], signingKey: "b"),
            environment: ["A": secret32, "B": String(repeating: "b", count: 32)])
        #expect(keys.keySet.signingKey?.kid == "b")
        #expect(keys.canSign)
        // HMAC keys are never published.
        #expect(!String(decoding: keys.jwks, as: UTF8.self).contains("\"k\""))
    }

    @Test("the algorithm allow-list defaults to the keys' algorithms")
    func allowList() throws {
        let s256 = secret32, s512 = String(repeating: "x", count: 64)
        let env = ["A": s256, "B": s512]
        let sources = [envKey("a", "A", index: 0), envKey("b", "B", alg: "HS512", index: 1)]
        let other = try JWSKey.hmac(secret: bytes(s512), algorithm: .hs512, kid: "b")
        let otherSet = try JWSKeySet(verificationKeys: [other], signingKey: other)
        let now = nowMillis() / 1000
        let payload = #"{"iss":"https://auth.example.com","aud":"api","sub":"x","exp":\#(now + 60),"iat":\#(now)}"#
        let token = try otherSet.sign(payload: bytes(payload))

        let byDefault = try TokenKeys(settings: tokenSettings(keys: sources), environment: env)
        #expect(byDefault.keySet.signingKey?.kid == "a")
        #expect((try? byDefault.verifier.verify(token: token, now: Double(now))) != nil)

        let restricted = try TokenKeys(settings: tokenSettings(keys: sources, algorithms: ["HS256"]), environment: env)
        do {
            _ = try restricted.verifier.verify(token: token, now: Double(now))
            Issue.record("HS512 accepted outside the allow-list")
        } catch {
            #expect(error == .algorithmNotAllowed)
        }

        let withoutSigner = failure(tokenSettings(keys: sources, algorithms: ["HS512"]), env)
        #expect(has(withoutSigner, "tokens.algorithms", "HS256"))
    }

    @Test("secret_file: a trailing newline is not part of the secret")
    func secretFile() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = try dir.write("secret", secret32 + "\n")
        let keys = try TokenKeys(
            settings: tokenSettings(keys: [
                KeySource(kid: "f", alg: "HS256", material: .secretFile(path), path: "tokens.keys[0]")
            ]),
            environment: [:])
        let expected = try JWSKey.hmac(secret: bytes(secret32), algorithm: .hs256, kid: "f")
        let token = try keys.keySet.sign(payload: bytes(#"{"sub":"x"}"#))
        let check = try JWSKeySet(verificationKeys: [expected])
        #expect((try? check.verify(token: token, allowedAlgorithms: [.hs256])) != nil)

        let missing = failure(
            tokenSettings(keys: [
                KeySource(kid: "f", alg: "HS256", material: .secretFile(dir.path + "/nope"), path: "tokens.keys[0]")
            ]))
        #expect(has(missing, "tokens.keys[0]", "cannot read key file"))
    }

    @Test("private_key_file: a PEM private key signs and is published in the JWKS")
    func privateKeyFile() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let generated = try JWSKey.generate(algorithm: .es256, kid: "ec-1")
        let path = try dir.write("ec.pem", try generated.privateKeyPEM())
        let keys = try TokenKeys(
            settings: tokenSettings(keys: [
                KeySource(kid: "ec-1", alg: "ES256", material: .privateKeyFile(path), path: "tokens.keys[0]")
            ]),
            environment: [:])
        #expect(keys.canSign)
        #expect(keys.keySet.signingKey?.kid == "ec-1")
        let jwks = String(decoding: keys.jwks, as: UTF8.self)
        #expect(jwks.contains("\"kid\":\"ec-1\""))
        #expect(jwks.contains("\"kty\":\"EC\""))
        #expect(!jwks.contains("\"d\""))
        let now = nowMillis()
        let token = try TokenMinter(keys: keys).accessToken(
            for: LoginIdentity(subject: "alice", scope: nil, roles: [], extra: []), sid: "s", jti: "j", now: now)
        #expect(try keys.verifier.verify(token: bytes(token), now: Double(now) / 1000).claims.sub == "alice")

        let garbage = try dir.write("bad.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        let bad = failure(
            tokenSettings(keys: [
                KeySource(kid: "x", alg: "ES256", material: .privateKeyFile(garbage), path: "tokens.keys[0]")
            ]))
        #expect(has(bad, "tokens.keys[0]"))
        let wrongAlg = failure(
            tokenSettings(keys: [
                KeySource(kid: "x", alg: "RS256", material: .privateKeyFile(path), path: "tokens.keys[0]")
            ]))
        #expect(has(wrongAlg, "tokens.keys[0]"))
    }
}
