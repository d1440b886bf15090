import Dispatch
import Testing

@testable import TokenStore

#if canImport(Glibc)
import Glibc
#endif

@Suite("Journal recovery")
struct JournalRecoveryTests {
    @Test func reopenKeepsState() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        var store = try fx.open(fsync: true)
        var (fams, now) = try await workload(store)
        let used = fams[1]
        let r = used.rotation(now: now)
        _ = try await store.rotateNow(r)
        fams[1] = used.rotated(by: r)
        let before = await store.image(at: now)
        #expect(before.families.count == 4)
        store.close()

        store = try fx.open()
        defer { store.close() }
        #expect(await store.image(at: now) == before)
        // Behaviour survives too: a made-up secret is unknown, and a token rotated away from
        // before the restart is reuse.
        #expect(
            try await store.rotateNow(fams[1].rotation(presenting: randomDigest(), now: now + 1)) == .rejected(.unknown)
        )
        #expect(try await store.rotateNow(used.rotation(now: now + 11_000)).isRevocation)
        #expect(try await store.rotateNow(fams[0].rotation(now: now + 1)) == .rejected(.revoked))
        guard case .rotated = try await store.rotateNow(fams[2].rotation(now: now + 1)) else {
            Issue.record("current token lost across a restart")
            return
        }
    }

    /// Writes a workload whose last record is a rotation; returns the images before and
    /// after that last rotation, and where its record lies in the log.
    private func lastRecordSetup(
        _ fx: JournalFixture
    ) async throws -> (before: StateImage, after: StateImage, start: Int, end: Int, now: Int64) {
        let store = try fx.open()
        let (fams, now) = try await workload(store)
        let before = await store.image(at: now + 1)
        _ = try await store.rotateNow(fams[1].rotation(now: now + 1))
        let after = await store.image(at: now + 1)
        store.close()
        let (starts, end) = Files.recordOffsets(fx.layout.logPath(1))
        return (before, after, starts.last!, end, now + 1)
    }

    @Test func tornLastRecordIsTruncatedAtEveryCut() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        let s = try await lastRecordSetup(fx)
        #expect(s.before != s.after)
        let cuts = [s.start + 1, s.start + 4, s.start + 7, s.start + 8, s.start + 9, (s.start + s.end) / 2, s.end - 1]
        for cut in cuts {
            let path = fx.copy("cut-\(cut)")
            defer { fx.remove(copy: path) }
            let log = path + "/" + "log-00000000000000000001"
            Files.truncate(log, to: cut)
            let store = try fx.open(at: path)
            #expect(await store.image(at: s.now) == s.before, "cut at \(cut)")
            #expect(Files.size(log) == s.start, "tail not truncated at cut \(cut)")
            // The store appends after the truncation point, and that survives a reopen.
            let f = TestFamily()
            try await store.create(f.newFamily(now: s.now)).get()
            store.close()
            let again = try fx.open(at: path)
            guard case .rotated = try await again.rotateNow(f.rotation(now: s.now + 1)) else {
                Issue.record("write after recovery lost (cut \(cut))")
                again.close()
                continue
            }
            again.close()
        }
        #expect(fx.log.contains(.warning, "truncating"))
        // Cut exactly at the record's end: nothing is lost.
        let whole = fx.copy("whole")
        defer { fx.remove(copy: whole) }
        let store = try fx.open(at: whole)
        #expect(await store.image(at: s.now) == s.after)
        store.close()
    }

    @Test func damagedLastRecordIsDropped() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        let s = try await lastRecordSetup(fx)
        // Length field, checksum, type byte, payload.
        for position in [s.start, s.start + 3, s.start + 5, s.start + 8, s.start + 20, s.end - 1] {
            let path = fx.copy("flip-\(position)")
            defer { fx.remove(copy: path) }
            let log = path + "/" + "log-00000000000000000001"
            var bytes = Files.read(log)
            bytes[position] ^= 0x5A
            Files.write(log, bytes)
            let store = try fx.open(at: path)
            #expect(await store.image(at: s.now) == s.before, "flipped byte at \(position)")
            store.close()
        }
    }

    @Test func hugeLengthIsRejectedWithoutAllocating() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        let s = try await lastRecordSetup(fx)
        for length: UInt32 in [
            0, 0xFFFF_FFFF, UInt32(JournalFormat.maxRecordBody) + 1, UInt32(JournalFormat.maxRecordBody),
        ] {
            let path = fx.copy("len-\(length)")
            defer { fx.remove(copy: path) }
            let log = path + "/" + "log-00000000000000000001"
            var bytes = Files.read(log)
            for i in 0..<4 { bytes[s.start + i] = UInt8(truncatingIfNeeded: length >> UInt32(8 * i)) }
            Files.write(log, bytes)
            let store = try fx.open(at: path)
            #expect(await store.image(at: s.now) == s.before, "length \(length)")
            store.close()
        }
    }

    @Test func failedWriteStopsTheStoreAndIsNeverAcknowledged() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        var store = try fx.open(fsync: true)
        let (fams, now) = try await workload(store)
        let before = await store.image(at: now)
        store.inspect { _, journal in
            journal?.failNextAppend = (10, JournalIOError(operation: "write", path: "test", code: ENOSPC))
        }
        let failed = await store.call { store.rotate(fams[1].rotation(now: now), completion: $0) }
        guard case .failure(.unavailable) = failed else {
            Issue.record("a failed write was acknowledged: \(failed)")
            return
        }
        #expect(store.failure != nil)
        // Fail-stop: nothing more is accepted, even what would not write.
        guard case .failure(.unavailable) = await store.call({ store.activeRevocations(now: now, completion: $0) })
        else {
            Issue.record("store kept serving after a write error")
            return
        }
        #expect(fx.log.contains(.error, "stopped writing"))
        store.close()

        // The 10 bytes of the torn batch are dropped on recovery.
        store = try fx.open()
        defer { store.close() }
        #expect(await store.image(at: now) == before)
        guard case .rotated = try await store.rotateNow(fams[1].rotation(now: now + 1)) else {
            Issue.record("state after recovery differs")
            return
        }
    }

    @Test func lockFileRefusesASecondOpen() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        let first = try fx.open()
        #expect(throws: JournalOpenError.locked(path: fx.layout.lockPath)) { _ = try fx.open() }
        first.close()
        let second = try fx.open()
        second.close()
    }

    /// A child forked by another thread holds a copy of every descriptor until its exec: the
    /// lock's open file description outlives the store's close unless the store unlocks it.
    @Test func closeReleasesTheLockThatAForkedChildStillShares() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        let first = try fx.open()
        let copy = try #require(Self.duplicateDescriptor(of: fx.layout.lockPath))
        defer { close(copy) }
        first.close()
        let second = try fx.open()  // "data directory is locked by another process" without the unlock
        second.close()
    }

    /// A `dup` of this process's descriptor open on `path`, as a forked child would hold.
    private static func duplicateDescriptor(of path: String) -> Int32? {
        for fd in 0..<Int32(4096) {
            var buf = [CChar](repeating: 0, count: 4096)
            let n = readlink("/proc/self/fd/\(fd)", &buf, buf.count - 1)
            guard n > 0 else { continue }
            let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target == path { return dup(fd) }
        }
        return nil
    }

    @Test func damagedSnapshotRefusesToOpen() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        let store = try fx.open()
        try await workload(store)
        #expect(await store.compactAndWait())
        store.close()
        let size = Files.size(fx.layout.snapshotPath)
        #expect(size > JournalFormat.headerSize)

        let flipped = fx.copy("flipped")
        defer { fx.remove(copy: flipped) }
        var bytes = Files.read(flipped + "/snapshot")
        bytes[size / 2] ^= 1
        Files.write(flipped + "/snapshot", bytes)
        #expect(throws: JournalOpenError.self) { _ = try fx.open(at: flipped) }

        let cut = fx.copy("cut")
        defer { fx.remove(copy: cut) }
        Files.truncate(cut + "/snapshot", to: size - 3)
        do {
            _ = try fx.open(at: cut)
            Issue.record("a truncated snapshot was accepted")
        } catch {
            guard case .corruptSnapshot = error else { Issue.record("unexpected \(error)"); return }
        }
    }

    @Test func missingLogRefusesToOpen() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        let store = try fx.open()
        try await workload(store)
        store.close()
        // A log 3 with log 2 missing.
        Files.write(fx.layout.logPath(3), JournalFormat.header(.log, sequence: 3))
        #expect(throws: JournalOpenError.missingLog(path: fx.layout.logPath(2))) { _ = try fx.open() }
    }

    @Test func checksummedButUndecodableRecordRefusesToOpen() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        let store = try fx.open()
        try await workload(store)
        store.close()
        // A record of a type this version does not know (a newer writer): never truncated away.
        var record: [UInt8] = []
        try JournalFormat.frame(type: 99, into: &record) { $0.u64(7) }
        let log = fx.layout.logPath(1)
        Files.write(log, Files.read(log) + record)
        do {
            _ = try fx.open()
            Issue.record("an unknown record type was accepted")
        } catch {
            guard case .corruptLog = error else { Issue.record("unexpected \(error)"); return }
        }
    }

    @Test func incompleteHeaderOfNewestLogStartsItAfresh() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        var store = try fx.open()
        let (_, now) = try await workload(store)
        let before = await store.image(at: now)
        store.close()
        // A rollover that crashed before its header reached the disk.
        Files.write(fx.layout.logPath(2), Array(JournalFormat.header(.log, sequence: 2).prefix(7)))
        store = try fx.open()
        defer { store.close() }
        #expect(await store.image(at: now) == before)
        #expect(Files.size(fx.layout.logPath(2)) == JournalFormat.headerSize)
    }
}
