import Dispatch
import Synchronization
import Testing

@testable import RedisStore
@testable import TokenStore

/// Behaviour only a shared store has: several instances on one Redis, pub/sub fan-out,
/// restarts, and what is in Redis itself. The contract (`Contract/`) covers the semantics.
@Suite("Redis token store")
struct RedisTokenStoreTests {
    @Test func revocationByOneInstanceReachesTheOthersListenerWithinASecond() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let a = try await openStore(server, instance: "A"), b = try await openStore(server, instance: "B")
        defer { a.close(); b.close() }
        let heardByA = ListenerLog(), heardByB = ListenerLog()
        a.setRevocationListener(heardByA.listener)
        b.setRevocationListener(heardByB.listener)
        try await Task.sleep(nanoseconds: 300_000_000)  // the initial resync of each listener

        let fam = TestFamily()
        try await a.create(fam.newFamily(now: t0)).get()
        let started = monotonicMillis()
        let revocation = try #require(try await a.revoke(sid: fam.sid, ttl: revocationTTL, now: t0))
        #expect(await eventually(seconds: 1) { heardByB.contains(revocation) })
        #expect(monotonicMillis() - started < 1_000)
        // B sees the family revoked too, and A does not hear its own revocation.
        #expect(try await b.rotateNow(fam.rotation(now: t0 + 1)) == .rejected(.revoked))
        #expect(!heardByA.contains(revocation))

