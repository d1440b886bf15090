import Testing

@testable import TokenStore

/// A data directory and a way to (re)open a journal store on it.
struct JournalFixture: Sendable {
    let dir = TempDirectory("journal")
    let log = CapturedLog()

    var layout: JournalLayout { JournalLayout(directory: dir.data) }

    func open(
        fsync: Bool = false,
        threshold: Int = 64 << 20,
        crashPoint: CompactionCrashPoint? = nil,
        at path: String? = nil
    ) throws(JournalOpenError) -> JournalTokenStore {
        var options = JournalOptions(
            path: path ?? dir.data,
            fsync: fsync,
            compactionThreshold: threshold,
            logger: log.logger
        )
        options.crashPoint = crashPoint
        return try JournalTokenStore(options: options)
    }

    /// A copy of the data directory, next to it, for damaging independently.
    func copy(_ name: String) -> String {
        let to = dir.path + "/" + name
        Files.copyDirectory(dir.data, to)
        return to
    }

    func remove(copy path: String) {
        for n in (try? FileSystem.list(path)) ?? [] { _ = try? FileSystem.remove(path + "/" + n) }
        _ = rmdirPath(path)
    }

    func cleanup() {
        for n in (try? FileSystem.list(dir.path)) ?? [] where n != "data" { remove(copy: dir.path + "/" + n) }
        dir.remove()
    }
}

/// A little of everything: logins, rotations, a grace period, revocations. Returns the
/// families as they are after the workload, and the time it ended.
@discardableResult
func workload(
    _ store: any TokenStore,
    families: Int = 4,
    start: Int64 = t0
) async throws -> (families: [TestFamily], now: Int64) {
    var now = start
    var fams: [TestFamily] = []
    for i in 0..<families {
        let f = TestFamily(subject: i % 2 == 0 ? "alice" : "bob")
        try await store.create(f.newFamily(now: now)).get()
        fams.append(f)
        now += 1_000
    }
    for round in 0..<3 {
        for i in fams.indices {
            let r = fams[i].rotation(now: now)
            guard case .rotated = try await store.rotateNow(r) else { throw WorkloadError.refused(round) }
            fams[i] = fams[i].rotated(by: r)
            now += 1_000
        }
    }
    _ = try await store.revoke(jti: "jti-revoked", until: now + 10 * minute, now: now)
    _ = try await store.revoke(sid: fams[0].sid, ttl: revocationTTL, now: now)
    return (fams, now)
}

enum WorkloadError: Error { case refused(Int) }

#if canImport(Glibc)
import Glibc
func rmdirPath(_ p: String) -> Int32 { rmdir(p) }
#endif
