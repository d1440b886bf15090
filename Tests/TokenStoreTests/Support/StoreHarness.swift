import Dispatch
import Synchronization
import Testing

@testable import TokenStore

#if canImport(Glibc)
import Glibc
#endif

/// Async wrappers over the completion-based store API, for tests.
extension TokenStore {
    func call<T: Sendable>(
        _ body: (@escaping @Sendable (Result<T, TokenStoreError>) -> Void) -> Void
    ) async
        -> Result<T, TokenStoreError>
    {
        await withCheckedContinuation { c in body { c.resume(returning: $0) } }
    }

    func create(_ f: NewFamily) async -> Result<Void, TokenStoreError> {
        await call { createFamily(f, completion: $0) }
    }

    func rotateNow(_ r: RotationRequest) async throws -> RotationOutcome {
        try await call { rotate(r, completion: $0) }.get()
    }

    func revoke(sid: String, ttl: Int64, now: Int64) async throws -> Revocation? {
        try await call { revokeFamily(sid: sid, revocationTTL: ttl, now: now, completion: $0) }.get()
    }

    func revoke(lookupKey: Digest32, presented: Digest32, ttl: Int64, now: Int64) async throws -> Revocation? {
        try await call {
            revokeFamily(
                byRefreshToken: lookupKey,
                presentedHash: presented,
                revocationTTL: ttl,
                now: now,
                completion: $0
            )
        }.get()
    }

    func revokeAll(subject: String, ttl: Int64, now: Int64) async throws -> [Revocation] {
        try await call { revokeSubject(subject, revocationTTL: ttl, now: now, completion: $0) }.get()
    }

    func revoke(jti: String, until: Int64, now: Int64) async throws -> Revocation {
        try await call { revokeToken(jti: jti, expiresAt: until, now: now, completion: $0) }.get()
    }

    func revocations(now: Int64) async throws -> Set<Revocation> {
        Set(try await call { activeRevocations(now: now, completion: $0) }.get())
    }
}

extension JournalTokenStore {
    /// The live state at `now`, read on the writer thread after everything queued before.
    func image(at now: Int64) async -> StateImage {
        await withCheckedContinuation { c in
            let queued = inspect { state, _ in c.resume(returning: state.image(at: now)) }
            precondition(queued, "store refused inspect")
        }
    }

    /// Starts a compaction after everything queued and waits until it has finished.
    func compactAndWait() async -> Bool {
        let started = await withCheckedContinuation { c in compact { c.resume(returning: $0) } }
        waitForCompaction()
        return started
    }
}

func randomDigest() -> Digest32 {
    Digest32(
        w0: .random(in: .min ... .max),
        w1: .random(in: .min ... .max),
        w2: .random(in: .min ... .max),
        w3: .random(in: .min ... .max)
    )
}

let minute: Int64 = 60_000
let t0: Int64 = 1_700_000_000_000
let refreshTTL: Int64 = 14 * 24 * 60 * minute
let revocationTTL: Int64 = 15 * minute + 30_000

/// A family as the gateway would have it: its lookup key, its current refresh hash and access jti.
struct TestFamily: Sendable {
    var sid: String
    var subject: String
    var lookupKey: Digest32
    var refresh: Digest32
    var jti: String
    var claims: [UInt8]

