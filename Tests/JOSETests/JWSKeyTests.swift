import Foundation
import Testing

@testable import JOSE

@Suite("Key loading, JWK/JWKS, key generation")
struct JWSKeyTests {
    static func pem(_ name: String) throws -> [UInt8] { try Resources.data("keys/" + name) }

    @Test("PEM formats: PKCS#1, SPKI, SEC1, PKCS#8")
    func pemFormats() throws {
        let rsaPriv = try JWSKey.pem(Self.pem("rsa_pkcs1.pem"), algorithm: .ps256, kid: "r")
        let rsaPub1 = try JWSKey.pem(Self.pem("rsa_pub_pkcs1.pem"), algorithm: .ps256, kid: "r")
        let rsaSPKI = try JWSKey.pem(Self.pem("rsa_spki.pem"), kid: "r")
        #expect(rsaPriv.canSign && !rsaPub1.canSign && !rsaSPKI.canSign)
        #expect(rsaPub1.publicKeyDER() == rsaPriv.publicKeyDER())
        #expect(rsaSPKI.publicKeyDER() == rsaPriv.publicKeyDER())
        #expect(rsaSPKI.algorithm == .rs256)
        #expect(rsaPriv.rsaBits == 2048)
        let sig = try rsaPriv.sign([1, 2, 3])
        #expect(rsaPub1.verifySignature(sig, input: [1, 2, 3], algorithm: .ps256))
        #expect(!rsaPub1.verifySignature(sig, input: [1, 2, 3], algorithm: .rs256))

        let ec = try JWSKey.pem(Self.pem("ec_sec1.pem"))
        let ecPub = try JWSKey.pem(Self.pem("ec_spki.pem"))
        #expect(ec.algorithm == .es256 && ec.canSign && !ecPub.canSign)
        #expect(ec.kid == ecPub.kid)  // both default to the RFC 7638 thumbprint
        #expect(ecPub.verifySignature(try ec.sign([9]), input: [9], algorithm: .es256))

        let ed = try JWSKey.pem(Self.pem("ed.pem"), kid: "ed")
        #expect(ed.algorithm == .edDSA && ed.canSign)

        // PKCS#8 export re-imports to the same key.
        for key in [rsaPriv, ec, ed] {
            let p8 = try key.privateKeyPEM()
            #expect(String(decoding: p8, as: UTF8.self).hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
            let again = try JWSKey.pem(p8, algorithm: key.algorithm, kid: key.kid)
            #expect(again.publicKeyDER() == key.publicKeyDER())
            #expect(again.canSign)
        }
        expectError(.invalidKey("not a private key")) { () throws(JOSEError) in try ecPub.privateKeyPEM() }
        expectError(.invalidKey("HMAC keys have no PEM form")) { () throws(JOSEError) in
            try TestKeys.hs256.privateKeyPEM()
        }
    }

    @Test("refused keys: RSA below 2048 bits, unsupported curve, encrypted, garbage")
    func refused() throws {
        expectError(.invalidKey("RSA keys must have at least 2048 bits")) { () throws(JOSEError) in
            try JWSKey.pem(try! Self.pem("rsa1024.pem"), kid: "x")
        }
        expectError(.invalidKey("unsupported EC curve")) { () throws(JOSEError) in
            try JWSKey.pem(try! Self.pem("k1.pem"), kid: "x")
        }
        // Encrypted PKCS#8: refused, and no passphrase prompt is ever attempted.
        expectError(code: "invalid_key") { () throws(JOSEError) in try JWSKey.pem(try! Self.pem("ec_enc.pem"), kid: "x")
        }
        expectError(code: "invalid_key") { () throws(JOSEError) in try JWSKey.pem(bytes("not a key"), kid: "x") }
        expectError(code: "invalid_key") { () throws(JOSEError) in
            try JWSKey.der([0x30, 0x03, 0x02, 0x01, 0x00], kid: "x")
        }
        expectError(code: "invalid_key") { () throws(JOSEError) in try JWSKey.der([], kid: "x") }
    }

