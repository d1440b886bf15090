import Testing

@testable import JOSE

@Suite("Verified token cache")
struct VerifiedTokenCacheTests {
    static let now: Double = 1_700_000_000

    func make(_ i: Int, exp: Double = now + 900) throws -> ([UInt8], VerifiedJWS) {
        let keys = try JWSKeySet(verificationKeys: [], signingKey: TestKeys.hs256)
        let token = try keys.sign(payload: bytes(accessClaims(now: Self.now, exp: exp, extra: #","i":\#(i)"#)))
        return (token, try keys.verify(token: token, allowedAlgorithms: [.hs256]))
    }

    @Test("hit returns the verified token; miss for unknown")
    func hit() throws {
        let cache = VerifiedTokenCache(capacity: 8)
        let (t, v) = try make(1)
        #expect(cache.lookup(t, now: Self.now) == nil)
        cache.insert(t, v, now: Self.now)
        #expect(cache.lookup(t, now: Self.now) == v)
        #expect(cache.lookup(t, now: Self.now)?.claims.sub == "user-1234567890")
        #expect(cache.count == 1)
        // Same token inserted twice stays one entry.
        cache.insert(t, v, now: Self.now)
        #expect(cache.count == 1)
    }

    @Test("miss after exp, and the entry is dropped")
    func expiry() throws {
        let cache = VerifiedTokenCache(capacity: 8)
        let (t, v) = try make(1, exp: Self.now + 10)
        cache.insert(t, v, now: Self.now)
        #expect(cache.lookup(t, now: Self.now + 9.99) != nil)
        #expect(cache.lookup(t, now: Self.now + 10) == nil)
        #expect(cache.count == 0)
        // Already expired or without exp: not inserted.
        let (t2, v2) = try make(2, exp: Self.now - 1)
        cache.insert(t2, v2, now: Self.now)
        #expect(cache.count == 0)
    }

    @Test("a token differing in one byte is a miss")
    func oneByte() throws {
        let cache = VerifiedTokenCache(capacity: 8)
        let (t, v) = try make(1)
        cache.insert(t, v, now: Self.now)
        for position in [0, t.count / 2, t.count - 1] {
            var u = t
            u[position] ^= 0x01
            #expect(cache.lookup(u, now: Self.now) == nil, "byte \(position)")
        }
        #expect(cache.lookup(Array(t.dropLast()), now: Self.now) == nil)
        #expect(cache.lookup(t + [0x41], now: Self.now) == nil)
    }

    @Test("the hit check tells every single-byte difference, in the readable part and in the signature")
    func sameComparesEveryByte() throws {
        let (t, _) = try make(1)
        let dot = try #require(t.lastIndex(of: UInt8(ascii: ".")))
        t.withUnsafeBytes { a in #expect(VerifiedTokenCache.same(a, a)) }
        for position in t.indices {
            var u = t
            u[position] ^= 0x20
            t.withUnsafeBytes { a in
                u.withUnsafeBytes { b in
                    #expect(!VerifiedTokenCache.same(a, b), "byte \(position) (signature from \(dot + 1))")
                }
            }
        }
        // Different lengths, empty, and a "token" without any '.' (all of it compared in constant time).
        t.withUnsafeBytes { a in
            Array(t.dropLast()).withUnsafeBytes { b in #expect(!VerifiedTokenCache.same(a, b)) }
            [UInt8]().withUnsafeBytes { e in #expect(!VerifiedTokenCache.same(e, e)) }
        }
        let plain: [UInt8] = Array("abcdef".utf8)
        let other: [UInt8] = Array("abcdeg".utf8)
        plain.withUnsafeBytes { a in
            other.withUnsafeBytes { b in
                #expect(VerifiedTokenCache.same(a, a))
                #expect(!VerifiedTokenCache.same(a, b))
            }
        }
    }

    @Test("eviction keeps the cache bounded (oldest first)")
    func eviction() throws {
        let cache = VerifiedTokenCache(capacity: 4)
        var tokens = [[UInt8]]()
        for i in 0..<10 {
            let (t, v) = try make(i)
            tokens.append(t)
            cache.insert(t, v, now: Self.now)
            #expect(cache.count <= 4)
        }
        #expect(cache.count == 4)
        for i in 0..<6 { #expect(cache.lookup(tokens[i], now: Self.now) == nil) }
        for i in 6..<10 { #expect(cache.lookup(tokens[i], now: Self.now) != nil) }
        cache.removeAll()
        #expect(cache.count == 0)
        #expect(cache.lookup(tokens[9], now: Self.now) == nil)
    }

    @Test("second-sighting admission: a token is kept on its second insert, not its first")
    func secondSighting() throws {
        let cache = VerifiedTokenCache(capacity: 8, admission: .secondSighting)
        let (t, v) = try make(1)
        #expect(cache.insert(t, v, now: Self.now) == nil)
        #expect(cache.lookup(t, now: Self.now) == nil)
        #expect(cache.count == 0)
        #expect(cache.insert(t, v, now: Self.now) != nil)
        #expect(cache.lookup(t, now: Self.now) == v)
        #expect(cache.count == 1)
        // Once in, inserting it again replaces the entry without the doorkeeper.
        #expect(cache.insert(t, v, now: Self.now) != nil)
        #expect(cache.count == 1)
        // removeAll forgets the doorkeeper's sightings too.
        let (u, w) = try make(2)
        cache.insert(u, w, now: Self.now)
        cache.removeAll()
        #expect(cache.insert(u, w, now: Self.now) == nil)
        // An expired token is not counted as a sighting either.
        let (x, y) = try make(3, exp: Self.now - 1)
        #expect(cache.insert(x, y, now: Self.now) == nil)
        #expect(cache.insert(x, y, now: Self.now) == nil)
    }

    @Test("one-off tokens do not evict a reused token under second-sighting admission; they do under always")
    func oneOffTokensKeepReusedOnes() throws {
        for admission in [VerifiedTokenCache.Admission.always, .secondSighting] {
            let cache = VerifiedTokenCache(capacity: 4, admission: admission)
            let (kept, v) = try make(0)
            cache.insert(kept, v, now: Self.now)
            cache.insert(kept, v, now: Self.now)
            #expect(cache.lookup(kept, now: Self.now) != nil)
            // Ten tokens seen once each: every insert evicts under `.always`.
            for i in 1...10 {
                let (t, w) = try make(i)
                cache.insert(t, w, now: Self.now)
            }
            if admission == .always {
                #expect(cache.lookup(kept, now: Self.now) == nil)
                #expect(cache.count == 4)
            } else {
                #expect(cache.lookup(kept, now: Self.now) != nil)
                // Each was a first sighting: only a 32-bit fingerprint match could admit one.
                #expect(cache.count == 1)
            }
        }
    }
}
