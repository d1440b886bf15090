import JOSE
import Testing

@testable import GatewayCore

/// The request path's split of the bearer check (issue 15): `locate` finds the token,
/// `isToken68` checks its characters only on a cache miss, and `BearerVerifier.cached`
/// answers a token verified before.
@Suite("Bearer hot path: locate + isToken68, cached grants")
struct BearerHotPathTests {
    static func split(_ value: [UInt8]) -> (BearerCredentials, BearerCredentials, Bool?) {
        let head = Array("Authorization: ".utf8) + value + Array("\r\n".utf8)
        return head.withUnsafeBytes { b in
            let range = 15..<(15 + value.count)
            let located = BearerCredentials.locate(b, range)
            var ok: Bool?
            if case .token(let r) = located { ok = BearerCredentials.isToken68(b, r) }
            return (BearerCredentials.parse(b, range), located, ok)
        }
    }

    @Test("parse is exactly locate followed by isToken68, for every byte inside a token")
    func composition() {
        for b in 0...255 {
            for value in [Array("Bearer a".utf8) + [UInt8(b)] + Array("z".utf8), Array("Bearer ".utf8) + [UInt8(b)]] {
                let (parsed, located, ok) = Self.split(value)
                switch located {
                case .token(let r):
                    #expect(parsed == (ok == true ? .token(r) : .malformed), "byte \(b)")
                default:
                    #expect(parsed == located, "byte \(b)")
                }
            }
        }
        for value in ["Bearer abc==", "Bearer ==", "Bearer a=b", "Bearer    ", "Bearer", "Basic abc", "bearer x.y.z"] {
            let (parsed, located, ok) = Self.split(Array(value.utf8))
            if case .token(let r) = located {
                #expect(parsed == (ok == true ? .token(r) : .malformed), "\(value)")
            } else {
                #expect(parsed == located, "\(value)")
            }
        }
    }

    static let secret = String(repeating: "k", count: 32)

    static func verifier() throws -> (BearerVerifier, TokenKeys) {
        let keys = try TokenKeys(
            settings: tokenSettings(keys: [envKey("a", "A")]), environment: ["A": secret])
        let auth = AuthRuntime(realm: "test", keys: keys)
        return (BearerVerifier(auth: auth, names: IdentityHeaderNames(), capacity: 8), keys)
    }

    static func token(_ keys: TokenKeys, sub: String, exp: Int64) throws -> [UInt8] {
        let now = nowMillis() / 1000
        let payload =
            #"{"iss":"https://auth.example.com","aud":"api","sub":"\#(sub)","exp":\#(exp),"iat":\#(now),"scope":"read  write","jti":"j-\#(sub)"}"#
        return try keys.keySet.sign(payload: bytes(payload))
    }

    @Test("a token verified twice is answered from the cache with its second grant; others are not")
    func cachedGrant() throws {
        let (v, keys) = try Self.verifier()
        let now = Double(nowMillis() / 1000)
        let t = try Self.token(keys, sub: "alice", exp: Int64(now) + 60)
        // The first verification is only a sighting (the cache's doorkeeper); the second caches.
        let first = try t.withUnsafeBytes { b in
            #expect(v.cached(b, now: now, route: nil) == nil)
            return try v.verify(b, now: now, route: nil).get()
        }
        #expect(first.subject == "alice")
        let grant = try t.withUnsafeBytes { b in
            #expect(v.cached(b, now: now, route: nil) == nil)
            return try v.verify(b, now: now, route: nil).get()
        }
        #expect(grant !== first)
        #expect(grant.subject == "alice")
        #expect(grant.scopes == ["read", "write"])
        #expect(
            String(decoding: grant.identity ?? [], as: UTF8.self)
                == "X-Auth-Subject: alice\r\nX-Auth-Scopes: read write\r\n")
        let hit = try #require(t.withUnsafeBytes { v.cached($0, now: now, route: nil) })
        #expect(try hit.get() === grant)
        // One byte off, in the payload or the signature: not the cached token.
        for position in [t.count / 2, t.count - 2] {
            var u = t
            u[position] = u[position] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            #expect(u.withUnsafeBytes { v.cached($0, now: now, route: nil) } == nil, "byte \(position)")
        }
        // After its exp the cache no longer answers, and verification refuses it.
        #expect(t.withUnsafeBytes { v.cached($0, now: now + 61, route: nil) } == nil)
        let late = t.withUnsafeBytes { v.grant($0, now: now + 120) }
        guard case .failure(.expired) = late else {
            Issue.record("an expired token was accepted: \(late)")
            return
        }
    }

    @Test("a token that fails verification is never cached")
    func failuresNotCached() throws {
        let (v, keys) = try Self.verifier()
        let now = Double(nowMillis() / 1000)
        var t = try Self.token(keys, sub: "bob", exp: Int64(now) + 60)
        t[t.count - 3] = t[t.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        for _ in 0..<2 {
            let r = t.withUnsafeBytes { v.grant($0, now: now) }
            guard case .failure(.badSignature) = r else {
                Issue.record("a bad signature was accepted: \(r)")
                return
            }
            #expect(t.withUnsafeBytes { v.cached($0, now: now, route: nil) } == nil)
        }
    }
}
