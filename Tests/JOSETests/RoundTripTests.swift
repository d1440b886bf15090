import Testing

@testable import JOSE

@Suite("Sign → verify round trips")
struct RoundTripTests {
    @Test("every algorithm", arguments: JWSAlgorithm.allCases)
    func roundTrip(alg: JWSAlgorithm) throws {
        let key = TestKeys.signing(alg)
        #expect(key.algorithm == alg)
        let keys = try JWSKeySet(verificationKeys: [], signingKey: key)
        let payload = bytes(accessClaims())
        let token = try keys.sign(payload: payload)
        let v = try keys.verify(token: token, allowedAlgorithms: [alg])
        #expect(v.header == JWSHeader(algorithm: alg, kid: key.kid, typ: "at+jwt"))
        #expect(v.payload == payload)
        #expect(v.claims.sub == "user-1234567890")
        #expect(v.keyID == key.kid)
        // Exact JWS signature lengths (RFC 7518 §3).
        let sig = try Base64URL.decode(Array(token.split(separator: UInt8(ascii: ".")).last!))
        let expected: Int
        switch alg.family {
        case .hmac: expected = alg.hashLength
        case .rsa: expected = 256
        case .ec: expected = 2 * alg.curve!.coordinateLength
        case .okp: expected = 64
        }
        #expect(sig.count == expected)
        // A public-only copy verifies too (asymmetric).
        if let der = key.publicKeyDER() {
            let pub = try JWSKey.der(der, algorithm: alg, kid: key.kid)
            let v2 = try JWSKeySet(verificationKeys: [pub]).verify(token: token, allowedAlgorithms: [alg])
            #expect(v2.claims == v.claims)
            #expect(!pub.canSign)
        }
        // Any single flipped byte of the signature segment breaks it.
        var bad = token
        let last = bad.count - 3
        bad[last] = bad[last] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: JOSEError.self) { try keys.verify(token: bad, allowedAlgorithms: [alg]) }
    }

    @Test("sign through a key set without a signing key fails")
    func noSigningKey() throws {
        let keys = try JWSKeySet(verificationKeys: [TestKeys.hs256])
        expectError(.invalidKey("no signing key")) { () throws(JOSEError) in try keys.sign(payload: bytes("{}")) }
    }

    @Test("key rotation: old and new keys verify, lookup by kid")
    func rotation() throws {
        let old = try JWSKey.generate(algorithm: .es256, kid: "2025-old")
        let new = try JWSKey.generate(algorithm: .es256, kid: "2026-new")
        let before = try JWSKeySet(verificationKeys: [old], signingKey: old)
        let after = try JWSKeySet(verificationKeys: [old, new], signingKey: new)
        let t1 = try before.sign(payload: bytes(accessClaims()))
        let t2 = try after.sign(payload: bytes(accessClaims()))
        #expect(try after.verify(token: t1, allowedAlgorithms: [.es256]).keyID == "2025-old")
        #expect(try after.verify(token: t2, allowedAlgorithms: [.es256]).keyID == "2026-new")
        expectError(.unknownKey) { () throws(JOSEError) in try before.verify(token: t2, allowedAlgorithms: [.es256]) }
    }
}
