import Synchronization

/// The token store in process memory: for tests and `"store": {"kind": "memory"}`.
/// Nothing survives a restart.
///
/// Completions run synchronously on the calling thread, before the method returns, and
/// outside the lock (a completion may call the store again).
public final class MemoryTokenStore: TokenStore {
    private struct Guarded {
        var state = TokenState()
        var closed = false
    }

    private let guarded = Mutex(Guarded())
    private let sweepBudget: Int

    /// - Parameter sweepBudget: expired entries examined per mutating call, which bounds
    ///   the work any one call does on cleanup.
    public var isAvailable: Bool { guarded.withLock { !$0.closed } }

    public init(sweepBudget: Int = 64) {
        self.sweepBudget = max(1, sweepBudget)
    }

    private func run<O>(_ body: (inout TokenState) -> Step<O>) -> Result<O, TokenStoreError> {
        guarded.withLock { g in
            guard !g.closed else { return .failure(.closed) }
            let step = body(&g.state)
            g.state.sweep(budget: sweepBudget)  // a heap peek when nothing is due
            return step.result
        }
    }

    public func createFamily(
        _ family: NewFamily,
        completion: @escaping @Sendable (Result<Void, TokenStoreError>) -> Void
    ) {
        completion(run { $0.createFamily(family) })
    }

    public func rotate(
        _ request: RotationRequest,
        completion: @escaping @Sendable (Result<RotationOutcome, TokenStoreError>) -> Void
    ) {
        completion(run { $0.rotate(request) })
    }

    public func revokeFamily(
        sid: String,
        revocationTTL: Int64,
        now: Int64,
        completion: @escaping @Sendable (Result<Revocation?, TokenStoreError>) -> Void
    ) {
        completion(run { $0.revokeFamily(sid: sid, revocationTTL: revocationTTL, now: now) })
    }

    public func revokeFamily(
        byRefreshToken lookupKey: Digest32,
        presentedHash: Digest32,
        revocationTTL: Int64,
        now: Int64,
        completion: @escaping @Sendable (Result<Revocation?, TokenStoreError>) -> Void
    ) {
        completion(
            run {
                $0.revokeFamily(
                    lookupKey: lookupKey,
                    presentedHash: presentedHash,
                    revocationTTL: revocationTTL,
                    now: now
                )
            }
        )
    }

    public func revokeSubject(
        _ subject: String,
        revocationTTL: Int64,
        now: Int64,
        completion: @escaping @Sendable (Result<[Revocation], TokenStoreError>) -> Void
    ) {
        completion(run { $0.revokeSubject(subject, revocationTTL: revocationTTL, now: now) })
    }

    public func revokeToken(
        jti: String,
        expiresAt: Int64,
        now: Int64,
        completion: @escaping @Sendable (Result<Revocation, TokenStoreError>) -> Void
    ) {
        completion(run { $0.revokeToken(jti: jti, expiresAt: expiresAt, now: now) })
    }

    public func activeRevocations(
        now: Int64,
        completion: @escaping @Sendable (Result<[Revocation], TokenStoreError>) -> Void
    ) {
        completion(run { .answer(.success($0.activeRevocations(now: now))) })
    }

    /// A single process has no other writers: the listener is never called.
    public func setRevocationListener(_ listener: @escaping @Sendable (Revocation) -> Void) {}

    public func close() {
        guarded.withLock { $0.closed = true }
    }

    /// The live content at `now` (tests).
    func image(at now: Int64) -> StateImage {
        guarded.withLock { $0.state.image(at: now) }
    }
}
