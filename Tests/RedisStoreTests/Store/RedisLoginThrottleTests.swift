import Glibc
import Synchronization
import Testing
import TokenStore

@testable import RedisStore

@Suite("Redis login throttle")
struct RedisLoginThrottleTests {
    func call(_ body: (@escaping @Sendable (Result<Int64, TokenStoreError>) -> Void) -> Void) async throws -> Int64 {
        try await withCheckedContinuation { c in body { c.resume(returning: $0) } }.get()
    }

    func reserve(_ t: any LoginThrottle, _ keys: [ThrottleKey]) async throws -> Int64 {
        try await call { t.reserve(keys, now: RedisOptions.wallClock(), completion: $0) }
    }

    func peek(_ t: any LoginThrottle, _ keys: [ThrottleKey]) async throws -> Int64 {
        try await call { t.retryAfter(keys, now: RedisOptions.wallClock(), completion: $0) }
    }

    func release(_ t: any LoginThrottle, _ keys: [ThrottleKey]) async throws {
        try await withCheckedContinuation { c in
            t.release(keys, now: RedisOptions.wallClock()) { c.resume(returning: $0) }
        }.get()
    }

    func reset(_ t: any LoginThrottle, _ key: ThrottleKey) async throws {
        try await withCheckedContinuation { c in t.reset(key) { c.resume(returning: $0) } }.get()
    }

    /// The same sequence against the memory and the Redis throttle gives the same answers
    /// (zero or not, and never more than the window).
    @Test func matchesTheMemoryThrottle() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let store = try await openStore(server, prefix: "thr:")
        defer { store.close() }
        let throttles: [any LoginThrottle] = [MemoryLoginThrottle(), RedisLoginThrottle(sharing: store)]
        // Windows long enough that a loaded machine cannot eat into them between the calls.
        let user = ThrottleKey(name: "u:alice", limit: 3, window: 60_000)
        let address = ThrottleKey(name: "a:10.0.0.1", limit: 5, window: 60_000)
        for t in throttles {
            #expect(try await peek(t, [user, address]) == 0)
            for _ in 0..<3 { #expect(try await reserve(t, [user, address]) == 0) }
            let wait = try await reserve(t, [user, address])
            #expect(wait > 30_000 && wait <= 60_000)
            let later = try await peek(t, [user, address])
            #expect(later > 0 && later <= wait)
            // The refused reservation counted nothing: the address has two slots left.
            #expect(try await peek(t, [address]) == 0)
            #expect(try await reserve(t, [address]) == 0)
            #expect(try await reserve(t, [address]) == 0)
            #expect(try await reserve(t, [address]) > 0)
            try await release(t, [address])
            #expect(try await reserve(t, [address]) == 0)
            try await reset(t, user)
            #expect(try await peek(t, [user, address]) > 0)
            #expect(try await peek(t, [user]) == 0)
            #expect(try await peek(t, []) == 0)
        }
    }

    /// Many connections racing on one key: exactly `limit` reservations are granted. A GET
    /// and an INCR in two round trips would let most of them through.
    @Test func concurrentReservationsNeverExceedTheLimit() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let throttles = try (0..<4).map { _ in
            RedisLoginThrottle(options: try RedisOptions(url: server.url, keyPrefix: "race:"))
        }
        defer { for t in throttles { t.close() } }
        let limit = 5
        for round in 0..<5 {
            let user = ThrottleKey(name: "u:carol\(round)", limit: limit, window: 60_000)
            let address = ThrottleKey(name: "a:10.0.0.\(round)", limit: limit + 1, window: 60_000)
            let granted = try await withThrowingTaskGroup(of: Int64.self) { group in
                for i in 0..<40 {
                    let t = throttles[i % throttles.count]
                    group.addTask { try await reserve(t, [user, address]) }
                }
                var n = 0
                for try await wait in group where wait == 0 { n += 1 }
                return n
            }
            #expect(granted == limit)
            #expect(try await reserve(throttles[0], [address]) == 0)
        }
    }

    @Test func countersAreSharedAcrossInstancesAndWindowsExpire() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let a = RedisLoginThrottle(options: try RedisOptions(url: server.url, keyPrefix: "thr:"))
        let b = RedisLoginThrottle(options: try RedisOptions(url: server.url, keyPrefix: "thr:"))
        defer { a.close(); b.close() }
        // A 4 s window: a loaded machine took over 1 s between the first reserve and the
        // peek, so a 1 s window had expired by then.
        let key = ThrottleKey(name: "u:bob", limit: 2, window: 4_000)
        #expect(try await reserve(a, [key]) == 0)
        #expect(try await reserve(b, [key]) == 0)
        #expect(try await reserve(b, [key]) > 0)
        #expect(try await peek(a, [key]) > 0)
        try await Task.sleep(nanoseconds: 4_300_000_000)
        #expect(try await peek(a, [key]) == 0)
        #expect(try await reserve(b, [key]) == 0)  // a new window
    }

    @Test func unavailableWhenRedisIsDown() async throws {
        let throttle = RedisLoginThrottle(
            options: try RedisOptions(url: "redis://127.0.0.1:\(RedisServer.freePort())", commandTimeout: 300)
        )
        defer { throttle.close() }
        let key = ThrottleKey(name: "u:x", limit: 1, window: 1_000)
        await #expect(throws: TokenStoreError.self) { try await reserve(throttle, [key]) }
    }
}
