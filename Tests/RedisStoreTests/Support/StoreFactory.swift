import EventLoop
import Glibc
import RedisStore
import Testing

@testable import TokenStore

/// Opens a fresh Redis store for the shared contract suite (`Contract/`, the same files as
/// `TokenStoreTests` runs against memory and the journal): each test gets its own
/// `redis-server`, stopped by PID in the cleanup.
struct StoreFactory: Sendable, CustomTestStringConvertible {
    let name: String
    let open: @Sendable () throws -> (store: any TokenStore, cleanup: @Sendable () -> Void)

    var testDescription: String { name }

    static let redis = StoreFactory(name: "redis") {
        let server = try RedisServer()
        let store = RedisTokenStore(options: try RedisOptions(url: server.url, keyPrefix: "contract:", clock: { t0 }))
        guard waitUntil(seconds: 10, store.isAvailable) else {
            store.close()
            server.stop()
            throw TestFailure("redis store not available within 10 s")
        }
        return (
            store,
            {
                store.close(); server.stop()
            }
        )
    }

    static let all: [StoreFactory] = [.redis]

    /// Starting and stopping servers blocks (bounded waits): done on a thread of its own,
    /// never on the Swift concurrency pool, so other tests' timings are not disturbed.
    func with(_ body: (any TokenStore) async throws -> Void) async throws {
        let (store, cleanup) = try await offPool(open)
        do {
            try await body(store)
        } catch {
            try await offPool(cleanup)
            throw error
        }
        try await offPool(cleanup)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 10 ms for at most `seconds`.
func waitUntil(seconds: Double, _ condition: @autoclosure () -> Bool) -> Bool {
    let deadline = monotonicMillis() + Int64(seconds * 1000)
    while monotonicMillis() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// The async form: sleeps between polls instead of blocking a pool thread.
func eventually(seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = monotonicMillis() + Int64(seconds * 1000)
    while monotonicMillis() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return condition()
}

/// Runs blocking work (process start and stop, polling) on a new thread and awaits it.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        Thread.spawn(name: "test-blocking") { c.resume(with: Result { try body() }) }
    }
}

func monotonicMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
