import Dispatch
import Synchronization
import Testing

@testable import JOSE

@Suite("Primitives: random, SHA-256, HMAC, constant time, AES-256-GCM")
struct PrimitivesTests {
    @Test("SHA-256 known answers (FIPS 180-2 examples)")
    func sha256() {
        #expect(SHA256.hash("abc") == hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        #expect(SHA256.hash([UInt8]()) == hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
        #expect(Digest.hash(.sha512, [UInt8]("abc".utf8).withUnsafeBytes { UnsafeRawBufferPointer($0) }).count == 64)
    }

    @Test("HMAC RFC 4231 test case 2")
    func hmac() throws {
        let key = Array("Jefe".utf8), msg = Array("what do ya want for nothing?".utf8)
        #expect(
            try HMAC.authenticate(msg, key: key)
                == hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        )
        #expect(
            try HMAC.authenticate(msg, key: key, hash: .sha512)
                == hex(
                    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
                )
        )
        let h = try HMAC(key: key)
        #expect(h.isValid(tag: hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"), for: msg))
        #expect(!h.isValid(tag: hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3842"), for: msg))
        #expect(!h.isValid(tag: hex("5bdcc146bf60754e6a042426089575c7"), for: msg))
    }

    @Test("HMAC contexts kept per thread: each key its own tags, interleaved, after a key is freed, across threads")
    func hmacThreadContexts() throws {
        let k1 = [UInt8](repeating: 0x0b, count: 20), m1 = Array("Hi There".utf8)
        let t1 = hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")  // RFC 4231 case 1
        let k2 = Array("Jefe".utf8), m2 = Array("what do ya want for nothing?".utf8)
        let t2 = hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")  // case 2
        let h1 = try HMAC(key: k1), h2 = try HMAC(key: k2)
        let t1m2 = try HMAC.authenticate(m2, key: k1)
        for _ in 0..<50 {
            // The same key twice in a row (the restarted context), then the other key, then a
            // longer message on the first: no state may carry over from one tag to the next.
            #expect(h1.authenticate(m1) == t1)
            #expect(h1.authenticate(m1) == t1)
            #expect(h2.authenticate(m2) == t2)
            #expect(h1.authenticate(m2) == t1m2)
            #expect(h1.authenticate(m1) == t1)
        }
        // A key freed and a new one made, likely at the same address: the new key's tag.
        for _ in 0..<20 {
            do {
                let a = try HMAC(key: k1)
                #expect(a.authenticate(m1) == t1)
            }
            let b = try HMAC(key: k2)
            #expect(b.authenticate(m2) == t2)
        }
        // SHA-512 and SHA-256 of one key each keep their own context.
        let t2_512 = hex(
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        )
        let h2_512 = try HMAC(key: k2, hash: .sha512)
        #expect(h2_512.authenticate(m2) == t2_512 && h2.authenticate(m2) == t2 && h2_512.authenticate(m2) == t2_512)
        // Many threads, one shared key each way.
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            var bad = 0
            for _ in 0..<500 {
                if i % 2 == 0 {
                    if h1.authenticate(m1) != t1 { bad += 1 }
                } else if h2.authenticate(m2) != t2 {
                    bad += 1
                }
            }
            failures.withLock { $0 += bad }
        }
        #expect(failures.withLock { $0 } == 0)
    }

    @Test("random bytes")
    func random() {
        let a = SecureRandom.bytes(count: 32), b = SecureRandom.bytes(count: 32)
        #expect(a.count == 32 && a != b)
        #expect(SecureRandom.bytes(count: 0).isEmpty)
    }

    @Test("constant-time equality")
    func constantTime() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(ConstantTime.equals([], []))
        var s: [UInt8] = [1, 2, 3]
        ConstantTime.wipe(&s)
        #expect(s == [0, 0, 0])
    }

    @Test("AES-256-GCM seal/open, tamper, wrong key or AAD")
    func aesgcm() throws {
        let key = AESGCM.randomKey()
        let pt = Array("refresh-token-ABCDEFGHIJKLMNOP".utf8)
        let box = try key.seal(pt, aad: [7])
        #expect(box.count == 12 + pt.count + 16)
        #expect(try key.open(box, aad: [7]) == pt)
        #expect(try key.seal(pt, aad: [7]) != box)  // fresh nonce
        var tampered = box
        tampered[20] ^= 1
        expectError(.decryptionFailed) { () throws(JOSEError) in try key.open(tampered, aad: [7]) }
        expectError(.decryptionFailed) { () throws(JOSEError) in try key.open(box, aad: [8]) }
        expectError(.decryptionFailed) { () throws(JOSEError) in try AESGCM.randomKey().open(box, aad: [7]) }
        expectError(.decryptionFailed) { () throws(JOSEError) in try key.open(Array(box.prefix(27)), aad: [7]) }
        #expect(try key.open(try key.seal([])) == [])
        expectError(.invalidKey("AES-256-GCM key must be 32 bytes")) { () throws(JOSEError) in try AESGCM(key: [1, 2]) }
    }

    @Test("AES-256-GCM known answer (NIST GCM test case 16 family: key of zeros)")
    func aesgcmKnown() throws {
        // Opening a box built from a known (key, nonce, plaintext) triple: AES-256-GCM with a zero key,
        // zero nonce and 16 zero bytes gives ct cea7403d4d606b6e074ec5d3baf39d18, tag d0d1c8a799996bf0265b98b5d48ab919.
        let key = try AESGCM(key: [UInt8](repeating: 0, count: 32))
        let box =
            [UInt8](repeating: 0, count: 12) + hex("cea7403d4d606b6e074ec5d3baf39d18")
            + hex("d0d1c8a799996bf0265b98b5d48ab919")
        #expect(try key.open(box) == [UInt8](repeating: 0, count: 16))
    }
}
