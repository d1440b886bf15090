import Foundation
import Testing

@testable import JOSE

/// Item 11: one key, one algorithm (RFC 8725 §3.1). A key configured for X refuses a token
/// correctly signed with the same key material under any other algorithm of its family.
@Suite("One key, one algorithm")
struct AlgorithmBindingTests {
    static let claims = accessClaims()
    static let rsaFamily: [JWSAlgorithm] = [.rs256, .rs384, .rs512, .ps256, .ps384, .ps512]
    static let hmacFamily: [JWSAlgorithm] = [.hs256, .hs384, .hs512]

    /// The same RSA private key labelled with `alg`.
    static func rsa(_ alg: JWSAlgorithm, kid: String = "k") throws -> JWSKey {
        try JWSKey.pem(TestKeys.rsa.privateKeyPEM(), algorithm: alg, kid: kid)
    }

    /// A token whose signature is correct for `alg` and the key's material.
    static func token(_ alg: JWSAlgorithm, signedBy key: JWSKey, kid: String = "k") throws -> [UInt8] {
        try compact(header: #"{"alg":"\#(alg.name)","kid":"\#(kid)"}"#, payload: claims, sign: key)
    }

    @Test("an RSA key for X verifies only X, not the other RS*/PS* made with the same key", arguments: rsaFamily)
    func rsaFamilyRefused(configured: JWSAlgorithm) throws {
        let key = try Self.rsa(configured)
        let set = try JWSKeySet(verificationKeys: [key])
        #expect(try set.verify(token: Self.token(configured, signedBy: key), allowedAlgorithms: .all).keyID == "k")
        for other in Self.rsaFamily where other != configured {
            let signer = try Self.rsa(other)
            let token = try Self.token(other, signedBy: signer)
            // The signature is right for `other` with this material: only the binding refuses it.
            #expect(
                try JWSKeySet(verificationKeys: [signer]).verify(token: token, allowedAlgorithms: .all).keyID == "k")
            #expect(!key.accepts(other))
            expectError(.keyAlgorithmMismatch) { () throws(JOSEError) in
                try set.verify(token: token, allowedAlgorithms: .all)
            }
            let parts = token.split(separator: UInt8(ascii: "."))
            let signature = try Base64URL.decode(String(decoding: parts[2], as: UTF8.self))
            let input = Array(token[..<token.lastIndex(of: UInt8(ascii: "."))!])
            #expect(!key.verifySignature(signature, input: input, algorithm: other), "\(configured) key took \(other)")
            expectError(.keyAlgorithmMismatch) { () throws(JOSEError) in try key.sign([1], algorithm: other) }
        }
    }

