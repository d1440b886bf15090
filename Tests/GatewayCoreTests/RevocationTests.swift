import Dispatch
import EventLoop
import Synchronization
import Testing
import TokenStore

@testable import GatewayCore

@Suite("Revocation list")
struct RevocationListTests {
    @Test("revoked by sid or by jti until the entry expires")
    func bySidAndJti() {
        var list = RevocationList()
        list.apply(Revocation(target: .family(sid: "fam-1"), expiresAt: 10_000))
        list.apply(Revocation(target: .token(jti: "jti-1"), expiresAt: 20_000))
        #expect(list.count == 2)
        #expect(list.isRevoked(sid: "fam-1", jti: "other", now: 9_999))
        #expect(list.isRevoked(sid: "fam-1", jti: nil, now: 0))
        #expect(!list.isRevoked(sid: "fam-1", jti: nil, now: 10_000))
        #expect(list.isRevoked(sid: "fam-2", jti: "jti-1", now: 19_999))
        #expect(list.isRevoked(sid: nil, jti: "jti-1", now: 15_000))
        #expect(!list.isRevoked(sid: nil, jti: "jti-1", now: 20_000))
        #expect(!list.isRevoked(sid: "fam-2", jti: "jti-2", now: 0))
        #expect(!list.isRevoked(sid: nil, jti: nil, now: 0))
        // A sid is not a jti and vice versa.
        #expect(!list.isRevoked(sid: "jti-1", jti: "fam-1", now: 0))
    }

    @Test("a later, shorter revocation does not shorten an entry")
    func keepsLongest() {
        var list = RevocationList()
        list.apply(Revocation(target: .family(sid: "f"), expiresAt: 50_000))
        list.apply(Revocation(target: .family(sid: "f"), expiresAt: 10_000))
        #expect(list.isRevoked(sid: "f", jti: nil, now: 40_000))
        list.apply(Revocation(target: .family(sid: "f"), expiresAt: 90_000))
        #expect(list.isRevoked(sid: "f", jti: nil, now: 80_000))
        #expect(list.count == 1)
    }

    @Test("sweep forgets expired entries, at most every 10 s")
    func sweep() {
        var list = RevocationList()
        list.apply(Revocation(target: .family(sid: "old"), expiresAt: 1_000))
        list.apply(Revocation(target: .token(jti: "old"), expiresAt: 1_000))
        list.apply(Revocation(target: .family(sid: "new"), expiresAt: 100_000))
        list.sweep(now: 2_000)
        #expect(list.count == 1)
        #expect(list.all == [Revocation(target: .family(sid: "new"), expiresAt: 100_000)])
        list.apply(Revocation(target: .token(jti: "short"), expiresAt: 3_000))
        list.sweep(now: 5_000)  // not due yet
        #expect(list.count == 2)
        list.sweep(now: 12_000)
        #expect(list.count == 1)
    }
}

/// A thread-safe list of what workers applied.
private final class Applied: Sendable {
    let items = Mutex<[String: [Revocation]]>([:])
    func add(_ worker: String, _ r: [Revocation]) { items.withLock { $0[worker, default: []] += r } }
    func of(_ worker: String) -> [Revocation] { items.withLock { $0[worker] ?? [] } }
}

@Suite("Revocation hub")
struct RevocationHubTests {
    @Test("register returns the master copy; broadcast reaches every loop before done")
    func broadcast() throws {
        let hub = RevocationHub()
        let now: Int64 = 1_000_000
        let early = Revocation(target: .family(sid: "early"), expiresAt: now + 60_000)
        hub.broadcast([early], now: now)
        #expect(hub.count == 1)

        let group = try EventLoopGroup(count: 2)
        let started = DispatchSemaphore(value: 0)
        group.start(name: "hub-test") { _ in started.signal() }
        defer { group.stop() }
        for _ in group.loops { #expect(started.wait(timeout: .now() + 5) == .success) }

        let applied = Applied()
        var copies: [RevocationList] = []
        for loop in group.loops {
            let name = "w\(loop.index)"
            copies.append(
                hub.register(loop: loop) { r in
                    precondition(loop.inEventLoop)
                    applied.add(name, r)
                })
        }
        for copy in copies {
            #expect(copy.isRevoked(sid: "early", jti: nil, now: now))
            #expect(copy.count == 1)
        }

        let later = Revocation(target: .token(jti: "t1"), expiresAt: now + 60_000)
        let done = DispatchSemaphore(value: 0)
        hub.broadcast([later], now: now) { done.signal() }
        #expect(done.wait(timeout: .now() + 5) == .success)
        // `done` runs only after every worker applied it.
        #expect(applied.of("w0") == [later])
        #expect(applied.of("w1") == [later])
        #expect(hub.count == 2)

        // Nothing to send: done at once, nobody called.
        let empty = DispatchSemaphore(value: 0)
        hub.broadcast([], now: now) { empty.signal() }
        #expect(empty.wait(timeout: .now() + 5) == .success)
        #expect(applied.of("w0").count == 1)
    }

    @Test("the master copy drops expired revocations")
    func masterSweeps() {
        let hub = RevocationHub()
        hub.broadcast([Revocation(target: .family(sid: "f"), expiresAt: 5_000)], now: 1_000)
        #expect(hub.count == 1)
        hub.broadcast([], now: 20_000)
        #expect(hub.count == 0)
    }
}

@Suite("Login throttle (memory)")
struct MemoryLoginThrottleTests {
    private func result(_ body: (@escaping @Sendable (Result<Int64, TokenStoreError>) -> Void) -> Void) -> Int64? {
        let box = Mutex<Int64?>(nil)
        body { r in box.withLock { $0 = try? r.get() } }  // completions run synchronously
        return box.withLock { $0 }
    }

