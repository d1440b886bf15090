import Foundation
import Testing

@testable import JOSE

/// Every Wycheproof vector through the gateway's own code path: the key loader on the PEM,
/// DER and JWK of each group, then `JWSKey.verifySignature`, the primitive under JWS verify.
///
/// `acceptable` vectors: the only ones are RSA PKCS#1 v1.5 signatures whose DigestInfo omits
/// the NULL parameters (flag `MissingNull`). OpenSSL 3.0 rejects them and so do we; the test
/// asserts that rejection so a behaviour change is noticed.
@Suite("Wycheproof")
struct WycheproofTests {
    static let signatureFiles: [(String, JWSAlgorithm)] = [
        ("ecdsa_secp256r1_sha256_p1363_test.json", .es256),
        ("ecdsa_secp384r1_sha384_p1363_test.json", .es384),
        ("ecdsa_secp521r1_sha512_p1363_test.json", .es512),
        ("ed25519_test.json", .edDSA),
        ("rsa_signature_2048_sha256_test.json", .rs256),
        ("rsa_signature_3072_sha384_test.json", .rs384),
        ("rsa_signature_4096_sha512_test.json", .rs512),
        ("rsa_pss_2048_sha256_mgf1_32_test.json", .ps256),
        ("rsa_pss_4096_sha512_mgf1_64_test.json", .ps512),
    ]

    static let macFiles: [(String, JWSAlgorithm)] = [
        ("hmac_sha256_test.json", .hs256),
        ("hmac_sha384_test.json", .hs384),
        ("hmac_sha512_test.json", .hs512),
    ]

    @Test("every vector file in the folder is run")
    func coverage() throws {
        let folder = try Resources.url("wycheproof")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
        let known = Set((Self.signatureFiles + Self.macFiles).map(\.0))
        #expect(Set(files) == known, "vector files without a test (or tests without a file)")
    }

    static func load(_ file: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Resources.url("wycheproof/" + file))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("signature vectors", arguments: signatureFiles)
    func signatures(file: String, algorithm: JWSAlgorithm) throws {
        let doc = try Self.load(file)
        let groups = try #require(doc["testGroups"] as? [[String: Any]])
        var ran = 0, valid = 0, invalid = 0, acceptableRejected = 0
        for group in groups {
            let pem = try #require(group["publicKeyPem"] as? String)
            let der = try #require(group["publicKeyDer"] as? String)
            let key = try JWSKey.pem(Array(pem.utf8), algorithm: algorithm, kid: "w")
            // The same key through the DER and JWK loaders.
            let fromDER = try JWSKey.der(hex(der), algorithm: algorithm, kid: "w")
            #expect(fromDER.publicKeyDER() == key.publicKeyDER())
            if let jwk = (group["publicKeyJwk"] ?? group["keyJwk"]) as? [String: Any] {
                var j = jwk
                j.removeValue(forKey: "kid")
                let json = try JSONSerialization.data(withJSONObject: j)
                let fromJWK = try JWSKey.jwk([UInt8](json), algorithm: algorithm, kid: "w")
                #expect(fromJWK.publicKeyDER() == key.publicKeyDER())
            }
            if algorithm.family == .rsa {
                #expect(group["sha"] as? String == "SHA-\(algorithm.hashLength * 8)")
                if let sLen = group["sLen"] as? Int { #expect(sLen == algorithm.hashLength) }
            }
            for t in try #require(group["tests"] as? [[String: Any]]) {
                let msg = hex(t["msg"] as! String), sig = hex(t["sig"] as! String)
                let result = t["result"] as! String
                let ok = key.verifySignature(sig, input: msg, algorithm: algorithm)
                ran += 1
                switch result {
                case "valid":
                    #expect(ok, "tcId \(t["tcId"]!) \(t["comment"]!) must verify")
                    valid += 1
                case "invalid":
                    #expect(!ok, "tcId \(t["tcId"]!) \(t["comment"]!) must be rejected")
                    invalid += 1
                default:
                    // Only MissingNull (see the suite comment): rejected.
                    #expect((t["flags"] as? [String]) == ["MissingNull"])
                    #expect(!ok, "acceptable tcId \(t["tcId"]!) is rejected by this implementation")
                    acceptableRejected += 1
                }
            }
        }
        print(
            "wycheproof \(file): \(ran) vectors (\(valid) valid accepted, \(invalid) invalid rejected, \(acceptableRejected) acceptable rejected)"
        )
        #expect(ran > 0, "no vectors ran from \(file)")
    }

    /// HMAC: a JWS tag is the full hash output and a JWS HMAC key is at least that long
    /// (RFC 7518 §3.2). Groups with shorter keys must be refused by the loader; groups with
    /// truncated tags must be refused by JWS verification whatever their Wycheproof result.
    /// The underlying HMAC is still checked against every vector.
    @Test("MAC vectors", arguments: macFiles)
    func macs(file: String, algorithm: JWSAlgorithm) throws {
        let doc = try Self.load(file)
        let groups = try #require(doc["testGroups"] as? [[String: Any]])
        let hashFunction = HMACKey.hash(algorithm)
        var ran = 0, jwsChecked = 0, keysRefused = 0, truncatedRefused = 0
        for group in groups {
            let keySize = try #require(group["keySize"] as? Int) / 8
            let tagSize = try #require(group["tagSize"] as? Int) / 8
            for t in try #require(group["tests"] as? [[String: Any]]) {
                let key = hex(t["key"] as! String), msg = hex(t["msg"] as! String), tag = hex(t["tag"] as! String)
                let valid = (t["result"] as! String) == "valid"
                #expect(key.count == keySize)
                ran += 1
                // The primitive itself.
                let full = try HMAC(key: key, hash: hashFunction).authenticate(msg)
                #expect((Array(full.prefix(tagSize)) == tag) == valid, "tcId \(t["tcId"]!)")
                // The JWS path.
                guard keySize >= algorithm.hashLength else {
                    expectError(.invalidKey("HMAC secret shorter than the hash output")) {
                        () throws(JOSEError) in try JWSKey.hmac(secret: key, algorithm: algorithm, kid: "w")
                    }
                    keysRefused += 1
                    continue
                }
                let jwsKey = try JWSKey.hmac(secret: key, algorithm: algorithm, kid: "w")
                let ok = jwsKey.verifySignature(tag, input: msg, algorithm: algorithm)
                if tagSize == algorithm.hashLength {
                    #expect(ok == valid, "tcId \(t["tcId"]!)")
                    jwsChecked += 1
                } else {
                    #expect(!ok, "truncated tag tcId \(t["tcId"]!) is not a JWS tag")
                    truncatedRefused += 1
                }
            }
        }
        print(
            "wycheproof \(file): \(ran) vectors (\(jwsChecked) full-length through JWS verify, \(keysRefused) short keys refused by the loader, \(truncatedRefused) truncated tags refused)"
        )
        #expect(ran > 0, "no vectors ran from \(file)")
        #expect(jwsChecked > 0)
    }
}
