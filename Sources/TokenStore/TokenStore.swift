/// Durable state of the token life cycle: refresh-token families, rotation with reuse
/// detection, and revocations.
///
/// Every backend (memory, the embedded journal, Redis) implements the same contract, and
/// `TokenStoreContract` in the tests runs one suite against each. Time is always passed in
/// (`now`, Unix milliseconds) so that tests drive expiry with a manual clock.
///
/// Calls never block the caller: each one completes later through `completion`, on a
/// thread of the store's choosing, and only once the change is durable (fsync'd, or
/// acknowledged by Redis). The caller hops back to its own event loop.
///
/// ```swift
/// store.rotate(request) { result in
///     loop.execute { connection.finishRefresh(result) }
/// }
/// ```
public protocol TokenStore: AnyObject, Sendable {
    /// Records a new family (a login). Fails with `.conflict` if the sid or lookup key exists.
    func createFamily(_ family: NewFamily, completion: @escaping @Sendable (Result<Void, TokenStoreError>) -> Void)

    /// Rotates a refresh token atomically: one presentation wins; see `RotationOutcome`.
    func rotate(
        _ request: RotationRequest, completion: @escaping @Sendable (Result<RotationOutcome, TokenStoreError>) -> Void)

    /// Revokes one family by its sid. Succeeds with nil if the family is unknown or its
    /// refresh token has expired; with the revocation in force if it was revoked already.
    func revokeFamily(
        sid: String, revocationTTL: Int64, now: Int64,
        completion: @escaping @Sendable (Result<Revocation?, TokenStoreError>) -> Void)

    /// Revokes the family a presented refresh token belongs to, if the token is its current
    /// one or the one it rotated from most recently, at any age (a logout with the token a
    /// concurrent refresh just replaced must still log out). Nil if the token matches nothing
    /// live; the revocation in force if the family was revoked already.
    func revokeFamily(
        byRefreshToken lookupKey: Digest32, presentedHash: Digest32, revocationTTL: Int64, now: Int64,
        completion: @escaping @Sendable (Result<Revocation?, TokenStoreError>) -> Void)

    /// Revokes every live family of a subject ("logout everywhere").
    func revokeSubject(
        _ subject: String, revocationTTL: Int64, now: Int64,
        completion: @escaping @Sendable (Result<[Revocation], TokenStoreError>) -> Void)

    /// Revokes one access token by its jti until `expiresAt` (the token's own `exp` plus leeway).
    func revokeToken(
        jti: String, expiresAt: Int64, now: Int64,
        completion: @escaping @Sendable (Result<Revocation, TokenStoreError>) -> Void)

    /// Every revocation still in force at `now`: loaded at start-up and after a reconnect.
    func activeRevocations(now: Int64, completion: @escaping @Sendable (Result<[Revocation], TokenStoreError>) -> Void)

    /// Called for revocations made by *other* processes (Redis pub/sub). Revocations made
    /// through this instance are returned to the caller instead.
    func setRevocationListener(_ listener: @escaping @Sendable (Revocation) -> Void)

    /// Whether the store can take writes now: false after a journal failure, or while a
    /// Redis connection is down or still resyncing (readiness reports not ready, and login
    /// and refresh answer 503).
    var isAvailable: Bool { get }

    /// Writes out anything buffered and stops; later calls fail with `.closed`.
    func close()
}

/// What a login records.
public struct NewFamily: Sendable, Equatable {
    /// Family (session) id: the `sid` claim of its access tokens.
    public var sid: String
    public var subject: String
    /// The claims login produced (scope, roles, extra claims) as a JSON object; opaque to the
    /// store, replayed into each access token the family gets.
    public var claims: [UInt8]
    /// SHA-256 of the lookup id carried in every refresh token of the family.
    public var lookupKey: Digest32
    /// SHA-256 of the refresh token.
    public var refreshHash: Digest32
    /// jti of the access token issued with it (binding).
    public var accessJti: String
    public var now: Int64
    /// When the refresh token expires (Unix ms).
    public var expiresAt: Int64

    public init(
        sid: String, subject: String, claims: [UInt8], lookupKey: Digest32, refreshHash: Digest32,
        accessJti: String, now: Int64, expiresAt: Int64
    ) {
        self.sid = sid
        self.subject = subject
        self.claims = claims
        self.lookupKey = lookupKey
        self.refreshHash = refreshHash
        self.accessJti = accessJti
        self.now = now
        self.expiresAt = expiresAt
    }
}