    private func done(_ body: (@escaping @Sendable (Result<Void, TokenStoreError>) -> Void) -> Void) {
        body { _ in }
    }

    @Test("reservations: limit, Retry-After, release, reset and window expiry")
    func throttle() {
        let t = MemoryLoginThrottle()
        let user = ThrottleKey(name: "u:alice", limit: 3, window: 10_000)
        let address = ThrottleKey(name: "a:10.0.0.1", limit: 5, window: 10_000)
        #expect(result { t.retryAfter([user, address], now: 0, completion: $0) } == 0)
        #expect(result { t.reserve([user, address], now: 0, completion: $0) } == 0)
        #expect(result { t.reserve([user, address], now: 1_000, completion: $0) } == 0)
        #expect(result { t.reserve([user, address], now: 2_000, completion: $0) } == 0)
        // The user's budget is spent: refused, and the refusal counts nothing (all or nothing).
        #expect(result { t.reserve([user, address], now: 3_000, completion: $0) } == 7_000)
        #expect(result { t.retryAfter([user, address], now: 4_000, completion: $0) } == 6_000)
        #expect(result { t.retryAfter([address], now: 4_000, completion: $0) } == 0)
        #expect(result { t.reserve([address], now: 4_000, completion: $0) } == 0)
        #expect(result { t.reserve([address], now: 4_000, completion: $0) } == 0)
        #expect(result { t.reserve([address], now: 4_000, completion: $0) } == 6_000)
        // A released slot can be taken again.
        done { t.release([address], now: 4_000, completion: $0) }
        #expect(result { t.reserve([address], now: 4_000, completion: $0) } == 0)
        // The window ends 10 s after the first guess.
        #expect(result { t.retryAfter([user], now: 10_000, completion: $0) } == 0)
        for k in 0..<3 { #expect(result { t.reserve([user], now: 10_000 + Int64(k), completion: $0) } == 0) }
        #expect(result { t.reserve([user], now: 11_000, completion: $0) } == 9_000)
        t.reset(user) { _ in }
        #expect(result { t.retryAfter([user], now: 11_000, completion: $0) } == 0)
        #expect(result { t.reserve([user], now: 11_000, completion: $0) } == 0)
    }

    @Test("bounded: past capacity, expired windows go first")
    func capacity() {
        let t = MemoryLoginThrottle(capacity: 2)
        let a = ThrottleKey(name: "a", limit: 1, window: 1_000)
        let b = ThrottleKey(name: "b", limit: 1, window: 1_000)
        let c = ThrottleKey(name: "c", limit: 1, window: 1_000)
        #expect(result { t.reserve([a], now: 0, completion: $0) } == 0)
        #expect(result { t.reserve([a], now: 0, completion: $0) } == 1_000)
        #expect(result { t.reserve([b], now: 500, completion: $0) } == 0)
        // Table full, nothing expired: c is not tracked.
        #expect(result { t.reserve([c], now: 600, completion: $0) } == 0)
        #expect(result { t.retryAfter([c], now: 600, completion: $0) } == 0)
        // a's window is over: room for c.
        #expect(result { t.reserve([c], now: 1_200, completion: $0) } == 0)
        #expect(result { t.retryAfter([c], now: 1_200, completion: $0) } == 1_000)
        #expect(result { t.retryAfter([b], now: 1_200, completion: $0) } == 300)
    }

    /// Threads racing on one key: exactly `limit` reservations succeed, however they interleave
    /// (a check and a count in two steps lets several pass the check before any is counted).
    @Test("concurrent reservations never exceed the limit", arguments: [1, 5, 17])
    func concurrent(limit: Int) {
        for round in 0..<20 {
            let t = MemoryLoginThrottle()
            let user = ThrottleKey(name: "u:carol", limit: limit, window: 60_000)
            let address = ThrottleKey(name: "a:10.0.0.\(round)", limit: limit + 1, window: 60_000)
            let granted = Mutex(0)
            DispatchQueue.concurrentPerform(iterations: 64) { _ in
                t.reserve([user, address], now: 1_000) { r in
                    if case .success(0) = r { granted.withLock { $0 += 1 } }
                }
            }
            #expect(granted.withLock { $0 } == limit)
            // Refused reservations counted nothing against the address.
            #expect(result { t.reserve([address], now: 1_000, completion: $0) } == 0)
        }
    }
}

@Suite("Epoch milliseconds")
struct EpochMillisTests {
    @Test func saturates() {
        #expect(epochMillis(1.5) == 1500)
        #expect(epochMillis(253_402_300_799) == 253_402_300_799_000)
        #expect(epochMillis(9.3e15) == .max)
        #expect(epochMillis(-1e20) == .min)
        #expect(epochMillis(.infinity) == .max)
        #expect(epochMillis(.nan) == 0)
        #expect(saturatingSum(.max, 30_000) == .max)
        #expect(saturatingSum(.min, -1) == .min)
        #expect(saturatingSum(1, 2) == 3)
    }
}
