/// One refresh-token family (one login session) as the store holds it. Its size is bounded
/// whatever the number of rotations: the current token, the just-rotated one, and the
/// hashes of a few older ones (`olderHashes`), so that reuse of a token really issued is
/// told apart from a made-up secret under a known lookup id.
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
    /// SHA-256 of the tokens rotated away from before `previous`, newest first, at most
    /// `maxOlderHashes`: presenting one of them is reuse.
    var olderHashes: [Digest32] = []
    /// Number of rotations since login.
    var generation: UInt64
    /// Expiry of the current refresh token (Unix ms).
    var expiresAt: Int64
    /// When the family was revoked, if it was.
    var revokedAt: Int64?
    /// Until when the family's revocation is in force (meaningful when `revokedAt` is set).
    var revocationExpiresAt: Int64

    /// How many used tokens before `previous` are remembered: with it, reuse of any of the
    /// last 8 tokens of a family is detected; an older one is only `unknown`.
    static let maxOlderHashes = 7

    var isRevoked: Bool { revokedAt != nil }

    /// True if `hash` is of a token of this family that was issued and already rotated away
    /// from. Constant-time per comparison, and every remembered hash is compared.
    func wasUsed(_ hash: Digest32) -> Bool {
        var found = previous.map { $0.hash == hash } ?? false
        for h in olderHashes { found = (h == hash) || found }
        return found
    }

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