        // The other way, with a single token and "logout everywhere".
        let token = try await b.revoke(jti: "jti-b", until: t0 + minute, now: t0)
        #expect(await eventually(seconds: 1) { heardByA.contains(token) })
        let phone = TestFamily(subject: "carol"), laptop = TestFamily(subject: "carol")
        try await b.create(phone.newFamily(now: t0)).get()
        try await b.create(laptop.newFamily(now: t0)).get()
        let all = try await a.revokeAll(subject: "carol", ttl: revocationTTL, now: t0)
        #expect(all.count == 2)
        #expect(await eventually(seconds: 1) { all.allSatisfy(heardByB.contains) })
    }

    @Test(arguments: [Int64(10_000), 0])
    func concurrentRotationFromTwoInstancesHasOneWinner(grace: Int64) async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let a = try await openStore(server, instance: "A"), b = try await openStore(server, instance: "B")
        defer { a.close(); b.close() }
        let fam = TestFamily()
        try await a.create(fam.newFamily(now: t0)).get()

        async let fromA = rotateConcurrently(a, count: 24) { _ in fam.rotation(now: t0 + 1, grace: grace) }
        async let fromB = rotateConcurrently(b, count: 24) { _ in fam.rotation(now: t0 + 1, grace: grace) }
        let outcomes = try (await fromA + fromB).map { try $0.get() }
        let winners = outcomes.compactMap { if case .rotated(let s) = $0 { return s } else { return nil } }
        #expect(winners.count == 1)
        if grace > 0 {
            // Every loser replays the winner's pair: one branch.
            let replays = outcomes.compactMap { o -> String? in
                if case .graceReplay(_, _, let jti) = o { return jti } else { return nil }
            }
            #expect(replays.count == outcomes.count - 1)
            #expect(Set(replays).count == 1)
        } else {
            #expect(
                outcomes.allSatisfy { o in
                    switch o {
                    case .rotated, .reuseDetected, .rejected(.revoked): return true
                    default: return false
                    }
                }
            )
            #expect(try await a.rotateNow(fam.rotation(now: t0 + 2)) == .rejected(.revoked))
        }
    }

    @Test func restartReconnectsResyncsAndKeepsAcknowledgedData() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let store = try await openStore(server, commandTimeout: 1_000)
        defer { store.close() }
        let heard = ListenerLog()
        store.setRevocationListener(heard.listener)

        let live = TestFamily(), revoked = TestFamily()
        try await store.create(live.newFamily(now: t0)).get()
        try await store.create(revoked.newFamily(now: t0)).get()
        let familyRevocation = try #require(try await store.revoke(sid: revoked.sid, ttl: revocationTTL, now: t0))
        let tokenRevocation = try await store.revoke(jti: "jti-r", until: t0 + 10 * minute, now: t0)
        // The last acknowledged write before the crash.
        let last = TestFamily()
        try await store.create(last.newFamily(now: t0)).get()
        try await Task.sleep(nanoseconds: 200_000_000)
        heard.clear()

        server.kill()  // SIGKILL: only what was fsync'd survives
        #expect(await eventually(seconds: 3) { !store.isAvailable })
        let started = monotonicMillis()
        let failed = await store.create(TestFamily().newFamily(now: t0))
        #expect(failed.failure.map { if case .unavailable = $0 { true } else { false } } == true)
        #expect(monotonicMillis() - started < 1_500, "a call while Redis is down must not hang")

        try await server.restartAsync()
        #expect(await eventually(seconds: 10) { store.isAvailable })
        // Resync: the listener got every revocation in force, without any new revocation.
        #expect(heard.contains(familyRevocation))
        #expect(heard.contains(tokenRevocation))
        // Acknowledged data survived.
        guard case .rotated = try await store.rotateNow(live.rotation(now: t0 + 1)) else {
            Issue.record("family lost in the restart")
            return
        }
        guard case .rotated = try await store.rotateNow(last.rotation(now: t0 + 1)) else {
            Issue.record("last acknowledged family lost in the restart")
            return
        }
        #expect(try await store.rotateNow(revoked.rotation(now: t0 + 1)) == .rejected(.revoked))
        #expect(try await store.revocations(now: t0 + 1) == [familyRevocation, tokenRevocation])
    }

    @Test func unreachableRedisFailsFast() async throws {
        let port = RedisServer.freePort()  // nothing listens there
        let options = try RedisOptions(url: "redis://127.0.0.1:\(port)", connectTimeout: 500, commandTimeout: 5_000)
        let store = RedisTokenStore(options: options)
        defer { store.close() }
        try await Task.sleep(nanoseconds: 100_000_000)
        #expect(!store.isAvailable)
        for _ in 0..<3 {
            let started = monotonicMillis()
            let result = await store.call { store.activeRevocations(now: t0, completion: $0) }
            #expect(result.failure.map { if case .unavailable = $0 { true } else { false } } == true)
            #expect(monotonicMillis() - started < 1_500, "fails fast, long before the 5 s command timeout")
        }
    }

    @Test func familyKeysExpireWithTheirRefreshToken() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let store = try await openStore(server, prefix: "ttl:")
        defer { store.close() }
        let raw = try await RawRedis.open(url: server.url)
        defer { raw.close() }
        let fam = TestFamily()
        try await store.create(fam.newFamily(now: t0, ttl: 10 * minute)).get()
        for key in ["ttl:f:\(fam.sid)", "ttl:l:\(fam.lookupKey.hex)", "ttl:s:alice"] {
            let ttl = try await raw.value("PTTL", key).int64 ?? -9
            #expect(ttl > 9 * minute && ttl <= 10 * minute, "\(key): \(ttl)")
        }
        _ = try await store.revoke(sid: fam.sid, ttl: revocationTTL, now: t0)
        let revTTL = try await raw.value("PTTL", "ttl:rev").int64 ?? -9
        #expect(revTTL > revocationTTL - minute && revTTL <= revocationTTL)
        // A rotation extends them.
        _ = try await store.rotateNow(TestFamily().rotation(now: t0))
    }

    @Test func scriptIsReloadedAfterScriptFlush() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let store = try await openStore(server)
        defer { store.close() }
        let raw = try await RawRedis.open(url: server.url)
        defer { raw.close() }
        _ = try await raw.value("SCRIPT", "FLUSH")
        #expect(try await raw.value("SCRIPT", "EXISTS", RedisScripts.store.sha1) == .array([.integer(0)]))
        try await store.create(TestFamily().newFamily(now: t0)).get()
        // EVAL after NOSCRIPT cached it again, under the name this client computes.
        #expect(try await raw.value("SCRIPT", "EXISTS", RedisScripts.store.sha1) == .array([.integer(1)]))
        #expect(
            try await raw.value("SCRIPT", "LOAD", RedisScripts.throttle.source).string == RedisScripts.throttle.sha1
        )
    }

    @Test func selectsTheURLsDatabase() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let store = try await openStore(server, prefix: "db:", url: server.url + "/3")
        defer { store.close() }
        try await store.create(TestFamily().newFamily(now: t0)).get()
        let raw0 = try await RawRedis.open(url: server.url), raw3 = try await RawRedis.open(url: server.url + "/3")
        defer { raw0.close(); raw3.close() }
        #expect(try await raw3.value("EXISTS", "db:clock") == .integer(1))
        #expect(try await raw0.value("EXISTS", "db:clock") == .integer(0))
    }

    @Test func passwordFromTheURLOrTheOverride() async throws {
        let server = try await RedisServer.start(extraArguments: ["--requirepass", "s3cret-pw"])
        defer { server.stop() }
        let inURL = try await openStore(server, url: "redis://:s3cret-pw@127.0.0.1:\(server.port)")
        defer { inURL.close() }
        try await inURL.create(TestFamily().newFamily(now: t0)).get()
        let fromEnv = try await openStore(server, password: "s3cret-pw")
        defer { fromEnv.close() }
        #expect(try await fromEnv.revocations(now: t0).isEmpty)

        let wrong = try await openStore(server, password: "wrong", waitAvailable: false)
        defer { wrong.close() }
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(!wrong.isAvailable)
        let result = await wrong.create(TestFamily().newFamily(now: t0))
        guard case .failure(.unavailable(let reason)) = result else {
            Issue.record("expected unavailable, got \(result)")
            return
        }
        #expect(!reason.contains("wrong"))
    }

    @Test func aclUserAndPassword() async throws {
        let server = try await RedisServer.start(extraArguments: [
            "--user", "gateway", "on", ">gw-pass", "~*", "&*", "+@all",
        ])
        defer { server.stop() }
        let store = try await openStore(server, url: "redis://gateway:gw-pass@127.0.0.1:\(server.port)")
        defer { store.close() }
        try await store.create(TestFamily().newFamily(now: t0)).get()
    }

    @Test func closeWhileCallsAreInFlightCompletesEveryCall() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let store = try await openStore(server)
        let fam = TestFamily()
        try await store.create(fam.newFamily(now: t0)).get()
        let answered = Atomic<Int>(0)
        let count = 400
        DispatchQueue.global().async {
            DispatchQueue.concurrentPerform(iterations: count) { i in
                store.rotate(fam.rotation(now: t0 + 1)) { result in
                    switch result {
                    case .success, .failure(.closed), .failure(.unavailable): answered.add(1, ordering: .relaxed)
                    case .failure(.conflict): break
                    }
                }
                if i == count / 2 { store.close() }
            }
        }
        #expect(await eventually(seconds: 5) { answered.load(ordering: .relaxed) == count })
        #expect(await store.create(TestFamily().newFamily(now: t0)).failure == .closed)
    }

    @Test func oversizedRequestsAreRefusedBeforeRedis() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let store = try await openStore(server)
        defer { store.close() }
        var fam = TestFamily().newFamily(now: t0)
        fam.claims = [UInt8](repeating: 32, count: 256 * 1024 + 1)
        #expect(await store.create(fam).failure == .unavailable(reason: "claims longer than 262144 bytes"))
        let jti = String(repeating: "j", count: 1025)
        let r = await store.call { store.revokeToken(jti: jti, expiresAt: t0 + 1, now: t0, completion: $0) }
        #expect(r.failure == .unavailable(reason: "jti longer than 1024 bytes"))
    }
}