    @Test("an HMAC secret for X verifies only X, whatever its length", arguments: hmacFamily)
    func hmacFamilyRefused(configured: JWSAlgorithm) throws {
        let secret = [UInt8](repeating: 0x5A, count: 64)  // long enough for every HS*
        let key = try JWSKey.hmac(secret: secret, algorithm: configured, kid: "k")
        let set = try JWSKeySet(verificationKeys: [key])
        #expect(try set.verify(token: Self.token(configured, signedBy: key), allowedAlgorithms: .all).keyID == "k")
        for other in Self.hmacFamily where other != configured {
            let signer = try JWSKey.hmac(secret: secret, algorithm: other, kid: "k")
            let token = try Self.token(other, signedBy: signer)
            #expect(
                try JWSKeySet(verificationKeys: [signer]).verify(token: token, allowedAlgorithms: .all).keyID == "k")
            expectError(.keyAlgorithmMismatch) { () throws(JOSEError) in
                try set.verify(token: token, allowedAlgorithms: .all)
            }
            expectError(.keyAlgorithmMismatch) { () throws(JOSEError) in try key.sign([1], algorithm: other) }
        }
    }

    @Test("every key accepts exactly its own algorithm")
    func exactlyOne() throws {
        var keys = [TestKeys.p256, TestKeys.p384, TestKeys.p521, TestKeys.ed25519]
        keys += try Self.rsaFamily.map { try Self.rsa($0) }
        keys += try Self.hmacFamily.map { try JWSKey.hmac(secret: TestKeys.hmacSecret, algorithm: $0, kid: "h") }
        for key in keys {
            #expect(JWSAlgorithm.allCases.filter { key.accepts($0) } == [key.algorithm], "\(key.kid)")
        }
    }

    @Test("keys without alg get exactly one: RS256, ES256/384/512 by curve, EdDSA, HS256")
    func defaults() throws {
        let rsaPEM = try JWSKey.pem(TestKeys.rsa.privateKeyPEM(), kid: "r")
        #expect(rsaPEM.algorithm == .rs256)
        let rsaJWK = try JWSKey.jwk(
            bytes(
                String(decoding: try #require(TestKeys.rsa.publicJWK()), as: UTF8.self)
                    .replacingOccurrences(of: #""alg":"RS256","#, with: "")))
        #expect(rsaJWK.algorithm == .rs256)
        for (key, alg) in [(TestKeys.p256, JWSAlgorithm.es256), (TestKeys.p384, .es384), (TestKeys.p521, .es512)] {
            let json = String(decoding: try #require(key.publicJWK()), as: UTF8.self)
                .replacingOccurrences(of: #""alg":"\#(alg.name)","#, with: "")
            #expect(!json.contains("\"alg\""))
            #expect(try JWSKey.jwk(bytes(json)).algorithm == alg)
        }
        let ed = String(decoding: try #require(TestKeys.ed25519.publicJWK()), as: UTF8.self)
            .replacingOccurrences(of: #""alg":"EdDSA","#, with: "")
        #expect(try JWSKey.jwk(bytes(ed)).algorithm == .edDSA)
        let oct = try JWSKey.jwk(bytes(#"{"kty":"oct","kid":"h","k":"\#(b64(TestKeys.hmacSecret))"}"#))
        #expect(oct.algorithm == .hs256)
        for key in [rsaPEM, rsaJWK, oct] {
            #expect(JWSAlgorithm.allCases.filter { key.accepts($0) } == [key.algorithm])
        }
    }

    @Test("a token is minted with the signing key's own algorithm")
    func signingAlgorithm() throws {
        for alg in Self.rsaFamily {
            let key = try Self.rsa(alg)
            let token = try JWSKeySet(verificationKeys: [], signingKey: key).sign(payload: bytes(Self.claims))
            let header = try Base64URL.decode(
                String(decoding: token.split(separator: UInt8(ascii: "."))[0], as: UTF8.self))
            #expect(String(decoding: header, as: UTF8.self).contains(#""alg":"\#(alg.name)""#))
        }
    }

    @Test("one key's material under two algorithms in one set is refused")
    func oneMaterialTwoAlgorithms() throws {
        expectError(
            .invalidKey(
                #"keys "a" and "b" are one key for RS256 and PS512: a key is used with one algorithm only"#)
        ) { () throws(JOSEError) in
            try JWSKeySet(verificationKeys: [try! Self.rsa(.rs256, kid: "a"), try! Self.rsa(.ps512, kid: "b")])
        }
        let secret = [UInt8](repeating: 0x33, count: 64)
        expectError(
            .invalidKey(
                #"keys "h1" and "h2" are one key for HS256 and HS512: a key is used with one algorithm only"#)
        ) { () throws(JOSEError) in
            try JWSKeySet(verificationKeys: [
                try JWSKey.hmac(secret: secret, algorithm: .hs256, kid: "h1"),
                try JWSKey.hmac(secret: secret, algorithm: .hs512, kid: "h2"),
            ])
        }
        // Different secrets, or one key under two kids with one algorithm, are fine.
        _ = try JWSKeySet(verificationKeys: [
            try JWSKey.hmac(secret: secret, algorithm: .hs256, kid: "h1"),
            try JWSKey.hmac(secret: [UInt8](repeating: 0x34, count: 64), algorithm: .hs512, kid: "h2"),
            try Self.rsa(.ps256, kid: "a"), try Self.rsa(.ps256, kid: "b"),
        ])
    }

    @Test("a token without kid takes the one key of its algorithm")
    func kidlessSelection() throws {
        let ps = try JWSKey.generate(algorithm: .ps256, kid: "ps")
        let set = try JWSKeySet(verificationKeys: [try Self.rsa(.rs256, kid: "rs"), ps])
        let token = try compact(header: #"{"alg":"PS256"}"#, payload: Self.claims, sign: ps)
        #expect(try set.verify(token: token, allowedAlgorithms: .all).keyID == "ps")
        let rs384 = try compact(header: #"{"alg":"RS384"}"#, payload: Self.claims, sign: try Self.rsa(.rs384))
        expectError(.keyAlgorithmMismatch) { () throws(JOSEError) in
            try set.verify(token: rs384, allowedAlgorithms: .all)
        }
    }
}