    init(subject: String = "alice", sid: String? = nil) {
        self.sid = sid ?? "sid-\(UInt64.random(in: 0 ... .max))"
        self.subject = subject
        self.lookupKey = randomDigest()
        self.refresh = randomDigest()
        self.jti = "jti-\(UInt64.random(in: 0 ... .max))"
        self.claims = Array(#"{"scope":"read write","roles":["user"]}"#.utf8)
    }

    func newFamily(now: Int64, ttl: Int64 = refreshTTL) -> NewFamily {
        NewFamily(
            sid: sid,
            subject: subject,
            claims: claims,
            lookupKey: lookupKey,
            refreshHash: refresh,
            accessJti: jti,
            now: now,
            expiresAt: now + ttl
        )
    }

    /// A rotation presenting `presented` (default: the current token), minting a new pair.
    func rotation(
        presenting presented: Digest32? = nil,
        bound: BoundAccessToken? = nil,
        requireBinding: Bool = false,
        now: Int64,
        grace: Int64 = 10_000,
        newRefresh: Digest32 = randomDigest(),
        newJti: String? = nil
    ) -> RotationRequest {
        RotationRequest(
            lookupKey: lookupKey,
            presentedHash: presented ?? refresh,
            boundAccess: bound,
            requireBinding: requireBinding,
            newRefreshHash: newRefresh,
            newAccessJti: newJti ?? "jti-\(UInt64.random(in: 0 ... .max))",
            graceBlob: Array("blob-\(newRefresh.w0)".utf8),
            now: now,
            refreshTTL: refreshTTL,
            grace: grace,
            revocationTTL: revocationTTL
        )
    }

    /// The family after `request` rotated it.
    func rotated(by request: RotationRequest) -> TestFamily {
        var f = self
        f.refresh = request.newRefreshHash
        f.jti = request.newAccessJti
        return f
    }

    var bound: BoundAccessToken { BoundAccessToken(subject: subject, jti: jti) }
}

/// A fresh directory under /tmp, removed (with its files) by `remove()`.
struct TempDirectory: Sendable {
    let path: String

    init(_ label: String = "store") {
        var template = Array("/tmp/tokenstore-\(label)-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(p != nil, "mkdtemp failed")
        path = String(cString: p!)
    }

    var data: String { path + "/data" }

    func remove() {
        if let names = try? FileSystem.list(data) {
            for n in names { unlink(data + "/" + n) }
        }
        rmdir(data)
        if let names = try? FileSystem.list(path) {
            for n in names { unlink(path + "/" + n) }
        }
        rmdir(path)
    }
}

/// Collects log lines (tests assert recovery reports).
final class CapturedLog: Sendable {
    private let lines = Mutex<[(StoreLogLevel, String)]>([])

    var logger: StoreLogger { { [self] level, message in lines.withLock { $0.append((level, message)) } } }

    func contains(_ level: StoreLogLevel, _ fragment: String) -> Bool {
        lines.withLock { $0.contains { $0.0 == level && $0.1.contains(fragment) } }
    }

    var all: [String] { lines.withLock { $0.map { "\($0.0): \($0.1)" } } }
}

/// File helpers for damaging a log the way a crash or a bad disk would.
enum Files {
    static func size(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : -1
    }

    static func read(_ path: String) -> [UInt8] {
        guard let f = try? FileSystem.open(path, O_RDONLY) else { return [] }
        var out: [UInt8] = []
        while let n = try? f.read(into: &out, count: 1 << 16, at: out.count), n > 0 {}
        return out
    }

    static func write(_ path: String, _ bytes: [UInt8]) {
        let f = try! FileSystem.open(path, O_WRONLY | O_CREAT | O_TRUNC)
        try! f.writeAll(bytes)
    }

    static func truncate(_ path: String, to size: Int) { precondition(Glibc.truncate(path, off_t(size)) == 0) }

    static func copyDirectory(_ from: String, _ to: String) {
        mkdir(to, 0o700)
        for name in (try? FileSystem.list(from)) ?? [] { write(to + "/" + name, read(from + "/" + name)) }
    }

    /// Offsets of the records of a log (start of each frame) and its end.
    static func recordOffsets(_ path: String) -> (starts: [Int], end: Int) {
        let f = try! FileSystem.open(path, O_RDONLY)
        var reader = RecordFileReader(f, from: JournalFormat.headerSize)
        var starts: [Int] = []
        while true {
            switch try! reader.next() {
            case .record(_, let offset): starts.append(offset)
            case .end(let offset), .torn(let offset, _): return (starts, offset)
            }
        }
    }
}
