import XCTest

@testable import GatewayCore

/// The key cache's timing rules, with the clock in the test's hands (ms).
final class KeyCacheStateTests: XCTestCase {
    typealias State = KeyCacheState<String>
    private let policy = State.Policy(
        minRefresh: 60_000, maxRefresh: 3_600_000, unknownKidInterval: 10_000, maxStaleness: 86_400_000)

    private func fetches(_ actions: [State.Action]) -> [State.FetchReason] {
        actions.compactMap { if case .fetch(let r) = $0 { r } else { nil } }
    }

    private func published(_ actions: [State.Action]) -> [String?] {
        actions.compactMap { if case .publish(let k) = $0 { .some(k) } else { nil } }
    }

    private func logs(_ actions: [State.Action], _ level: State.LogLevel) -> [String] {
        actions.compactMap { if case .log(let l, let m) = $0, l == level { m } else { nil } }
    }

    /// A started cache with one good set fetched at `t`.
    private func ready(at t: Int64 = 0, maxAge: Int64? = nil) -> State {
        var s = State(policy: policy)
        XCTAssertEqual(fetches(s.handle(.start, now: t)), [.startup])
        XCTAssertFalse(s.isReady)
        XCTAssertEqual(published(s.handle(.fetched("k1", maxAge: maxAge), now: t)), ["k1"])
        XCTAssertTrue(s.isReady)
        return s
    }

    func testStartupFetchAndReadiness() {
        var s = State(policy: policy)
        XCTAssertEqual(fetches(s.handle(.start, now: 0)), [.startup])
        // Not ready while the first fetch is out; a failure keeps it unready and retries later.
        XCTAssertEqual(logs(s.handle(.failed("down"), now: 100), .error).count, 1)
        XCTAssertFalse(s.isReady)
        XCTAssertEqual(s.nextWakeup, 100 + 10_000)
        XCTAssertEqual(fetches(s.handle(.tick, now: 5_000)), [])
        XCTAssertEqual(fetches(s.handle(.tick, now: 10_100)), [.retry])
        XCTAssertEqual(published(s.handle(.fetched("k1", maxAge: nil), now: 10_200)), ["k1"])
        XCTAssertTrue(s.isReady)
    }

    func testRefreshFollowsMaxAgeClampedToBounds() {
        var s = ready(at: 0, maxAge: 300_000)
        XCTAssertEqual(s.nextWakeup, 300_000)
        XCTAssertEqual(fetches(s.handle(.tick, now: 299_999)), [])
        XCTAssertEqual(fetches(s.handle(.tick, now: 300_000)), [.refresh])
        // Too short a max-age is raised to min_refresh…
        _ = s.handle(.fetched("k1", maxAge: 1_000), now: 300_000)
        XCTAssertEqual(s.nextWakeup, 360_000)
        XCTAssertEqual(fetches(s.handle(.tick, now: 360_000)), [.refresh])
        // …too long a one (or none) is cut to max_refresh.
        _ = s.handle(.fetched("k1", maxAge: 999_999_999), now: 360_000)
        XCTAssertEqual(s.nextWakeup, 360_000 + 3_600_000)
        _ = s.handle(.tick, now: 3_960_000)
        _ = s.handle(.fetched("k1", maxAge: nil), now: 3_960_000)
        XCTAssertEqual(s.nextWakeup, 3_960_000 + 3_600_000)
    }

    func testUnknownKidFetchesAtMostOncePerInterval() {
        var s = ready(at: 0)
        // Within the interval after the start-up fetch: no fetch now, one when it ends.
        var started = 0
        for t in stride(from: Int64(1_000), to: 10_000, by: 7) {
            started += fetches(s.handle(.unknownKid, now: t)).count
        }
        XCTAssertEqual(started, 0)
        XCTAssertEqual(s.nextWakeup, 10_000)
        XCTAssertEqual(fetches(s.handle(.tick, now: 10_000)), [.unknownKid])
        // While that fetch is out, more unknown kids start nothing.
        for t in stride(from: Int64(10_001), to: 10_500, by: 3) {
            XCTAssertEqual(fetches(s.handle(.unknownKid, now: t)), [])
        }
        _ = s.handle(.fetched("k2", maxAge: nil), now: 10_500)
        // A storm over a minute costs at most one fetch per interval.
        started = 0
        var t: Int64 = 10_500
        while t < 70_500 {
            started += fetches(s.handle(.unknownKid, now: t)).count
            if s.fetching { _ = s.handle(.fetched("k2", maxAge: nil), now: t + 5) }
            if let w = s.nextWakeup, w <= t + 50 {
                started += fetches(s.handle(.tick, now: w)).count
                if s.fetching { _ = s.handle(.fetched("k2", maxAge: nil), now: w + 5) }
            }
            t += 50
        }
        XCTAssertLessThanOrEqual(started, 6)
        XCTAssertGreaterThanOrEqual(started, 5)
    }

