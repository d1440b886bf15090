import Testing

@testable import JOSE

@Suite("Claim validation (injected time, leeway edges)")
struct ClaimValidatorTests {
    static let now: Double = 1_700_000_000
    static let rules = ClaimRules(issuer: "https://auth.example.com", audience: "api", leeway: 30)

    func token(_ claims: String, typ: String? = "at+jwt") throws(JOSEError) -> VerifiedJWS {
        let keys = try JWSKeySet(verificationKeys: [], signingKey: TestKeys.hs256)
        return try keys.verify(token: keys.sign(payload: bytes(claims), typ: typ), allowedAlgorithms: [.hs256])
    }

    func claims(
        exp: Double? = now + 900,
        nbf: Double? = nil,
        iat: Double? = nil,
        iss: String = "https://auth.example.com",
        aud: String = #"["api"]"#
    ) -> String {
        var parts = [#""iss":"\#(iss)""#, #""aud":\#(aud)"#, #""sub":"u""#]
        if let exp { parts.append(#""exp":\#(exp)"#) }
        if let nbf { parts.append(#""nbf":\#(nbf)"#) }
        if let iat { parts.append(#""iat":\#(iat)"#) }
        return "{" + parts.joined(separator: ",") + "}"
    }

    @Test("a good token passes")
    func good() throws {
        try ClaimValidator(rules: Self.rules).validate(token(accessClaims(now: Self.now)), now: Self.now)
        try ClaimValidator(rules: Self.rules).validate(token(claims(nbf: Self.now, iat: Self.now)), now: Self.now)
    }

    @Test("exp at the leeway edge")
    func exp() throws {
        let v = ClaimValidator(rules: Self.rules)
        let t = try token(claims(exp: Self.now))
        try v.validate(t, now: Self.now + 29.999)
        expectError(.expired) { () throws(JOSEError) in try v.validate(t, now: Self.now + 30) }
        expectError(.expired) { () throws(JOSEError) in try v.validate(t, now: Self.now + 3600) }
        // Expired accepted on request (refresh binding), other rules still apply.
        let lenient = ClaimValidator(rules: Self.rules.allowingExpired)
        try lenient.validate(t, now: Self.now + 86_400)
        let wrongIss = try token(claims(exp: Self.now, iss: "evil"))
        expectError(.issuerMismatch) { () throws(JOSEError) in try lenient.validate(wrongIss, now: Self.now + 86_400) }
        // Zero leeway.
        var strict = Self.rules
        strict.leeway = 0
        expectError(.expired) { () throws(JOSEError) in try ClaimValidator(rules: strict).validate(t, now: Self.now) }
        try ClaimValidator(rules: strict).validate(t, now: Self.now - 0.001)
    }

    @Test("NumericDates outside 1970...9999 are invalid, also when expired tokens are accepted")
    func numericDateRange() throws {
        for rules in [Self.rules, Self.rules.allowingExpired] {
            let v = ClaimValidator(rules: rules)
            for (name, text) in [
                ("exp", claims(exp: 9.3e15)), ("exp", claims(exp: 1e20)), ("exp", claims(exp: -1e20)),
                ("exp", claims(exp: -1)), ("nbf", claims(nbf: 1e300)), ("iat", claims(iat: -5)),
            ] {
                let t = try token(text)
                expectError(.invalidClaim(name)) { () throws(JOSEError) in try v.validate(t, now: Self.now) }
            }
        }
        try ClaimValidator(rules: Self.rules).validate(
            token(claims(exp: ClaimValidator.latestNumericDate)), now: Self.now)
    }

    @Test("exp required for access tokens")
    func expRequired() throws {
        let t = try token(claims(exp: nil))
        expectError(.missingClaim("exp")) { () throws(JOSEError) in
            try ClaimValidator(rules: Self.rules).validate(t, now: Self.now)
        }
        var r = Self.rules
        r.requireExpiration = false
        try ClaimValidator(rules: r).validate(t, now: Self.now)
    }

    @Test("nbf and iat at the leeway edge")
    func nbfIat() throws {
        let v = ClaimValidator(rules: Self.rules)
        let nbf = try token(claims(nbf: Self.now + 30))
        try v.validate(nbf, now: Self.now)
        expectError(.notYetValid) { () throws(JOSEError) in try v.validate(nbf, now: Self.now - 0.5) }
        let iat = try token(claims(iat: Self.now + 30))
        try v.validate(iat, now: Self.now)
        expectError(.issuedInFuture) { () throws(JOSEError) in try v.validate(iat, now: Self.now - 0.5) }
    }

    @Test("several accepted audiences: aud must hold at least one of them")
    func anyOfAudiences() throws {
        let v = ClaimValidator(
            rules: ClaimRules(issuer: "https://auth.example.com", audiences: ["orders", "billing"], leeway: 30))
        try v.validate(token(claims(aud: #""billing""#)), now: Self.now)
        try v.validate(token(claims(aud: #"["x","orders"]"#)), now: Self.now)
        expectError(.audienceMismatch) { () throws(JOSEError) in
            try v.validate(token(claims(aud: #"["x","Orders"]"#)), now: Self.now)
        }
        expectError(.missingClaim("aud")) { () throws(JOSEError) in
            try v.validate(token(#"{"iss":"https://auth.example.com","exp":1800000000}"#), now: Self.now)
        }
        // No accepted audience configured: the check is skipped.
        try ClaimValidator(rules: ClaimRules(issuer: "https://auth.example.com")).validate(
            token(claims(aud: #""anything""#)), now: Self.now)
    }

    @Test("iss and aud")
    func issAud() throws {
        let v = ClaimValidator(rules: Self.rules)
        expectError(.issuerMismatch) { () throws(JOSEError) in
            try v.validate(token(claims(iss: "https://auth.example.com/")), now: Self.now)
        }
        expectError(.audienceMismatch) { () throws(JOSEError) in
            try v.validate(token(claims(aud: #"["API","apis"]"#)), now: Self.now)
        }
        try v.validate(token(claims(aud: #""api""#)), now: Self.now)
        try v.validate(token(claims(aud: #"["x","api"]"#)), now: Self.now)
        expectError(.missingClaim("aud")) { () throws(JOSEError) in
            try v.validate(token(#"{"iss":"https://auth.example.com","exp":1800000000}"#), now: Self.now)
        }
        expectError(.missingClaim("iss")) { () throws(JOSEError) in
            try v.validate(token(#"{"aud":"api","exp":1800000000}"#), now: Self.now)
        }
    }

    @Test(
        "header typ must be at+jwt (any case) or application/at+jwt",
        arguments: [
            ("at+jwt", true), ("AT+JWT", true), ("application/at+jwt", true), ("Application/AT+JWT", true),
            ("JWT", false), ("at+jwt ", false), ("application/jwt", false), ("", false),
        ]
    )
    func typ(value: String, ok: Bool) throws {
        let v = ClaimValidator(rules: Self.rules)
        let t = try token(claims(), typ: value)
        if ok {
            try v.validate(t, now: Self.now)
        } else {
            expectError(.typeMismatch) { () throws(JOSEError) in try v.validate(t, now: Self.now) }
        }
    }

    @Test("missing typ is a mismatch unless not required")
    func noTyp() throws {
        let t = try token(claims(), typ: nil)
        expectError(.typeMismatch) { () throws(JOSEError) in
            try ClaimValidator(rules: Self.rules).validate(t, now: Self.now)
        }
        var r = Self.rules
        r.requireAccessTokenType = false
        try ClaimValidator(rules: r).validate(t, now: Self.now)
    }

    @Test("AccessTokenVerifier combines signature and claims")
    func verifier() throws {
        let keys = try JWSKeySet(verificationKeys: [], signingKey: TestKeys.p256)
        let verifier = AccessTokenVerifier(keys: keys, allowedAlgorithms: [.es256], rules: Self.rules)
        let token = try keys.sign(payload: bytes(claims(exp: Self.now + 60)))
        #expect(try verifier.verify(token: token, now: Self.now).claims.sub == "u")
        expectError(.expired) { () throws(JOSEError) in try verifier.verify(token: token, now: Self.now + 120) }
        #expect(abs(ClaimValidator.currentTime() - Double(Int64(ClaimValidator.currentTime()))) < 1)
    }
}
