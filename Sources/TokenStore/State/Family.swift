/// One refresh-token family (one login session) as the store holds it. Its size does not
/// grow with rotations: only the current and the just-rotated token are kept.
struct Family: Sendable, Equatable {
    var sid: String
    var subject: String
    /// Opaque JSON claims from login, replayed into every access token of the family.
    var claims: [UInt8]
    /// SHA-256 of the lookup id shared by every refresh token of the family.
    var lookupKey: Digest32
    /// SHA-256 of the current refresh token, and the jti of the access token issued with it.
    var currentHash: Digest32
    var currentJti: String
    /// The token rotated most recently, kept for the grace period and for logout.
    var previous: PreviousToken?
    /// Number of rotations since login.
    var generation: UInt64
    /// Expiry of the current refresh token (Unix ms).
    var expiresAt: Int64
    /// When the family was revoked, if it was.
    var revokedAt: Int64?
    /// Until when the family's revocation is in force (meaningful when `revokedAt` is set).
    var revocationExpiresAt: Int64

    var isRevoked: Bool { revokedAt != nil }

    var snapshot: FamilySnapshot {
        FamilySnapshot(sid: sid, subject: subject, claims: claims, refreshExpiresAt: expiresAt)
    }
}

/// The refresh token a family rotated away from most recently.
struct PreviousToken: Sendable, Equatable {
    var hash: Digest32
    /// The access jti issued with that refresh token (binding of a grace replay).
    var jti: String
    var rotatedAt: Int64
    /// The new refresh token encrypted under the old one (see `RotationRequest.graceBlob`).
    var graceBlob: [UInt8]
}