    func testRotationSeenAfterOneFetchOnceTheIntervalPassed() {
        var s = ready(at: 0)
        XCTAssertEqual(fetches(s.handle(.unknownKid, now: 20_000)), [.unknownKid])
        XCTAssertEqual(published(s.handle(.fetched("k2", maxAge: nil), now: 20_100)), ["k2"])
        XCTAssertEqual(s.fetches, 2)
        XCTAssertEqual(s.keys, "k2")
    }

    func testFailedFetchKeepsKeysUntilMaxStalenessThenFailsClosed() {
        var s = ready(at: 0, maxAge: 3_600_000)
        XCTAssertEqual(fetches(s.handle(.tick, now: 3_600_000)), [.refresh])
        let a = s.handle(.failed("connection refused"), now: 3_600_100)
        XCTAssertEqual(logs(a, .warning).count, 1)
        XCTAssertEqual(published(a), [])
        XCTAssertTrue(s.isReady)
        XCTAssertEqual(s.keys, "k1")
        // Retries every interval, keys still served.
        var now: Int64 = 3_600_100
        while now < 86_400_000 - 10_000 {
            now = s.nextWakeup!
            if !fetches(s.handle(.tick, now: now)).isEmpty { _ = s.handle(.failed("down"), now: now) }
            XCTAssertTrue(s.isReady || now >= 86_400_000)
        }
        // The wake-up for staleness comes exactly at max_staleness.
        while s.isReady {
            now = s.nextWakeup!
            let acts = s.handle(.tick, now: now)
            if !fetches(acts).isEmpty { _ = s.handle(.failed("down"), now: now) }
            if !s.isReady {
                XCTAssertEqual(now, 86_400_000)
                XCTAssertEqual(published(acts), [nil])
                XCTAssertEqual(logs(acts, .error).count, 1)
                XCTAssertTrue(logs(acts, .error)[0].contains("max_staleness"))
            }
        }
        XCTAssertFalse(s.isReady)
        // A good fetch later brings the issuer back.
        while !s.fetching { _ = s.handle(.tick, now: s.nextWakeup!) }
        XCTAssertEqual(published(s.handle(.fetched("k3", maxAge: nil), now: 90_000_000)), ["k3"])
        XCTAssertTrue(s.isReady)
    }

    func testSeededKeysAreReadyAndAgeFromTheirFetch() {
        var s = State(policy: policy)
        s.seed("old", goodAt: -86_000_000)
        XCTAssertTrue(s.isReady)
        XCTAssertEqual(fetches(s.handle(.start, now: 0)), [.startup])
        XCTAssertEqual(logs(s.handle(.failed("down"), now: 10), .warning).count, 1)
        XCTAssertTrue(s.isReady)
        XCTAssertEqual(s.nextWakeup, 10_010)
        XCTAssertEqual(fetches(s.handle(.tick, now: 10_010)), [.retry])
        _ = s.handle(.failed("down"), now: 10_020)
        XCTAssertEqual(published(s.handle(.tick, now: 400_000)), [nil], "24 h after the carried-over fetch")
        XCTAssertFalse(s.isReady)
    }

    func testSuccessResetsStalenessClock() {
        var s = ready(at: 0, maxAge: 3_600_000)
        _ = s.handle(.tick, now: 3_600_000)
        _ = s.handle(.fetched("k1", maxAge: 3_600_000), now: 3_600_000)
        _ = s.handle(.tick, now: 86_400_000)
        XCTAssertTrue(s.isReady, "the last good set is 22.8 h old, not 24 h")
    }
}
