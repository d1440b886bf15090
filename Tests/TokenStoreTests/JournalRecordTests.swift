import Testing

@testable import TokenStore

@Suite("Journal record codec")
struct JournalRecordTests {
    static let samples: [JournalRecord] = [
        .change(.familyCreated(TestFamily().newFamily(now: t0))),
        .change(
            .rotated(
                sid: "s",
                refreshHash: randomDigest(),
                accessJti: "j",
                graceBlob: [1, 2, 3],
                at: t0,
                expiresAt: t0 + 1
            )
        ),
        .change(
            .rotated(sid: "ü-sid", refreshHash: randomDigest(), accessJti: "", graceBlob: [], at: -1, expiresAt: .max)
        ),
        .change(.familyRevoked(sid: "s", at: t0, until: t0 + revocationTTL)),
        .change(.tokenRevoked(jti: "j", at: t0, until: t0 + 5)),
        .family(
            Family(
                sid: "s",
                subject: "alice",
                claims: Array("{}".utf8),
                lookupKey: randomDigest(),
                currentHash: randomDigest(),
                currentJti: "j2",
                previous: PreviousToken(hash: randomDigest(), jti: "j1", rotatedAt: t0, graceBlob: [9]),
                olderHashes: (0..<Family.maxOlderHashes).map { _ in randomDigest() },
                generation: 7,
                expiresAt: t0 + refreshTTL,
                revokedAt: t0 + 5,
                revocationExpiresAt: t0 + revocationTTL
            )
        ),
        .family(
            Family(
                sid: "s2",
                subject: "bob",
                claims: [],
                lookupKey: randomDigest(),
                currentHash: randomDigest(),
                currentJti: "j",
                previous: nil,
                generation: 0,
                expiresAt: t0,
                revokedAt: nil,
                revocationExpiresAt: 0
            )
        ),
        .revocation(.family(sid: "s"), until: t0),
        .revocation(.token(jti: "j"), until: t0),
        .snapshotEnd(families: 2, revocations: 3, clock: t0),
    ]

    private static func decodeAll(_ bytes: [UInt8]) -> [JournalRecord] {
        var out: [JournalRecord] = []
        var at = 0
        while case .frame(let type, let payload, let next) = JournalFormat.scan(bytes, at: at) {
            out.append(try! JournalRecord.decode(type: type, bytes, payload))
            at = next
        }
        return out
    }

    @Test func roundTrip() throws {
        var bytes: [UInt8] = []
        for r in Self.samples { try r.encode(into: &bytes) }
        #expect(Self.decodeAll(bytes) == Self.samples)
    }

    @Test func headerRoundTripAndDamage() throws {
        let h = JournalFormat.header(.log, sequence: 42)
        #expect(h.count == JournalFormat.headerSize)
        #expect(try JournalFormat.parseHeader(h, expecting: .log) == 42)
        #expect(throws: JournalFormat.HeaderProblem.wrongKind) {
            try JournalFormat.parseHeader(h, expecting: .snapshot)
        }
        var bad = h
        bad[9] ^= 1
        #expect(throws: JournalFormat.HeaderProblem.badChecksum) { try JournalFormat.parseHeader(bad, expecting: .log) }
        #expect(throws: JournalFormat.HeaderProblem.tooShort) {
            try JournalFormat.parseHeader(Array(h.prefix(10)), expecting: .log)
        }
    }

    @Test func oversizedRecordIsRefusedAndLeavesBufferIntact() {
        var bytes: [UInt8] = [7]
        #expect(throws: JournalFormat.FrameTooLarge.self) {
            try JournalFormat.frame(type: 1, into: &bytes) {
                $0.blob([UInt8](repeating: 0, count: JournalFormat.maxRecordBody))
            }
        }
        #expect(bytes == [7])
    }

    /// Every prefix of a record is incomplete, never a record; every single-bit flip is caught.
    @Test func truncationAndBitFlipsAreDetected() throws {
        var bytes: [UInt8] = []
        try Self.samples[1].encode(into: &bytes)
        for n in 0..<bytes.count {
            switch JournalFormat.scan(Array(bytes.prefix(n)), at: 0) {
            case .incomplete, .corrupt: break
            case .frame: Issue.record("prefix of \(n) bytes read as a record")
            }
        }
        for i in 0..<bytes.count {
            for bit in 0..<8 {
                var damaged = bytes
                damaged[i] ^= UInt8(1 << bit)
                if case .frame = JournalFormat.scan(damaged, at: 0) {
                    Issue.record("flip of bit \(bit) at \(i) undetected")
                }
            }
        }
    }

    /// Payloads that pass the checksum but are garbage throw, never trap or over-allocate.
    @Test func garbagePayloadsNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let type = UInt8.random(in: 0...20, using: &rng)
            let payload = (0..<Int.random(in: 0...96, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? JournalRecord.decode(type: type, payload, 0..<payload.count)
        }
        // A blob length far beyond the payload.
        var w = ByteWriter()
        w.string("sid")
        w.u32(0xFFFF_FFF0)
        #expect(throws: JournalRecord.DecodeError.malformed(type: 1, .truncated)) {
            try JournalRecord.decode(type: 1, w.bytes, 0..<w.bytes.count)
        }
    }

    @Test func logFileNames() {
        let layout = JournalLayout(directory: "/d")
        #expect(layout.logPath(12) == "/d/log-00000000000000000012")
        #expect(JournalLayout.logSequence(name: "log-00000000000000000012") == 12)
        #expect(JournalLayout.logSequence(name: "log-12") == nil)
        #expect(JournalLayout.logSequence(name: "log-0000000000000000001x") == nil)
    }
}

@Suite("File system helpers")
struct FileSystemTests {
    @Test func parentDirectory() {
        #expect(FileSystem.parent(of: "data") == ".")
        #expect(FileSystem.parent(of: "/var/lib/gw/data") == "/var/lib/gw")
        #expect(FileSystem.parent(of: "/data/") == "/")
        #expect(FileSystem.parent(of: "a/b/") == "a")
    }
}
