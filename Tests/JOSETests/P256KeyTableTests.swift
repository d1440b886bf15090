import Foundation
import Testing

@testable import JOSE

/// ES256 through a key's precomputed P-256 table (`P256KeyTable`): the same answers as
/// `EVP_DigestVerify` on every Wycheproof vector and on random and tampered signatures, and
/// the table is built only for keys whose signatures verified, within the process cap.
/// Serialized: `processCap` holds every table the process may have while it runs.
@Suite("P-256 key tables", .serialized)
struct P256KeyTableTests {
    static func slot(_ key: JWSKey) throws -> P256KeyTableSlot {
        guard case .asymmetric(let k) = key.material else { throw JOSEError.invalidKey("not asymmetric") }
        return try #require(k.p256Table)
    }

    /// `EVP_DigestVerify` on the DER form: the path keys take until their table is built.
    static func evpVerify(_ key: JWSKey, _ sig: [UInt8], _ msg: [UInt8]) -> Bool {
        guard case .asymmetric(let k) = key.material else { return false }
        let der = sig.withUnsafeBytes { DER.ecdsaSignature(raw: $0) }
        return der.withUnsafeBytes { d in msg.withUnsafeBytes { m in k.verify(.es256, signature: d, input: m) } }
    }

    @Test("every Wycheproof P-256 vector through the table")
    func wycheproof() throws {
        let data = try Data(contentsOf: Resources.url("wycheproof/ecdsa_secp256r1_sha256_p1363_test.json"))
        let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var valid = 0, invalid = 0
        for group in try #require(doc["testGroups"] as? [[String: Any]]) {
            let pem = try #require(group["publicKeyPem"] as? String)
            let key = try JWSKey.pem(Array(pem.utf8), algorithm: .es256, kid: "w")
            let slot = try Self.slot(key)
            #expect(slot.buildNow(), "the table builds for every group's key")
            #expect(slot.table != nil)
            for t in try #require(group["tests"] as? [[String: Any]]) {
                let msg = hex(t["msg"] as! String), sig = hex(t["sig"] as! String)
                let ok = key.verifySignature(sig, input: msg, algorithm: .es256)
                if t["result"] as! String == "valid" {
                    #expect(ok, "tcId \(t["tcId"]!) \(t["comment"]!) must verify")
                    valid += 1
                } else {
                    #expect(!ok, "tcId \(t["tcId"]!) \(t["comment"]!) must be rejected")
                    invalid += 1
                }
            }
        }
        #expect(valid == 173 && invalid == 89, "\(valid) valid, \(invalid) invalid vectors ran")
    }

    @Test("the table and EVP_DigestVerify agree on random, tampered and foreign signatures")
    func agreesWithEVP() throws {
        let keys = try (0..<3).map { _ in try JWSKey.generate(algorithm: .es256, kid: "k") }
        for key in keys { #expect(try Self.slot(key).buildNow()) }
        var rng = SystemRandomNumberGenerator()
        for i in 0..<150 {
            let key = keys[i % keys.count], other = keys[(i + 1) % keys.count]
            let msg = (0..<Int.random(in: 0..<300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let sig = try key.sign(msg)
            #expect(key.verifySignature(sig, input: msg, algorithm: .es256))
            #expect(Self.evpVerify(key, sig, msg))
            var badSig = sig
            badSig[Int.random(in: 0..<64, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            var badMsg = msg + [0]
            badMsg[Int.random(in: 0..<badMsg.count, using: &rng)] ^= 0x20
            for (s, m) in [(badSig, msg), (sig, badMsg)] {
                let viaTable = key.verifySignature(s, input: m, algorithm: .es256)
                #expect(viaTable == Self.evpVerify(key, s, m))
                #expect(!viaTable)
            }
            #expect(!other.verifySignature(sig, input: msg, algorithm: .es256))
        }
    }

    @Test("only verified signatures count towards building a key's table")
    func builtAfterSuccessesOnly() async throws {
        let key = try JWSKey.generate(algorithm: .es256, kid: "k")
        let slot = try Self.slot(key)
        let msg = bytes("header.payload")
        let sig = try key.sign(msg)
        var forged = sig
        forged[10] ^= 0x01
        for _ in 0..<(2 * P256KeyTableSlot.threshold) {
            #expect(!key.verifySignature(forged, input: msg, algorithm: .es256))
        }
        for _ in 0..<(P256KeyTableSlot.threshold - 1) {
            #expect(key.verifySignature(sig, input: msg, algorithm: .es256))
        }
        // A build takes ~40 ms: had anything scheduled it, it would be there after half a second.
        try await Task.sleep(for: .milliseconds(500))
        #expect(slot.table == nil, "forged signatures or too few verifications built a table")
        #expect(key.verifySignature(sig, input: msg, algorithm: .es256))
        var waited = 0
        while slot.table == nil, waited < 200 {
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        #expect(slot.table != nil, "the threshold-th verification schedules the build")
        #expect(key.verifySignature(sig, input: msg, algorithm: .es256))
        #expect(!key.verifySignature(forged, input: msg, algorithm: .es256))
    }

    @Test("no more than maxTables tables are alive in the process, and freed keys give theirs back")
    func processCap() throws {
        var keys: [JWSKey] = []
        var built = 0, refused = 0
        for _ in 0...P256KeyTableSlot.maxTables {
            let key = try JWSKey.generate(algorithm: .es256, kid: "k")
            keys.append(key)
            if try Self.slot(key).buildNow() { built += 1 } else { refused += 1 }
            #expect(P256KeyTableSlot.liveTables <= P256KeyTableSlot.maxTables)
        }
        #expect(built <= P256KeyTableSlot.maxTables && refused >= 1)
        // A refused key still verifies, on EVP_DigestVerify.
        for key in keys where try Self.slot(key).table == nil {
            let sig = try key.sign(bytes("m"))
            #expect(key.verifySignature(sig, input: bytes("m"), algorithm: .es256))
        }
        let before = P256KeyTableSlot.liveTables
        keys.removeAll()
        // Other suites running meanwhile hold a few tables of their own (at most 4).
        #expect(P256KeyTableSlot.liveTables <= before - built + 4)
    }

    @Test("only P-256 keys have a table slot")
    func onlyP256() throws {
        for a in [JWSAlgorithm.es384, .es512, .edDSA, .rs256] {
            let key = try JWSKey.generate(algorithm: a, kid: "k")
            guard case .asymmetric(let k) = key.material else { continue }
            #expect(k.p256Table == nil, "\(a)")
        }
    }
}