/// The access token a refresh request carried (signature already checked by the caller).
public struct BoundAccessToken: Sendable, Equatable {
    public var subject: String
    public var jti: String
    public init(subject: String, jti: String) {
        self.subject = subject
        self.jti = jti
    }
}

/// One refresh: the presented token, and the new token the caller generated.
public struct RotationRequest: Sendable, Equatable {
    public var lookupKey: Digest32
    public var presentedHash: Digest32
    /// The access token sent with the refresh, if any.
    public var boundAccess: BoundAccessToken?
    /// Refuse (without revoking) a refresh that carries no access token.
    public var requireBinding: Bool
    public var newRefreshHash: Digest32
    public var newAccessJti: String
    /// The new refresh token encrypted under a key derived from the presented one. Kept
    /// for the grace period so that a concurrent second presentation of the old token
    /// receives this same new token (no second branch, no logout).
    public var graceBlob: [UInt8]
    public var now: Int64
    /// Lifetime of the new refresh token (ms).
    public var refreshTTL: Int64
    /// `refresh_reuse_grace` (ms); 0 turns the grace behaviour off.
    public var grace: Int64
    /// How long a revocation must be remembered: longest access-token lifetime plus leeway (ms).
    public var revocationTTL: Int64

    public init(
        lookupKey: Digest32, presentedHash: Digest32, boundAccess: BoundAccessToken?, requireBinding: Bool,
        newRefreshHash: Digest32, newAccessJti: String, graceBlob: [UInt8], now: Int64, refreshTTL: Int64,
        grace: Int64, revocationTTL: Int64
    ) {
        self.lookupKey = lookupKey
        self.presentedHash = presentedHash
        self.boundAccess = boundAccess
        self.requireBinding = requireBinding
        self.newRefreshHash = newRefreshHash
        self.newAccessJti = newAccessJti
        self.graceBlob = graceBlob
        self.now = now
        self.refreshTTL = refreshTTL
        self.grace = grace
        self.revocationTTL = revocationTTL
    }
}

/// What the caller needs to mint the family's next access token.
public struct FamilySnapshot: Sendable, Equatable {
    public var sid: String
    public var subject: String
    public var claims: [UInt8]
    /// Expiry of the family's current refresh token (Unix ms).
    public var refreshExpiresAt: Int64

    public init(sid: String, subject: String, claims: [UInt8], refreshExpiresAt: Int64) {
        self.sid = sid
        self.subject = subject
        self.claims = claims
        self.refreshExpiresAt = refreshExpiresAt
    }
}

public enum RotationOutcome: Sendable, Equatable {
    /// The presented token was current: it is now used, the new one is current.
    case rotated(FamilySnapshot)
    /// The presented token was rotated less than `grace` ago, with the same binding: the
    /// caller decrypts `graceBlob` with the presented token and re-issues that same
    /// refresh token with a fresh access token carrying `accessJti`.
    case graceReplay(FamilySnapshot, graceBlob: [UInt8], accessJti: String)
    /// An already-used token was presented: the family is now revoked.
    case reuseDetected(Revocation)
    /// The refresh carried another access token of the same subject than the one issued
    /// with this refresh token: theft, the family is now revoked.
    case bindingMismatch(Revocation)
    /// Refused without any change.
    case rejected(RotationRejection)
}

public enum RotationRejection: String, Sendable, Equatable {
    /// No family has this lookup key (never issued, or expired and forgotten).
    case unknown
    case expired
    case revoked
    /// The bound access token belongs to another subject.
    case foreignSubject
    /// `requireBinding` is set and no access token came with the refresh.
    case bindingMissing
}

/// A revocation in force until `expiresAt` (Unix ms), after which no access token it
/// covers can still be valid and the entry is forgotten.
public struct Revocation: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        /// A whole family: every access token with this `sid`.
        case family(sid: String)
        /// One access token.
        case token(jti: String)
    }
    public var target: Target
    public var expiresAt: Int64

    public init(target: Target, expiresAt: Int64) {
        self.target = target
        self.expiresAt = expiresAt
    }
}

public enum TokenStoreError: Error, Sendable, Equatable {
    /// The store cannot be reached or cannot write (answer 503 with Retry-After). Also used
    /// for a request beyond the store's size limits (ids over 1 KiB, claims over 256 KiB).
    case unavailable(reason: String)
    /// A family with this sid or lookup key exists already.
    case conflict
    /// The store was closed.
    case closed
}
