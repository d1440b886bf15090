/// The embedded, durable token store (the default: `"store": {"kind": "embedded", "path": "data"}`).
///
/// State lives in memory, owned by one writer thread; every change is appended to a
/// checksummed log in the data directory and `fdatasync`'d before it is acknowledged, many
/// concurrent operations sharing one sync. The log is compacted into a snapshot in the
/// background. See `JournalFormat` for the files and `JournalWriter` for the threading.
///
/// Completions run on the store's writer thread, in order, after the change is durable:
/// keep them short (hop to your own event loop) and never block in them.
///
/// ```swift
/// let store = try JournalTokenStore(options: JournalOptions(path: "data", logger: log))
/// store.rotate(request) { result in loop.execute { finish(result) } }
/// ```
///
/// A family whose refresh token expired answers `.rejected(.expired)` while it is still
/// held and `.rejected(.unknown)` once the sweep or a compaction has dropped it.
public final class JournalTokenStore: TokenStore {
    private let writer: JournalWriter

    /// Opens (or creates) the data directory, takes its lock and recovers the state.
    /// Throws if another process has the directory open or its files are damaged beyond a
    /// torn tail (which is truncated and logged).
    public init(options: JournalOptions) throws(JournalOpenError) {
        let (journal, state) = try Journal.open(options)
        writer = JournalWriter(journal: journal, state: state, options: options)
        let rc = writer.start()
        if rc != 0 {
            writer.close()  // no thread to wait for: marks the writer closed
            throw .io(JournalIOError(operation: "pthread_create", path: options.path, code: rc))
        }
    }

    deinit { writer.close() }

    /// Counters for metrics and tests.
    public var statistics: JournalStatistics { writer.counters.snapshot }

    /// Nil while the store can write; after a write error, why it refuses everything (a
    /// readiness check reports it; a restart recovers from disk).
    public var failure: TokenStoreError? { writer.currentFailure }

    public var isAvailable: Bool { failure == nil }

    public func createFamily(
        _ family: NewFamily,
        completion: @escaping @Sendable (Result<Void, TokenStoreError>) -> Void
    ) {
        writer.submit({ $0.createFamily(family) }, completion: completion)
    }

    public func rotate(
        _ request: RotationRequest,
        completion: @escaping @Sendable (Result<RotationOutcome, TokenStoreError>) -> Void
    ) {
        writer.submit({ $0.rotate(request) }, completion: completion)
    }

    public func revokeFamily(
        sid: String,
        revocationTTL: Int64,
        now: Int64,
        completion: @escaping @Sendable (Result<Revocation?, TokenStoreError>) -> Void
    ) {
        writer.submit({ $0.revokeFamily(sid: sid, revocationTTL: revocationTTL, now: now) }, completion: completion)
    }

    public func revokeFamily(
        byRefreshToken lookupKey: Digest32,
        presentedHash: Digest32,
        revocationTTL: Int64,
        now: Int64,
        completion: @escaping @Sendable (Result<Revocation?, TokenStoreError>) -> Void
    ) {
        writer.submit(
            {
                $0.revokeFamily(
                    lookupKey: lookupKey,
                    presentedHash: presentedHash,
                    revocationTTL: revocationTTL,
                    now: now
                )
            },
            completion: completion
        )
    }

    public func revokeSubject(
        _ subject: String,
        revocationTTL: Int64,
        now: Int64,
        completion: @escaping @Sendable (Result<[Revocation], TokenStoreError>) -> Void
    ) {
        writer.submit({ $0.revokeSubject(subject, revocationTTL: revocationTTL, now: now) }, completion: completion)
    }

    public func revokeToken(
        jti: String,
        expiresAt: Int64,
        now: Int64,
        completion: @escaping @Sendable (Result<Revocation, TokenStoreError>) -> Void
    ) {
        writer.submit({ $0.revokeToken(jti: jti, expiresAt: expiresAt, now: now) }, completion: completion)
    }

    /// Answered in order with the writes queued before it, once they are durable.
    public func activeRevocations(
        now: Int64,
        completion: @escaping @Sendable (Result<[Revocation], TokenStoreError>) -> Void
    ) {
        writer.submit({ .answer(.success($0.activeRevocations(now: now))) }, completion: completion)
    }

    /// A single process is the only writer of its directory: the listener is never called.
    public func setRevocationListener(_ listener: @escaping @Sendable (Revocation) -> Void) {}

    /// Finishes every queued operation, waits for a running compaction, closes the files and
    /// releases the lock. Later calls fail with `.closed`.
    public func close() { writer.close() }

    // MARK: - test hooks

    /// Starts a compaction after the operations queued before it; `done(started)`.
    func compact(_ done: @escaping @Sendable (Bool) -> Void) {
        if writer.enqueue(.compact(done)) != nil { done(false) }
    }

    /// Blocks until no compaction is running.
    func waitForCompaction() { writer.compactor.waitUntilIdle() }

    /// Runs `look` on the writer thread between batches; false if the store refuses work.
    @discardableResult
    func inspect(_ look: @escaping @Sendable (TokenState, Journal?) -> Void) -> Bool {
        writer.enqueue(.inspect(look)) == nil
    }
}
