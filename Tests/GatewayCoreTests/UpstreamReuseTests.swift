import EventLoop
import Testing
import TokenStore

@testable import GatewayCore

@Suite("Upstream connection reuse")
struct UpstreamReuseTests {
    private let clean = UpstreamReuse.AnswerEnd(
        upstreamKeepAlive: true, closeDelimited: false, requestBodyDone: true, upgraded: false,
        leftoverBytes: 0, unsentBytes: 0, pending: .nothing)

    @Test("an answer that ended exactly at its framing, with nothing more, is poolable")
    func cleanPools() {
        #expect(UpstreamReuse.refusal(clean) == nil)
    }

    @Test("bytes past the answer's end, read or still in the socket, close the connection")
    func leftovers() {
        var e = clean
        e.leftoverBytes = 1
        #expect(UpstreamReuse.refusal(e) == .leftoverBytes)
        e = clean
        e.pending = .bytes
        #expect(UpstreamReuse.refusal(e) == .unreadInput)
        e.pending = .endOfStream
        #expect(UpstreamReuse.refusal(e) == .unreadInput)
        e.pending = .failed(errno: 104)
        #expect(UpstreamReuse.refusal(e) == .unreadInput)
    }

    @Test("leftover bytes win over every other reason, so a violation is always named")
    func leftoverFirst() {
        let e = UpstreamReuse.AnswerEnd(
            upstreamKeepAlive: false, closeDelimited: true, requestBodyDone: false, upgraded: false,
            leftoverBytes: 10, unsentBytes: 5, pending: .bytes)
        #expect(UpstreamReuse.refusal(e) == .leftoverBytes)
    }

    @Test("other reasons not to pool")
    func otherReasons() {
        var e = clean
        e.upstreamKeepAlive = false
        #expect(UpstreamReuse.refusal(e) == .upstreamClosing)
        e = clean
        e.closeDelimited = true
        #expect(UpstreamReuse.refusal(e) == .closeDelimited)
        e = clean
        e.requestBodyDone = false
        #expect(UpstreamReuse.refusal(e) == .requestUnfinished)
        e = clean
        e.upgraded = true
        #expect(UpstreamReuse.refusal(e) == .upgraded)
        e = clean
        e.unsentBytes = 1
        #expect(UpstreamReuse.refusal(e) == .unsentOutput)
    }

    @Test("hand-off only when the idle connection holds nothing and is open")
    func handOff() {
        #expect(UpstreamReuse.mayHandOff(.nothing))
        #expect(!UpstreamReuse.mayHandOff(.bytes))
        #expect(!UpstreamReuse.mayHandOff(.endOfStream))
        #expect(!UpstreamReuse.mayHandOff(.failed(errno: 104)))
    }

    @Test("Sec-WebSocket-Accept of RFC 6455 §1.3's example key")
    func acceptValue() {
        let v = WebSocketAccept.value(forKey: Array("dGhlIHNhbXBsZSBub25jZQ==".utf8))
        #expect(String(decoding: v, as: UTF8.self) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(String(decoding: WebSocketAccept.base64(Array("ab".utf8)), as: UTF8.self) == "YWI=")
        #expect(String(decoding: WebSocketAccept.base64(Array("a".utf8)), as: UTF8.self) == "YQ==")
        #expect(String(decoding: WebSocketAccept.base64(Array("abc".utf8)), as: UTF8.self) == "YWJj")
    }
}

@Suite("Tunnel index")
struct TunnelIndexTests {
    final class Owner {}

    @Test("revocation of the session or the token finds exactly the tunnels it covers")
    func revoked() {
        var index = TunnelIndex<Owner>()
        let a = Owner()
        let b = Owner()
        let c = Owner()
        index.add(a, sid: "s1", jti: "j1", closesAt: nil)
        index.add(b, sid: "s2", jti: "j2", closesAt: nil)
        index.add(c, sid: "s1", jti: "j3", closesAt: nil)
        var list = RevocationList()
        #expect(index.revoked(by: list, now: 0).isEmpty)
        list.apply(Revocation(target: .family(sid: "s1"), expiresAt: 1_000))
        let hit = index.revoked(by: list, now: 500)
        #expect(hit.count == 2 && hit.contains { $0 === a } && hit.contains { $0 === c })
        list.apply(Revocation(target: .token(jti: "j2"), expiresAt: 1_000))
        #expect(index.revoked(by: list, now: 500).count == 3)
        index.remove(a)
        index.remove(c)
        #expect(index.revoked(by: list, now: 500).map { $0 === b } == [true])
        #expect(index.count == 1)
    }

    @Test("expiry: due tunnels once, none before their time")
    func expiry() {
        var index = TunnelIndex<Owner>()
        let early = Owner()
        let late = Owner()
        let never = Owner()
        index.add(early, sid: nil, jti: nil, closesAt: 1_000)
        index.add(late, sid: nil, jti: nil, closesAt: 2_000)
        index.add(never, sid: nil, jti: nil, closesAt: nil)
        #expect(index.expired(now: 999).isEmpty)
        #expect(index.expired(now: 1_000).map { $0 === early } == [true])
        index.remove(early)
        #expect(index.expired(now: 1_500).isEmpty)
        #expect(index.expired(now: 5_000).map { $0 === late } == [true])
        index.remove(late)
        #expect(index.expired(now: .max - 1).isEmpty)
        #expect(index.count == 1)
    }
}
