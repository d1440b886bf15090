import Foundation
import Testing

@testable import JOSE

/// Item 12: JWK `key_ops` (RFC 7517 §4.3) and ambiguous JWK Sets.
@Suite("JWK key_ops and ambiguous sets")
struct KeyOpsTests {
    /// The public JWK of `key` with extra members spliced in after `{`.
    static func jwk(_ key: JWSKey, _ extra: String, dropKid: Bool = false) throws -> String {
        var s = String(decoding: try #require(key.publicJWK()), as: UTF8.self)
        if dropKid { s = s.replacingOccurrences(of: #""kid":"\#(key.kid)","#, with: "") }
        return extra.isEmpty ? s : "{" + extra + "," + s.dropFirst()
    }

    static func privateJWK(_ extra: String) -> String {
        "{" + extra + "," + RFCVectorTests.a2Key.drop(while: { $0 != "{" }).dropFirst()
    }

    @Test("key_ops without verify, with non-signature, unknown or repeated values is refused, naming the key")
    func refused() throws {
        let k = TestKeys.p256
        let cases: [(String, String)] = [
            (
                #""key_ops":["encrypt"]"#,
                #"JWK kid "p256-1": key_ops allows encrypt; a signature key allows only sign and verify"#
            ),
            (#""key_ops":["sign"]"#, #"JWK kid "p256-1": key_ops does not allow verify"#),
            (#""key_ops":[]"#, #"JWK kid "p256-1": key_ops does not allow verify"#),
            (#""key_ops":["verify","verify"]"#, #"JWK kid "p256-1": key_ops lists "verify" twice"#),
            (
                #""key_ops":["verify","Verify"]"#,
                #"JWK kid "p256-1": key_ops value "Verify" is not registered (RFC 7517 §4.3)"#
            ),
            (
                #""key_ops":["verify","wrapKey"]"#,
                #"JWK kid "p256-1": key_ops allows wrapKey; a signature key allows only sign and verify"#
            ),
            (#""key_ops":"verify""#, "JWK member key_ops must be an array of strings"),
            (#""key_ops":["verify",1]"#, "JWK member key_ops must be an array of strings"),
        ]
        for (extra, reason) in cases {
            let json = try Self.jwk(k, extra)
            expectError(.invalidKey(reason)) { () throws(JOSEError) in try JWSKey.jwk(bytes(json)) }
        }
        // use "sig" with key_ops naming an encryption operation is inconsistent (RFC 7517 §4.3).
        let inconsistent = try Self.jwk(k, #""key_ops":["verify","decrypt"]"#)
        #expect(inconsistent.contains(#""use":"sig""#))
        expectError(code: "invalid_key") { () throws(JOSEError) in try JWSKey.jwk(bytes(inconsistent)) }
        // Without a kid the error says so; a private key must allow sign.
        let kidless = try Self.jwk(k, #""key_ops":["encrypt"]"#, dropKid: true)
        expectError(
            .invalidKey("JWK without kid: key_ops allows encrypt; a signature key allows only sign and verify")
        ) { () throws(JOSEError) in try JWSKey.jwk(bytes(kidless)) }
        expectError(.invalidKey("JWK without kid: key_ops of a private key does not allow sign")) {
            () throws(JOSEError) in try JWSKey.jwk(bytes(Self.privateJWK(#""key_ops":["verify"]"#)))
        }
    }

    @Test("key_ops that allow verify (and sign for a private key) load")
    func accepted() throws {
        for extra in [#""key_ops":["verify"]"#, #""key_ops":["verify","sign"]"#, ""] {
            let key = try JWSKey.jwk(bytes(try Self.jwk(TestKeys.p256, extra)))
            #expect(key.algorithm == .es256 && !key.canSign)
        }
        let priv = try JWSKey.jwk(bytes(Self.privateJWK(#""key_ops":["sign","verify"]"#)))
        #expect(priv.canSign)
    }

    @Test("a JWK Set entry with bad key_ops is refused with its index and kid")
    func setEntry() throws {
        let set =
            "{\"keys\":[\(try Self.jwk(TestKeys.p384, "")),\(try Self.jwk(TestKeys.p256, #""key_ops":["encrypt"]"#))]}"
        expectError(
            .invalidKey(
                #"JWK set entry 1: JWK kid "p256-1": key_ops allows encrypt; a signature key allows only sign and verify"#
            )
        ) { () throws(JOSEError) in try JWSKey.jwks(bytes(set)) }
    }

    @Test("two different keys under one kid are ambiguous, also an oct and an asymmetric key")
    func duplicateKid() throws {
        let a = try Self.jwk(TestKeys.p256, "")
        let b = try Self.jwk(TestKeys.p384, "").replacingOccurrences(of: "p384-1", with: "p256-1")
        expectError(.invalidKey(#"JWK set entry 1: two different keys have kid "p256-1": ambiguous"#)) {
            () throws(JOSEError) in try JWSKey.jwks(bytes("{\"keys\":[\(a),\(b)]}"))
        }
        let oct = #"{"kty":"oct","kid":"p256-1","alg":"HS256","k":"\#(b64(TestKeys.hmacSecret))"}"#
        expectError(.invalidKey(#"JWK set entry 1: two different keys have kid "p256-1": ambiguous"#)) {
            () throws(JOSEError) in try JWSKey.jwks(bytes("{\"keys\":[\(a),\(oct)]}"))
        }
        // The same key twice under one kid is not ambiguous.
        #expect(try JWSKey.jwks(bytes("{\"keys\":[\(a),\(a)]}")).count == 2)
        // Across sources the key set refuses it too.
        expectError(.invalidKey(#"two different keys have kid "p256-1": ambiguous"#)) { () throws(JOSEError) in
            try JWSKeySet(verificationKeys: [
                TestKeys.p256, try JWSKey.hmac(secret: TestKeys.hmacSecret, algorithm: .hs256, kid: "p256-1"),
            ])
        }
    }

    @Test("at most one kid-less key per algorithm in a JWK Set")
    func kidless() throws {
        let p256 = try Self.jwk(TestKeys.p256, "", dropKid: true)
        let other = try Self.jwk(try JWSKey.generate(algorithm: .es256, kid: "x"), "", dropKid: true)
        let p384 = try Self.jwk(TestKeys.p384, "", dropKid: true)
        expectError(.invalidKey("JWK set entry 1: a second key without kid for ES256: ambiguous")) {
            () throws(JOSEError) in try JWSKey.jwks(bytes("{\"keys\":[\(p256),\(other)]}"))
        }
        let keys = try JWSKey.jwks(bytes("{\"keys\":[\(p256),\(p384)]}"))
        #expect(keys.map(\.kid) == [TestKeys.p256.thumbprint!, TestKeys.p384.thumbprint!])
        #expect(keys.map(\.algorithm) == [.es256, .es384])
    }

    @Test("a configured algorithm applies to every JWK Set entry")
    func setAlgorithm() throws {
        let noAlg = try Self.jwk(TestKeys.rsa, "").replacingOccurrences(of: #""alg":"RS256","#, with: "")
        #expect(try JWSKey.jwks(bytes("{\"keys\":[\(noAlg)]}"), algorithm: .ps384).map(\.algorithm) == [.ps384])
        let withAlg = try Self.jwk(TestKeys.rsa, "")
        expectError(.invalidKey("JWK set entry 0: JWK alg differs from the configured one")) {
            () throws(JOSEError) in try JWSKey.jwks(bytes("{\"keys\":[\(withAlg)]}"), algorithm: .ps384)
        }
    }
}
