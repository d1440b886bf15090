import TokenStore

/// The same size limits as the other backends (`StoreLimits` in `TokenStore`, internal
/// there): a larger request is refused with `.unavailable(reason:)` before it reaches Redis.
enum RedisStoreLimits {
    static let maxIdentifier = 1024
    static let maxClaims = 256 * 1024
    static let maxGraceBlob = 16 * 1024

    static func check(identifier s: String, _ what: String) -> String? {
        s.utf8.count <= maxIdentifier ? nil : "\(what) longer than \(maxIdentifier) bytes"
    }

    static func check(_ f: NewFamily) -> String? {
        check(identifier: f.sid, "sid") ?? check(identifier: f.subject, "subject")
            ?? check(identifier: f.accessJti, "jti")
            ?? (f.claims.count <= maxClaims ? nil : "claims longer than \(maxClaims) bytes")
    }

    static func check(_ r: RotationRequest) -> String? {
        check(identifier: r.newAccessJti, "jti")
            ?? (r.graceBlob.count <= maxGraceBlob ? nil : "grace blob longer than \(maxGraceBlob) bytes")
    }
}
