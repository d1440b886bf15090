import Testing

@testable import JOSE

/// The request-path rewrites of HMAC, the JWS header scan and the verified-token cache
/// index (issue 15) against known answers and a reference model.
@Suite("Hot path: keyed HMAC states, header names, cache index")
struct HotPathTests {
    /// RFC 4231 test cases 6 and 7: a 131-byte key, longer than every block, is hashed first.
    static let longKey = [UInt8](repeating: 0xAA, count: 131)
    static let case6 = bytes("Test Using Larger Than Block-Size Key - Hash Key First")
    static let case7 = bytes(
        "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
    )

    @Test("HMAC RFC 4231 cases 6 and 7 (key longer than the block) with SHA-256, -384, -512")
    func longKeyVectors() throws {
        #expect(
            try HMAC.authenticate(Self.case6, key: Self.longKey, hash: .sha256)
                == hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"))
        #expect(
            try HMAC.authenticate(Self.case6, key: Self.longKey, hash: .sha384)
                == hex(
                    "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952"))
        #expect(
            try HMAC.authenticate(Self.case6, key: Self.longKey, hash: .sha512)
                == hex(
                    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"
                ))
        #expect(
            try HMAC.authenticate(Self.case7, key: Self.longKey, hash: .sha256)
                == hex("9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"))
        #expect(
            try HMAC.authenticate(Self.case7, key: Self.longKey, hash: .sha512)
                == hex(
                    "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"
                ))
    }

    @Test("HMAC: a key exactly one block long is used as is, one byte longer is hashed")
    func blockBoundary() throws {
        // HMAC(K, m) == HMAC(H(K), m) only when K is longer than the block (RFC 2104 §2).
        let msg = bytes("block boundary")
        for (hash, block) in [(HashFunction.sha256, 64), (.sha384, 128), (.sha512, 128)] {
            let exact = [UInt8](repeating: 0x5C, count: block)
            let longer = exact + [0x01]
            let hashedLonger = Digest.hash(hash, longer.withUnsafeBytes { UnsafeRawBufferPointer($0) })
            #expect(
                try HMAC.authenticate(msg, key: longer, hash: hash)
                    == HMAC.authenticate(msg, key: hashedLonger, hash: hash))
            let hashedExact = Digest.hash(hash, exact.withUnsafeBytes { UnsafeRawBufferPointer($0) })
            #expect(
                try HMAC.authenticate(msg, key: exact, hash: hash)
                    != HMAC.authenticate(msg, key: hashedExact, hash: hash))
            // The keyed state is copied per call: the same key gives the same tag every time.
            let h = try HMAC(key: exact, hash: hash)
            #expect(h.authenticate(msg) == h.authenticate(msg))
            #expect(h.authenticate(msg).count == hash.outputLength)
        }
    }

    static func header(_ json: String) throws(JOSEError) -> JWSHeader {
        let b = bytes(json)
        return try b.withBytes { (r) throws(JOSEError) in try JWSHeader.parse(r, maxDepth: 16) }
    }

    @Test("header names: escaped names count, a 4-byte name ending in alg does not")
    func headerNames() throws {
        #expect(try Self.header(#"{"\u0061lg":"HS256"}"#).algorithm == .hs256)
        #expect(try Self.header(#"{"alg":"HS256","k\u0069d":"k1","typ":"at+jwt"}"#).kid == "k1")
        // "\u0000alg" is four bytes whose last three spell alg: not the alg member.
        expectError(.malformed("missing alg")) { () throws(JOSEError) in try Self.header(#"{"\u0000alg":"HS256"}"#) }
        expectError(.malformed("missing alg")) { () throws(JOSEError) in
            try Self.header(#"{"xalg":"HS256","al":"HS256"}"#)
        }
        expectError(.unsupportedCritical) { () throws(JOSEError) in
            try Self.header(#"{"alg":"HS256","cr\u0069t":["x"]}"#)
        }
        // Four bytes whose last three spell kid: ignored, not the kid.
        #expect(try Self.header(#"{"alg":"HS256","\u0000kid":"k1"}"#).kid == nil)
    }

    @Test("access-token typ compared without case, whole value only")
    func accessTokenType() {
        for t in ["at+jwt", "AT+JWT", "At+Jwt", "application/at+jwt", "Application/AT+JWT"] {
            #expect(JWSHeader(algorithm: .hs256, kid: nil, typ: t).isAccessTokenType, "\(t)")
        }
        for t in ["at+jwtx", "at+jw", "", "jwt", "application/at+jwt ", "at-jwt", "application/jwt", "aT\u{17F}jwt"] {
            #expect(!JWSHeader(algorithm: .hs256, kid: nil, typ: t).isAccessTokenType, "\(t)")
        }
        #expect(!JWSHeader(algorithm: .hs256, kid: nil, typ: nil).isAccessTokenType)
    }

    @Test("cache index against a model: inserts, FIFO eviction, expiry removal and re-insertion")
    func cacheModel() throws {
        let keys = try JWSKeySet(verificationKeys: [], signingKey: TestKeys.hs256)
        let now: Double = 1_700_000_000
        let capacity = 16
        let cache = VerifiedTokenCache(capacity: capacity)
        var tokens: [([UInt8], VerifiedJWS)] = []
        for i in 0..<300 {
            // Every seventh token expires soon, so lookups at a later time remove it mid-run.
            let exp = i % 7 == 0 ? now + 5 : now + 900
            let t = try keys.sign(payload: bytes(accessClaims(now: now, exp: exp, extra: #","i":\#(i)"#)))
            tokens.append((t, try keys.verify(token: t, allowedAlgorithms: [.hs256])))
        }
        var model: [Int] = []  // indices of the tokens the cache holds
        for i in tokens.indices {
            cache.insert(tokens[i].0, tokens[i].1, now: now)
            model.append(i)
            // The ring overwrites the slot of the token inserted `capacity` insertions ago.
            model.removeAll { i - $0 >= capacity }
            if i % 5 == 4 {
                // Later: the soon-expiring ones are dropped on lookup, freeing index buckets.
                for j in model where j % 7 == 0 {
                    #expect(cache.lookup(tokens[j].0, now: now + 10) == nil, "expired \(j)")
                }
                model.removeAll { $0 % 7 == 0 }
            }
            #expect(cache.count == model.count, "count after \(i)")
            for j in model { #expect(cache.lookup(tokens[j].0, now: now) == tokens[j].1, "present \(j) after \(i)") }
            for j in max(0, i - 40)...i where !model.contains(j) {
                #expect(cache.lookup(tokens[j].0, now: now) == nil, "absent \(j) after \(i)")
            }
        }
        // Re-inserting what is held keeps one entry each.
        for j in model { cache.insert(tokens[j].0, tokens[j].1, now: now) }
        #expect(cache.count == model.count)
        cache.removeAll()
        for j in model { #expect(cache.lookup(tokens[j].0, now: now) == nil) }
    }

    @Test("an entry kept with its attachment only: found until exp, no verified value, evicted like others")
    func attachmentOnly() throws {
        final class Box {}
        let keys = try JWSKeySet(verificationKeys: [], signingKey: TestKeys.hs256)
        let now: Double = 1_700_000_000
        let cache = VerifiedTokenCache(capacity: 2)
        let t = try keys.sign(payload: bytes(accessClaims(now: now)))
        let box = Box()
        let e = try #require(t.withUnsafeBytes { cache.insert($0, expiresAt: now + 10, attachment: box, now: now) })
        #expect(e.attachment === box && e.value == nil)
        #expect(t.withUnsafeBytes { cache.entry($0, now: now + 9)?.attachment } === box)
        #expect(cache.lookup(t, now: now) == nil)  // nothing verified kept to hand out
        #expect(t.withUnsafeBytes { cache.entry($0, now: now + 10) } == nil)
        #expect(cache.count == 0)
        // Already expired: not kept.
        #expect(t.withUnsafeBytes { cache.insert($0, expiresAt: now, attachment: box, now: now) } == nil)
        #expect(cache.count == 0)
    }

    @Test("cache hash: tokens differing only in the last 16 bytes or the length hash apart")
    func cacheHash() {
        var a = [UInt8](repeating: 0x41, count: 300)
        let h0 = a.withUnsafeBytes { VerifiedTokenCache.hash($0) }
        var seen: Set<Int> = [h0]
        for k in (a.count - 16)..<a.count {
            a[k] ^= 0x01
            seen.insert(a.withUnsafeBytes { VerifiedTokenCache.hash($0) })
            a[k] ^= 0x01
        }
        #expect(seen.count == 17)
        #expect(a.withUnsafeBytes { VerifiedTokenCache.hash($0) } == h0)
        #expect(Array(a.dropFirst()).withUnsafeBytes { VerifiedTokenCache.hash($0) } != h0)
        // Short inputs are hashed too, without reading past them.
        let short: [[UInt8]] = [[], [1], [1, 2], Array(0..<9), Array(0..<15), Array(0..<16)]
        #expect(Set(short.map { s in s.withUnsafeBytes { VerifiedTokenCache.hash($0) } }).count == short.count)
    }
}

@Suite("Hot path: scope list")
struct ScopeListTests {
    @Test("scopeList equals scopes, ASCII and not, runs of spaces and edges included")
    func sameAsScopes() throws {
        for scope in [
            "", " ", "read", "read write", "  read   write  ", "a b c d e f g h", "admin:users read",
            "a \u{301}b", "é ü", "x\\ty z", "\u{00A0}a b",
        ] {
            let json = #"{"scope":"\#(scope)"}"#
            let c = try ClaimsScanner.scan(Array(json.utf8))
            #expect(c.scopeList == c.scopes.map(String.init), "\(scope)")
        }
        let none = try ClaimsScanner.scan(Array(#"{"sub":"x"}"#.utf8))
        #expect(none.scopeList.isEmpty)
    }

    @Test("claim lookup by name: plain, escaped, absent, and names differing in length")
    func memberLookup() throws {
        let c = try ClaimsScanner.scan(Array(#"{"client_id":"c1","client":"x","\u0074enant":"acme","n":1}"#.utf8))
        #expect(c.kind(of: "client_id") == .string)
        #expect(c.string("client_id") == "c1")
        #expect(c.string("client") == "x")
        #expect(c.string("tenant") == "acme")
        #expect(c.number("n") == 1)
        #expect(c.kind(of: "client_i") == nil)
        #expect(c.kind(of: "client_idx") == nil)
        #expect(c.kind(of: "") == nil)
        // A bridged or otherwise non-contiguous name still finds its claim.
        let lazy = String(Substring("xxtenantxx").dropFirst(2).dropLast(2))
        #expect(c.string(lazy) == "acme")
    }
}
