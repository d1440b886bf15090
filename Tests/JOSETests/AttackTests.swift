import Testing

@testable import JOSE

/// RFC 8725 attacks, each with the error case it must produce.
@Suite("Attacks")
struct AttackTests {
    static let claims = accessClaims()
    static let all = JWSAlgorithmSet.all

    @Test("alg none in any casing", arguments: ["none", "None", "NONE", "nOnE", "\\u006eone"])
    func algNone(spelling: String) throws {
        let keys = try JWSKeySet(verificationKeys: [TestKeys.hs256])
        for sig: [UInt8] in [[], [1, 2, 3]] {
            let token = try compact(
                header: #"{"alg":"\#(spelling)","typ":"at+jwt"}"#,
                payload: Self.claims,
                signature: sig
            )
            expectError(.algorithmNone) { () throws(JOSEError) in
                try keys.verify(token: token, allowedAlgorithms: Self.all)
            }
        }
        expectError(.algorithmNone) { () throws(JOSEError) in try JWSAlgorithm(name: "NoNe") }
        expectError(.unsupportedAlgorithm) { () throws(JOSEError) in try JWSAlgorithm(name: "hs256") }
    }

    @Test("HS256 keyed with an asymmetric public key's PEM or DER bytes (algorithm confusion)")
    func hmacWithPublicKey() throws {
        for key in [TestKeys.signing(.rs256), TestKeys.p256, TestKeys.ed25519] {
            let der = try #require(key.publicKeyDER())
            let pub = try JWSKey.der(der, algorithm: key.algorithm, kid: key.kid)
            let pem = "-----BEGIN PUBLIC KEY-----\n" + Base64.encode(der) + "\n-----END PUBLIC KEY-----\n"
            let keys = try JWSKeySet(verificationKeys: [pub])
            for secret in [der, bytes(pem)] {
                let forger = try JWSKey.hmac(secret: secret, algorithm: .hs256, kid: key.kid)
                let withKid = try compact(
                    header: #"{"alg":"HS256","kid":"\#(key.kid)","typ":"at+jwt"}"#,
                    payload: Self.claims,
                    sign: forger
                )
                let noKid = try compact(header: #"{"alg":"HS256","typ":"at+jwt"}"#, payload: Self.claims, sign: forger)
                expectError(.keyAlgorithmMismatch) { () throws(JOSEError) in
                    try keys.verify(token: withKid, allowedAlgorithms: Self.all)
                }
                expectError(.keyAlgorithmMismatch) { () throws(JOSEError) in
                    try keys.verify(token: noKid, allowedAlgorithms: Self.all)
                }
                // With a proper allow-list the algorithm is refused first.
                expectError(.algorithmNotAllowed) { () throws(JOSEError) in
                    try keys.verify(token: withKid, allowedAlgorithms: [key.algorithm])
                }
            }
            // The primitive refuses too: an asymmetric key never computes an HMAC.
            #expect(!pub.verifySignature([UInt8](repeating: 0, count: 32), input: [1], algorithm: .hs256))
        }
    }

    @Test("a key used with another family's or curve's algorithm")
    func crossFamily() throws {
        let cases: [(JWSKey, JWSAlgorithm)] = [
            (TestKeys.p256, .rs256), (TestKeys.p256, .es384), (TestKeys.p384, .es256), (TestKeys.p521, .es256),
            (TestKeys.ed25519, .es256), (TestKeys.signing(.rs256), .es256), (TestKeys.signing(.rs256), .edDSA),
            (TestKeys.hs256, .rs256), (TestKeys.hs256, .edDSA), (TestKeys.hs256, .hs512), (TestKeys.hs384, .hs512),
        ]
        for (key, alg) in cases {
            #expect(!key.accepts(alg), "\(key.kid) must not accept \(alg)")
            let keys = try JWSKeySet(verificationKeys: [key])
            let token = try compact(
                header: #"{"alg":"\#(alg.name)","kid":"\#(key.kid)"}"#,
                payload: Self.claims,
                signature: [UInt8](repeating: 1, count: 64)
            )
            expectError(.keyAlgorithmMismatch) { () throws(JOSEError) in
                try keys.verify(token: token, allowedAlgorithms: Self.all)
            }
            expectError(.keyAlgorithmMismatch) { () throws(JOSEError) in try key.sign([1, 2, 3], algorithm: alg) }
        }
        // Loading refuses mismatched algorithms too.
        expectError(.keyAlgorithmMismatch) { () throws(JOSEError) in
            try JWSKey.hmac(secret: TestKeys.hmacSecret, algorithm: .rs256, kid: "x")
        }
        expectError(.keyAlgorithmMismatch) { () throws(JOSEError) in
            try JWSKey.der(TestKeys.p256.publicKeyDER()!, algorithm: .es512, kid: "x")
        }
        // One key, one algorithm (RFC 8725 §3.1): an HS512 secret does not verify HS256 either.
        #expect(!TestKeys.hs512.accepts(.hs256))
    }

    @Test("padded, non-canonical, whitespace or wrong-alphabet base64url")
    func base64Tricks() throws {
        let keys = try JWSKeySet(verificationKeys: [TestKeys.hs256])
        let good = try keys.signingKeyless(TestKeys.hs256, Self.claims)
        let parts = good.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map(Array.init)
        #expect(try keys.verify(token: good, allowedAlgorithms: [.hs256]).claims.sub == "user-1234567890")
        func join(_ p: [[UInt8]]) -> [UInt8] { Array(p.joined(separator: [UInt8(ascii: ".")])) }
        var variants: [[UInt8]] = []
        // Padding on the signature (43 chars → "=" appended), on header and payload.
        variants.append(join([parts[0], parts[1], parts[2] + bytes("=")]))
        variants.append(join([parts[0] + bytes("=="), parts[1], parts[2]]))
        variants.append(join([parts[0], parts[1] + bytes("="), parts[2]]))
        // Non-canonical last character: 32 bytes → 43 chars, last char carries 2 unused bits.
        var sig = parts[2]
        let table = Array(Base64URL.alphabet)
        let last = table.firstIndex(of: sig[42])!
        sig[42] = table[last | 1]
        if sig != parts[2] { variants.append(join([parts[0], parts[1], sig])) }
        // Whitespace and standard-alphabet characters.
        variants.append(
            join([parts[0], parts[1], Array(parts[2].prefix(20)) + bytes(" ") + Array(parts[2].dropFirst(20))])
        )
        variants.append(join([parts[0], parts[1] + bytes("\n"), parts[2]]))
        var plus = parts[2]
        plus[5] = UInt8(ascii: "+")
        variants.append(join([parts[0], parts[1], plus]))
        for v in variants {
            #expect(throws: JOSEError.self) { try keys.verify(token: v, allowedAlgorithms: [.hs256]) }
        }
        // A padded signature has the wrong length for HS256: bad signature; padding elsewhere is malformed.
        expectError(.badSignature) { () throws(JOSEError) in
            try keys.verify(token: variants[0], allowedAlgorithms: [.hs256])
        }
        expectError(.malformed("base64url")) { () throws(JOSEError) in
            try keys.verify(token: variants[1], allowedAlgorithms: [.hs256])
        }
        expectError(.malformed("base64url")) { () throws(JOSEError) in
            try keys.verify(token: variants[3], allowedAlgorithms: [.hs256])
        }
        // Decoder alone.
        expectError(.malformed("base64url")) { () throws(JOSEError) in try Base64URL.decode("QQ==") }
        expectError(.malformed("base64url")) { () throws(JOSEError) in try Base64URL.decode("QR") }  // unused bits set
        expectError(.malformed("base64url length")) { () throws(JOSEError) in try Base64URL.decode("QUJDR") }
        #expect(try Base64URL.decode("QQ") == [0x41])
        #expect(try Base64URL.decode("") == [])
        #expect(Base64URL.encodeToString([UInt8]()) == "")
        #expect(Base64URL.encodeToString([0xFB, 0xFF]) == "-_8")
    }

    @Test("ECDSA r or s zero, at or above the order, or of the wrong length")
    func ecdsaScalars() throws {
        let key = TestKeys.p256
        let keys = try JWSKeySet(verificationKeys: [key])
        let input = b64(#"{"alg":"ES256","kid":"p256-1"}"#) + [UInt8(ascii: ".")] + b64(Self.claims)
        let good = try key.sign(input)
        let n = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
        #expect(key.verifySignature(good, input: input, algorithm: .es256))
        let r = Array(good[0..<32]), s = Array(good[32...])
        var nPlus1 = n
        nPlus1[31] += 1
        // r + n (mod 2^256) would be the classic malleability attempt; n itself; zero; all-ones.
        let zero = [UInt8](repeating: 0, count: 32), ones = [UInt8](repeating: 0xFF, count: 32)
        let bad: [(String, [UInt8])] = [
            ("r=0", zero + s), ("s=0", r + zero), ("r=s=0", zero + zero), ("r=n", n + s), ("s=n", r + n),
            ("r=n+1", nPlus1 + s), ("s=2^256-1", r + ones), ("63 bytes", Array(good.prefix(63))),
            ("65 bytes", good + [0]), ("empty", []),
            ("DER", DER.ecdsaSignature(raw: good.withUnsafeBytes { UnsafeRawBufferPointer($0) })),
        ]
        for (name, sig) in bad {
            #expect(!key.verifySignature(sig, input: input, algorithm: .es256), "\(name)")
            let token = input + [UInt8(ascii: ".")] + Base64URL.encode(sig)
            expectError(.badSignature) { () throws(JOSEError) in
                try keys.verify(token: token, allowedAlgorithms: [.es256])
            }
        }
        // The group order OpenSSL reports is the one from SEC 2.
        if case .asymmetric(let k) = key.material { #expect(k.ecOrder == n) }
        // s and n - s: OpenSSL accepts both (ECDSA is malleable); JWS does not forbid it.
    }

    @Test("truncated or empty signatures", arguments: JWSAlgorithm.allCases)
    func truncated(alg: JWSAlgorithm) throws {
        let key = TestKeys.signing(alg)
        let keys = try JWSKeySet(verificationKeys: [key])
        let token = try key.signCompact(payload: bytes(Self.claims))
        let dot = token.lastIndex(of: UInt8(ascii: "."))!
        for cut in [1, 2, 4, token.count - dot - 1] {
            let t = Array(token.dropLast(cut))
            expectError(.badSignature) { () throws(JOSEError) in
                try keys.verify(token: t, allowedAlgorithms: [alg])
            }
        }
    }

    @Test(
        "unknown or empty crit",
        arguments: [#""crit":["exp"],"exp":1"#, #""crit":[]"#, #""crit":["b64"],"b64":false"#]
    )
    func crit(member: String) throws {
        let keys = try JWSKeySet(verificationKeys: [TestKeys.hs256])
        let token = try compact(header: #"{"alg":"HS256",\#(member)}"#, payload: Self.claims, sign: TestKeys.hs256)
        expectError(.unsupportedCritical) { () throws(JOSEError) in
            try keys.verify(token: token, allowedAlgorithms: [.hs256])
        }
    }

    @Test("jku, x5u, jwk and x5c headers are ignored, never followed")
    func keyHeadersIgnored() throws {
        let keys = try JWSKeySet(verificationKeys: [TestKeys.hs256])
        let attacker = try JWSKey.generate(algorithm: .es256, kid: "evil")
        let embedded = String(decoding: attacker.publicJWK()!, as: UTF8.self)
        // Signed by the attacker with the key embedded in the header: no such kid here.
        let forged = try compact(
            header: #"{"alg":"ES256","kid":"evil","jwk":\#(embedded),"jku":"https://evil.example/jwks"}"#,
            payload: Self.claims,
            sign: attacker
        )
        expectError(.unknownKey) { () throws(JOSEError) in try keys.verify(token: forged, allowedAlgorithms: Self.all) }
        // With our kid but the attacker's signature: bad signature.
        let forged2 = try compact(
            header: #"{"alg":"ES256","kid":"hs256-1","jwk":\#(embedded)}"#,
            payload: Self.claims,
            sign: attacker
        )
        expectError(.keyAlgorithmMismatch) { () throws(JOSEError) in
            try keys.verify(token: forged2, allowedAlgorithms: Self.all)
        }
        // A legitimate token carrying these headers still verifies (they are ignored).
        let legit = try compact(
            header: #"{"alg":"HS256","x5u":"https://evil.example/c","x5c":["AAAA"],"jku":"https://x"}"#,
            payload: Self.claims,
            sign: TestKeys.hs256
        )
        #expect(try keys.verify(token: legit, allowedAlgorithms: [.hs256]).claims.sid == "fam-4f9c2a7e1b3d")
    }

    @Test("oversized token, header and claims")
    func sizes() throws {
        let keys = try JWSKeySet(verificationKeys: [TestKeys.hs256])
        let big = String(repeating: "x", count: 5000)
        let bigClaims = try compact(header: #"{"alg":"HS256"}"#, payload: #"{"a":"\#(big)"}"#, sign: TestKeys.hs256)
        expectError(.tooLarge("claims")) { () throws(JOSEError) in
            try keys.verify(token: bigClaims, allowedAlgorithms: [.hs256])
        }
        let bigHeader = try compact(
            header: #"{"alg":"HS256","x":"\#(String(repeating: "y", count: 1100))"}"#,
            payload: Self.claims,
            sign: TestKeys.hs256
        )
        expectError(.tooLarge("header")) { () throws(JOSEError) in
            try keys.verify(token: bigHeader, allowedAlgorithms: [.hs256])
        }
        let huge = [UInt8](repeating: UInt8(ascii: "A"), count: 8193)
        expectError(.tooLarge("token")) { () throws(JOSEError) in
            try keys.verify(token: huge, allowedAlgorithms: [.hs256])
        }
        // Limits are configurable.
        let roomy = JWSLimits(maxTokenBytes: 16384, maxHeaderBytes: 2048, maxPayloadBytes: 8192)
        #expect(try keys.verify(token: bigClaims, allowedAlgorithms: [.hs256], limits: roomy).claims.string("a") == big)
        let tight = JWSLimits(maxTokenBytes: 100)
        let normal = try keys.signingKeyless(TestKeys.hs256, Self.claims)
        expectError(.tooLarge("token")) { () throws(JOSEError) in
            try keys.verify(token: normal, allowedAlgorithms: [.hs256], limits: tight)
        }
    }

    @Test("duplicate member names in header and claims")
    func duplicates() throws {
        let keys = try JWSKeySet(verificationKeys: [TestKeys.hs256])
        let headers = [
            #"{"alg":"HS256","alg":"none"}"#, #"{"alg":"HS256","kid":"a","kid":"b"}"#,
            #"{"alg":"HS256","\u0061lg":"HS256"}"#,
        ]
        for h in headers {
            let token = try compact(header: h, payload: Self.claims, sign: TestKeys.hs256, algorithm: .hs256)
            expectError(.malformed("duplicate member name")) { () throws(JOSEError) in
                try keys.verify(token: token, allowedAlgorithms: [.hs256])
            }
        }
        let payloads = [
            #"{"sub":"a","sub":"b"}"#, #"{"sub":"a","s\u0075b":"b"}"#, #"{"x":{"a":1,"a":2}}"#, #"{"exp":1,"exp":2}"#,
        ]
        for p in payloads {
            let token = try compact(header: #"{"alg":"HS256"}"#, payload: p, sign: TestKeys.hs256)
            expectError(.malformed("duplicate member name")) { () throws(JOSEError) in
                try keys.verify(token: token, allowedAlgorithms: [.hs256])
            }
        }
    }

    @Test("exp, nbf, iat as strings are refused", arguments: ["exp", "nbf", "iat"])
    func timeAsString(name: String) throws {
        let keys = try JWSKeySet(verificationKeys: [TestKeys.hs256])
        let token = try compact(
            header: #"{"alg":"HS256"}"#,
            payload: #"{"sub":"a","\#(name)":"1700000000"}"#,
            sign: TestKeys.hs256
        )
        expectError(.invalidClaim(name)) { () throws(JOSEError) in
            try keys.verify(token: token, allowedAlgorithms: [.hs256])
        }
    }

    @Test("wrong segment counts, unknown kid, ambiguous keys")
    func structure() throws {
        let keys = try JWSKeySet(verificationKeys: [TestKeys.hs256])
        let good = try TestKeys.hs256.signCompact(payload: bytes(Self.claims))
        for bad in [
            Array(good.prefix(while: { $0 != UInt8(ascii: ".") })), good + bytes(".x"), bytes(".."), [], bytes("a.b"),
        ] {
            expectError(code: "malformed") { () throws(JOSEError) in
                try keys.verify(token: bad, allowedAlgorithms: [.hs256])
            }
        }
        let unknown = try compact(header: #"{"alg":"HS256","kid":"nope"}"#, payload: Self.claims, sign: TestKeys.hs256)
        expectError(.unknownKey) { () throws(JOSEError) in try keys.verify(token: unknown, allowedAlgorithms: [.hs256])
        }
        let other = try JWSKey.hmac(secret: [UInt8](repeating: 7, count: 32), kid: "hs256-2")
        let two = try JWSKeySet(verificationKeys: [TestKeys.hs256, other])
        let noKid = try compact(header: #"{"alg":"HS256"}"#, payload: Self.claims, sign: TestKeys.hs256)
        expectError(.unknownKey) { () throws(JOSEError) in try two.verify(token: noKid, allowedAlgorithms: [.hs256]) }
        // Header that is not an object, alg missing or not a string.
        for h in [#"["alg"]"#, #"{"typ":"JWT"}"#, #"{"alg":256}"#, #"{"alg":"HS256"} x"#] {
            let t = try compact(header: h, payload: Self.claims, signature: [1])
            expectError(code: "malformed") { () throws(JOSEError) in
                try keys.verify(token: t, allowedAlgorithms: [.hs256])
            }
        }
        // Duplicate kids with different keys are refused when the set is built.
        expectError(.invalidKey(#"two different keys have kid "hs256-1": ambiguous"#)) { () throws(JOSEError) in
            try JWSKeySet(verificationKeys: [
                TestKeys.hs256, try JWSKey.hmac(secret: [UInt8](repeating: 9, count: 32), kid: "hs256-1"),
            ])
        }
    }
}

extension JWSKeySet {
    /// A token signed by `key` with its own kid (helper for tests).
    func signingKeyless(_ key: JWSKey, _ claims: String) throws -> [UInt8] {
        try key.signCompact(payload: bytes(claims))
    }
}
