import Testing

@testable import TokenStore

/// Recovery's decoding on bytes in memory (`RecordBytes`), as the `journal` fuzz target drives
/// it: log replay and snapshot restore give the same answers whatever the read chunk.
@Suite("Journal decoding on bytes")
struct JournalDecodingTests {
    static let family = TestFamily()

    static var changes: [StateChange] {
        [
            .familyCreated(family.newFamily(now: t0)),
            .rotated(
                sid: family.sid,
                refreshHash: randomDigest(),
                accessJti: "j2",
                graceBlob: [1, 2, 3],
                at: t0 + 1,
                expiresAt: t0 + refreshTTL
            ),
            .tokenRevoked(jti: "j1", at: t0 + 2, until: t0 + revocationTTL),
        ]
    }

    static func log(_ changes: [StateChange]) throws -> [UInt8] {
        var bytes = JournalFormat.header(.log, sequence: 1)
        for c in changes { try JournalRecord.change(c).encode(into: &bytes) }
        return bytes
    }

    static func replay(_ bytes: [UInt8], chunk: Int) throws -> (LogReplay, TokenState) {
        var state = TokenState()
        let r = try LogReplay.apply(from: RecordBytes(bytes: bytes), path: "log", into: &state, chunk: chunk)
        return (r, state)
    }

    @Test func recordBytesReadsLikeAFile() throws {
        let source = RecordBytes(bytes: [1, 2, 3, 4, 5])
        var out: [UInt8] = []
        #expect(try source.read(into: &out, count: 2, at: 1) == 2)
        #expect(try source.read(into: &out, count: 9, at: 3) == 2)
        #expect(try source.read(into: &out, count: 9, at: 5) == 0)
        #expect(try source.read(into: &out, count: 9, at: 50) == 0)
        #expect(out == [2, 3, 4, 5])
    }

    @Test(arguments: [1, 7, 1 << 20])
    func logReplaysTheSameWithAnyChunk(_ chunk: Int) throws {
        let changes = Self.changes
        let bytes = try Self.log(changes)
        var expected = TokenState()
        for c in changes { expected.apply(c) }
        let (r, state) = try Self.replay(bytes, chunk: chunk)
        #expect(r == LogReplay(records: 3, end: bytes.count, tornReason: nil))
        #expect(state.image(at: t0) == expected.image(at: t0))
        #expect(state.clock == t0 + 2)
    }

    @Test(arguments: [1, 1 << 20])
    func tornTailEndsTheReplayAtItsStart(_ chunk: Int) throws {
        let whole = try Self.log(Self.changes)
        let twoRecords = try Self.log(Array(Self.changes.prefix(2)))
        let (cut, _) = try Self.replay(Array(whole.dropLast(3)), chunk: chunk)
        #expect(cut == LogReplay(records: 2, end: twoRecords.count, tornReason: "record cut short"))
        var damaged = whole
        damaged[twoRecords.count + 10] ^= 1
        let (flipped, _) = try Self.replay(damaged, chunk: chunk)
        #expect(flipped == LogReplay(records: 2, end: twoRecords.count, tornReason: "checksum mismatch"))
    }

    @Test func snapshotRecordInALogIsCorruption() throws {
        var bytes = try Self.log([Self.changes[0]])
        try JournalRecord.snapshotEnd(families: 0, revocations: 0, clock: t0).encode(into: &bytes)
        #expect(
            throws: JournalOpenError.corruptLog(
                path: "log", offset: try Self.log([Self.changes[0]]).count, reason: "snapshot record in a log")
        ) {
            try Self.replay(bytes, chunk: 1 << 20)
        }
    }

    @Test(arguments: [1, 1 << 20])
    func snapshotRestoresFromBytes(_ chunk: Int) throws {
        var state = TokenState()
        for c in Self.changes { state.apply(c) }
        var bytes = JournalFormat.header(.snapshot, sequence: 9)
        let families = state.liveFamilies(at: state.clock)
        let revocations = state.liveRevocations(at: state.clock)
        for f in families { try JournalRecord.family(f).encode(into: &bytes) }
        for r in revocations { try JournalRecord.revocation(r.target, until: r.until).encode(into: &bytes) }
        try JournalRecord.snapshotEnd(
            families: UInt64(families.count),
            revocations: UInt64(revocations.count),
            clock: state.clock
        ).encode(into: &bytes)
        let header = Array(bytes.prefix(JournalFormat.headerSize))
        let restored = try Snapshot.restore(header: header, from: RecordBytes(bytes: bytes), path: "s", chunk: chunk)
        #expect(restored.nextSequence == 9)
        #expect(restored.state.clock == state.clock)
        #expect(restored.state.image(at: state.clock) == state.image(at: state.clock))
        #expect(throws: JournalOpenError.corruptSnapshot(path: "s", reason: "data after the end record")) {
            try Snapshot.restore(header: header, from: RecordBytes(bytes: bytes + bytes.suffix(9)), path: "s")
        }
    }

    /// A log with valid checksums but a record no store would have written (claims past
    /// `StoreLimits`): a clear start-up error, not a state whose next snapshot cannot be
    /// encoded (that was a `preconditionFailure` at compaction).
    @Test func recordBeyondTheStoreLimitsIsCorruption() throws {
        var big = Self.family.newFamily(now: t0)
        big.claims = [UInt8](repeating: 0x61, count: StoreLimits.maxClaims + 1)
        let longJti = String(repeating: "j", count: StoreLimits.maxIdentifier + 1)
        for change in [
            StateChange.familyCreated(big),
            .rotated(
                sid: Self.family.sid, refreshHash: randomDigest(), accessJti: "j2",
                graceBlob: [UInt8](repeating: 1, count: StoreLimits.maxGraceBlob + 1), at: t0 + 1,
                expiresAt: t0 + refreshTTL),
            .tokenRevoked(jti: longJti, at: t0 + 2, until: t0 + revocationTTL),
        ] {
            let bytes = try Self.log([change])
            do {
                _ = try Self.replay(bytes, chunk: 1 << 20)
                Issue.record("a record beyond the limits was replayed: \(change.at)")
            } catch let error as JournalOpenError {
                guard case .corruptLog(_, let offset, let reason) = error else {
                    Issue.record("unexpected \(error)")
                    continue
                }
                #expect(offset == JournalFormat.headerSize)
                #expect(reason.contains("beyond the store's limits"))
            }
        }
    }
}
