import Testing

@testable import TokenStore

@Suite("Journal compaction")
struct JournalCompactionTests {
    @Test func snapshotPlusLogReplayEqualsState() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        var store = try fx.open()
        var (fams, now) = try await workload(store)
        #expect(await store.compactAndWait())
        #expect(store.statistics.compactions == 1)
        #expect(FileSystem.exists(fx.layout.snapshotPath))
        #expect(!FileSystem.exists(fx.layout.logPath(1)))
        // More changes after the snapshot, in log 2.
        for i in 1..<fams.count {
            let r = fams[i].rotation(now: now)
            _ = try await store.rotateNow(r)
            fams[i] = fams[i].rotated(by: r)
        }
        now += 1
        _ = try await store.revoke(sid: fams[2].sid, ttl: revocationTTL, now: now)
        let expected = await store.image(at: now)
        store.close()

        store = try fx.open()
        defer { store.close() }
        #expect(await store.image(at: now) == expected)
        guard case .rotated = try await store.rotateNow(fams[3].rotation(now: now + 1)) else {
            Issue.record("current token lost across snapshot + log replay")
            return
        }
    }

    /// The used tokens a family remembers for reuse detection survive a snapshot and a replay.
    @Test func usedTokensSurviveSnapshotAndReplay() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        var store = try fx.open()
        var gen = TestFamily()
        try await store.create(gen.newFamily(now: t0)).get()
        var used: [TestFamily] = []
        for k in 0..<6 {
            if k == 3 { #expect(await store.compactAndWait()) }
            let r = gen.rotation(now: t0 + Int64(k) * minute)
            _ = try await store.rotateNow(r)
            used.append(gen)
            gen = gen.rotated(by: r)
        }
        store.close()
        store = try fx.open()
        defer { store.close() }
        #expect(
            try await store.rotateNow(used[1].rotation(presenting: randomDigest(), now: t0 + 9 * minute))
                == .rejected(.unknown))
        #expect(try await store.rotateNow(used[1].rotation(now: t0 + 10 * minute)).isRevocation)
    }

    @Test func compactionDropsDeadFamiliesAndLapsedRevocations() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        var store = try fx.open()
        for _ in 0..<10 { try await store.create(TestFamily().newFamily(now: t0, ttl: minute)).get() }
        let keep = (0..<5).map { _ in TestFamily() }
        for f in keep { try await store.create(f.newFamily(now: t0)).get() }
        _ = try await store.revoke(jti: "short", until: t0 + minute, now: t0)
        _ = try await store.revoke(jti: "long", until: t0 + 60 * minute, now: t0)
        // Time passes (the store's clock follows the operations).
        let now = t0 + 2 * minute
        try await store.create(TestFamily().newFamily(now: now)).get()
        let expected = await store.image(at: now)
        #expect(await store.compactAndWait())

        let (snapshot, next) = try #require(try Snapshot.load(fx.layout))
        #expect(next == 2)
        #expect(snapshot.families.count == 6)
        #expect(snapshot.revocations.keys.map { $0 } == [.token(jti: "long")])
        #expect(snapshot.sidByLookup.count == 6)
        #expect(snapshot.clock == now)
        store.close()

        store = try fx.open()
        defer { store.close() }
        #expect(await store.image(at: now) == expected)
    }

    @Test func thresholdTriggersCompactionAndStateSurvives() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        var store = try fx.open(threshold: 4096)
        var (fams, now) = try await workload(store, families: 8)
        for _ in 0..<40 {
            for i in 1..<fams.count {
                let r = fams[i].rotation(now: now)
                guard case .rotated = try await store.rotateNow(r) else { Issue.record("rotation refused"); return }
                fams[i] = fams[i].rotated(by: r)
                now += 10
            }
        }
        store.waitForCompaction()
        #expect(store.statistics.compactions >= 2)
        let expected = await store.image(at: now)
        store.close()
        let logs = try fx.layout.logSequences()
        #expect(logs.count <= 2, "old logs kept: \(logs)")

        store = try fx.open()
        defer { store.close() }
        #expect(await store.image(at: now) == expected)
    }

    /// A crash at each step of a compaction leaves files from which the same state recovers.
    @Test(arguments: [
        CompactionCrashPoint.afterRollover, .midSnapshot, .beforeRename, .afterRename,
    ])
    func crashDuringCompactionRecovers(_ point: CompactionCrashPoint) async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        var store = try fx.open(crashPoint: point)
        var (fams, now) = try await workload(store, families: 6)
        #expect(await store.compactAndWait())
        // The process "died" in the compaction, but its writer kept committing: those
        // records are in the new log.
        let r = fams[2].rotation(now: now)
        _ = try await store.rotateNow(r)
        fams[2] = fams[2].rotated(by: r)
        now += 1
        let expected = await store.image(at: now)
        store.close()

        let tmpLeft = FileSystem.exists(fx.layout.snapshotTempPath)
        #expect(tmpLeft == (point == .midSnapshot || point == .beforeRename))
        #expect(FileSystem.exists(fx.layout.snapshotPath) == (point == .afterRename))
        #expect(FileSystem.exists(fx.layout.logPath(1)))

        store = try fx.open()
        #expect(await store.image(at: now) == expected)
        #expect(!FileSystem.exists(fx.layout.snapshotTempPath))
        if point == .afterRename { #expect(!FileSystem.exists(fx.layout.logPath(1))) }
        // And a normal compaction afterwards still works.
        #expect(await store.compactAndWait())
        store.close()
        store = try fx.open()
        defer { store.close() }
        #expect(await store.image(at: now) == expected)
        guard case .rotated = try await store.rotateNow(fams[2].rotation(now: now + 1)) else {
            Issue.record("state lost after crash point \(point)")
            return
        }
    }

    @Test func garbageSnapshotTempIsIgnored() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        var store = try fx.open()
        let (_, now) = try await workload(store)
        let expected = await store.image(at: now)
        store.close()
        Files.write(fx.layout.snapshotTempPath, Array(repeating: 0xAB, count: 1000))
        store = try fx.open()
        defer { store.close() }
        #expect(await store.image(at: now) == expected)
        #expect(!FileSystem.exists(fx.layout.snapshotTempPath))
        #expect(fx.log.contains(.warning, "snapshot.tmp"))
    }
}
