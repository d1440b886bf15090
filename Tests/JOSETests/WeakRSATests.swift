import Foundation
import Testing

@testable import JOSE

/// Item 13: RSA keys that are big enough but still weak: the ROCA fingerprint
/// (CVE-2017-15361) and implausible public exponents, refused at load with the reason.
@Suite("Weak RSA keys")
struct WeakRSATests {
    static let rocaReason = "RSA modulus has the ROCA fingerprint (CVE-2017-15361): the key is factorable"

    /// n and e of a public JWK.
    static func members(_ key: JWSKey) throws -> (n: String, e: String) {
        let jwk = try #require(key.publicJWK())
        let json = try #require(try JSONSerialization.jsonObject(with: Data(jwk)) as? [String: Any])
        return (try #require(json["n"] as? String), try #require(json["e"] as? String))
    }

    @Test("a ROCA-structured 2048-bit modulus is refused from PEM, DER and JWK")
    func roca() throws {
        // Made by Tests/blackbox/roca.py (primes k·M + 65537^a mod M; see Vectors/keys/README.md).
        let pem = try Resources.data("keys/roca2048_spki.pem")
        expectError(.invalidKey(Self.rocaReason)) { () throws(JOSEError) in
            try JWSKey.pem(pem, algorithm: .rs256, kid: "roca")
        }
        let b64 = String(decoding: pem, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("-----") }
            .joined()
        let der = try #require(Data(base64Encoded: b64))
        expectError(.invalidKey(Self.rocaReason)) { () throws(JOSEError) in try JWSKey.der([UInt8](der), kid: "roca") }
        // The same modulus as a JWK: n is the last 257 bytes of the SPKI before the exponent.
        let spki = [UInt8](der)
        let n = Array(spki[(spki.count - 5 - 256)..<(spki.count - 5)])
        #expect(RSAPublicKeyCheck.hasROCAFingerprint(n))
        let jwk = #"{"kty":"RSA","kid":"roca","n":"\#(Base64URL.encodeToString(n))","e":"AQAB"}"#
        expectError(.invalidKey(Self.rocaReason)) { () throws(JOSEError) in try JWSKey.jwk(bytes(jwk)) }
    }

    @Test("the subgroups match the masks published with the ROCA detector")
    func publishedPrints() {
        // roca/detect.py `prints` for the primes below 64 (bit r set iff r ∈ ⟨65537⟩ mod p).
        let published: [UInt64] = [
            6, 30, 126, 1026, 5658, 107286, 199410, 8_388_606, 536_870_910, 2_147_483_646, 67_109_890,
            2_199_023_255_550, 8_796_093_022_206, 140_737_488_355_326, 5_310_023_542_746_834, 576_460_752_303_423_486,
            1_455_791_217_086_302_986,
        ]
        #expect(RSAPublicKeyCheck.primes.count == 38 && RSAPublicKeyCheck.primes.last == 167)
        for (i, mask) in published.enumerated() {
            var computed: UInt64 = 0
            for (r, member) in RSAPublicKeyCheck.subgroups[i].enumerated() where member { computed |= 1 << UInt64(r) }
            #expect(computed == mask, "p = \(RSAPublicKeyCheck.primes[i])")
        }
    }

    @Test("ordinary RSA keys load: no false positive")
    func ordinaryKeys() throws {
        for name in ["rsa_pkcs1.pem", "rsa_pub_pkcs1.pem", "rsa_spki.pem"] {
            _ = try JWSKey.pem(Resources.data("keys/" + name), algorithm: .rs256, kid: "k")
        }
        _ = try JWSKey.jwk(bytes(RFCVectorTests.a2Key), algorithm: .rs256, kid: "a2")
        // Fresh keys from OpenSSL's generator (what `openssl genrsa` uses), each checked.
        for bits in [2048, 2048, 2048, 2048, 3072] {
            let key = try JWSKey.generate(algorithm: .ps256, rsaBits: bits)
            let (n, _) = try Self.members(key)
            #expect(!RSAPublicKeyCheck.hasROCAFingerprint(try Base64URL.decode(n)))
            _ = try JWSKey.der(try #require(key.publicKeyDER()), algorithm: .ps256, kid: "k")
        }
    }

    @Test("public exponents that are even, below 3 or above 2^32-1 are refused")
    func exponents() throws {
        let (n, _) = try Self.members(TestKeys.rsa)
        func jwk(_ e: [UInt8]) -> [UInt8] {
            bytes(#"{"kty":"RSA","kid":"e","n":"\#(n)","e":"\#(Base64URL.encodeToString(e))"}"#)
        }
        let refused: [([UInt8], String)] = [
            ([1], "RSA public exponent must be at least 3"),
            ([2], "RSA public exponent must be at least 3"),
            ([0x01, 0x00, 0x00], "RSA public exponent must be odd"),  // 65536
            ([0x01, 0x00, 0x02], "RSA public exponent must be odd"),  // 65538
            ([0x01, 0x00, 0x00, 0x00, 0x01], "RSA public exponent is implausibly large (above 2^32-1)"),
            ([0x01, 0x00, 0x00, 0x00, 0x00, 0x01], "RSA public exponent is implausibly large (above 2^32-1)"),
        ]
        for (e, reason) in refused {
            expectError(.invalidKey(reason)) { () throws(JOSEError) in try JWSKey.jwk(jwk(e)) }
            expectError(.invalidKey(reason)) { () throws(JOSEError) in
                try JWSKey.der(DER.rsaPublicKey(n: try! Base64URL.decode(n), e: e), kid: "e")
            }
        }
        for e: [UInt8] in [[3], [17], [0x01, 0x00, 0x01], [0xFF, 0xFF, 0xFF, 0xFF]] {
            #expect(try JWSKey.jwk(jwk(e)).rsaBits == 2048)
        }
        // The check itself, without OpenSSL.
        expectError(.invalidKey("RSA public exponent must be at least 3")) { () throws(JOSEError) in
            try RSAPublicKeyCheck.check(modulus: [0xC5], exponent: [])
        }
    }
}