    @Test(
        "HMAC secrets shorter than the hash output are refused",
        arguments: [
            (JWSAlgorithm.hs256, 32), (.hs384, 48), (.hs512, 64),
        ]
    )
    func hmacLength(alg: JWSAlgorithm, minimum: Int) throws {
        expectError(.invalidKey("HMAC secret shorter than the hash output")) { () throws(JOSEError) in
            try JWSKey.hmac(secret: [UInt8](repeating: 1, count: minimum - 1), algorithm: alg, kid: "k")
        }
        let k = try JWSKey.hmac(secret: [UInt8](repeating: 1, count: minimum), algorithm: alg, kid: "k")
        #expect(k.isSymmetric && k.canSign && k.publicJWK() == nil && k.publicKeyDER() == nil && k.thumbprint == nil)
        #expect(JWSKey.generateHMACSecret(for: alg).count == minimum)
        expectError(.invalidKey("empty kid")) { () throws(JOSEError) in
            try JWSKey.hmac(secret: [UInt8](repeating: 1, count: 64), algorithm: alg, kid: "")
        }
    }

    @Test("JWK import: public, private, oct; checks on use, alg, lengths")
    func jwkImport() throws {
        let p256 = TestKeys.p256
        let pubJSON = try #require(p256.publicJWK())
        let pub = try JWSKey.jwk(pubJSON)
        #expect(pub.kid == "p256-1" && pub.algorithm == .es256 && !pub.canSign)
        #expect(pub.publicKeyDER() == p256.publicKeyDER())
        let oct = try JWSKey.jwk(
            bytes(#"{"kty":"oct","kid":"h","alg":"HS384","k":"\#(b64([UInt8](repeating: 3, count: 48)))"}"#)
        )
        #expect(oct.algorithm == .hs384 && oct.isSymmetric)
        let bad: [(String, String)] = [
            (#"{"kty":"oct","k":"\#(b64([UInt8](repeating: 3, count: 48)))"}"#, "HMAC JWK needs a kid"),
            (#"{"kty":"oct","kid":"h","k":"AAAA"}"#, "HMAC secret shorter than the hash output"),
            (#"{"kty":"EC","crv":"P-256","use":"enc","x":"AA","y":"AA"}"#, "JWK use is not sig"),
            (#"{"kty":"EC","crv":"P-256","alg":"none","x":"AA","y":"AA"}"#, "JWK alg not supported"),
            (#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}"#, "EC coordinate length"),
            (#"{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"}"#, "unsupported crv"),
            (#"{"kty":"OKP","crv":"X25519","x":"AA"}"#, "unsupported OKP curve"),
            (#"{"kty":"RSA","n":"AQAB"}"#, "JWK lacks e"),
            (#"{"kty":"RSA","n":"AQAB","e":"AQAB","oth":[]}"#, "multi-prime RSA keys are not supported"),
            (#"{"kty":"XYZ"}"#, "unsupported kty"),
            (#"{"kty":1}"#, "JWK member kty must be a string"),
        ]
        for (json, reason) in bad {
            expectError(.invalidKey(reason)) { () throws(JOSEError) in try JWSKey.jwk(bytes(json)) }
        }
        // A point not on the curve is refused.
        var y = try Base64URL.decode(
            String(decoding: pubJSON, as: UTF8.self).split(separator: "\"").drop(while: { $0 != "y" }).dropFirst(2)
                .first.map(String.init)!
        )
        y[31] ^= 1
        let x = String(decoding: pubJSON, as: UTF8.self).split(separator: "\"").drop(while: { $0 != "x" }).dropFirst(2)
            .first!
        expectError(code: "invalid_key") { () throws(JOSEError) in
            try JWSKey.jwk(bytes(#"{"kty":"EC","crv":"P-256","x":"\#(x)","y":"\#(b64(y))"}"#))
        }
        // alg conflicts with the configured one.
        expectError(.invalidKey("JWK alg differs from the configured one")) { () throws(JOSEError) in
            try JWSKey.jwk(pubJSON, algorithm: .es384)
        }
    }

    @Test("RSA private JWK with inconsistent parts is refused")
    func rsaPairwise() throws {
        var json = RFCVectorTests.a2Key
        // Replace d with another value of the same length.
        json = json.replacingOccurrences(of: "\"d\":\"Eq5x", with: "\"d\":\"Fq5x")
        expectError(code: "invalid_key") { () throws(JOSEError) in try JWSKey.jwk(bytes(json)) }
    }

    @Test("JWKS output: public members only, never d or HMAC secrets")
    func jwksOutput() throws {
        let keys = try JWSKeySet(
            verificationKeys: [TestKeys.hs256, TestKeys.p256, TestKeys.signing(.ps256), TestKeys.ed25519],
            signingKey: TestKeys.p384
        )
        let json = keys.jwks()
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        let list = try #require(obj["keys"] as? [[String: Any]])
        #expect(list.count == 4)
        for k in list {
            #expect(k["use"] as? String == "sig")
            #expect(k["d"] == nil && k["p"] == nil && k["q"] == nil && k["k"] == nil && k["dp"] == nil)
            #expect(k["kid"] is String && k["alg"] is String && k["kty"] is String)
        }
        let byKid = Dictionary(uniqueKeysWithValues: list.map { ($0["kid"] as! String, $0) })
        #expect(byKid["hs256-1"] == nil)
        #expect(byKid["p256-1"]?["crv"] as? String == "P-256")
        #expect(byKid["p384-1"]?["alg"] as? String == "ES384")
        #expect(byKid["rsa-PS256"]?["e"] as? String == "AQAB")
        #expect(byKid["ed-1"]?["crv"] as? String == "Ed25519")
        // The JWKS re-imports and verifies what the signing key signs.
        let imported = try JWSKey.jwks(json)
        #expect(imported.count == 4 && imported.allSatisfy { !$0.canSign })
        let token = try keys.sign(payload: bytes(accessClaims()))
        #expect(
            try JWSKeySet(verificationKeys: imported).verify(token: token, allowedAlgorithms: [.es384]).keyID
                == "p384-1"
        )
        expectError(.invalidKey("JWK set without a keys array")) { () throws(JOSEError) in try JWSKey.jwks(bytes("{}"))
        }
    }

    @Test(
        "key generation for every asymmetric algorithm (keygen)",
        arguments: [
            (JWSAlgorithm.rs256, 2048), (.ps384, 3072), (.es256, 0), (.es384, 0), (.es512, 0), (.edDSA, 0),
        ]
    )
    func generate(alg: JWSAlgorithm, bits: Int) throws {
        let key = try JWSKey.generate(algorithm: alg, kid: "K", rsaBits: bits == 0 ? 2048 : bits)
        #expect(key.kid == "K" && key.algorithm == alg && key.canSign)
        if bits > 0 { #expect(key.rsaBits == bits) }
        let pem = try key.privateKeyPEM()
        let jwk = try #require(key.publicJWK())
        let priv = try JWSKey.pem(pem, algorithm: alg, kid: "K")
        let pub = try JWSKey.jwk(jwk)
        #expect(pub.kid == "K" && pub.algorithm == alg)
        #expect(pub.verifySignature(try priv.sign([1, 2]), input: [1, 2], algorithm: alg))
        #expect(key.thumbprint != nil)
        expectError(.invalidKey("RSA size must be 2048, 3072 or 4096")) { () throws(JOSEError) in
            try JWSKey.generate(algorithm: .rs256, rsaBits: 1024)
        }
        expectError(.invalidKey("use generateHMACSecret for HMAC")) { () throws(JOSEError) in
            try JWSKey.generate(algorithm: .hs256)
        }
    }
}
