/// Sizes the store accepts. Far above what the gateway produces; they exist so that one
/// record always fits the journal's framing and a bad caller cannot grow the state without
/// bound. Every backend refuses a larger request with `.unavailable(reason:)`.
public enum StoreLimits {
    /// sid, subject, jti (UTF-8 bytes).
    public static let maxIdentifier = 1024
    public static let maxClaims = 256 * 1024
    public static let maxGraceBlob = 16 * 1024

    /// The reason `s` is refused, or nil.
    public static func check(identifier s: String, _ what: String) -> String? {
        s.utf8.count <= maxIdentifier ? nil : "\(what) longer than \(maxIdentifier) bytes"
    }

    public static func check(_ f: NewFamily) -> String? {
        check(identifier: f.sid, "sid") ?? check(identifier: f.subject, "subject")
            ?? check(identifier: f.accessJti, "jti")
            ?? (f.claims.count <= maxClaims ? nil : "claims longer than \(maxClaims) bytes")
    }

    /// A change read back from disk: the journal only ever wrote changes that passed the
    /// checks above, so one that does not is damage (or a forgery), refused before it can
    /// grow the state past what a snapshot record holds.
    static func check(_ c: StateChange) -> String? {
        switch c {
        case .familyCreated(let f):
            return check(f)
        case .rotated(let sid, _, let jti, let grace, _, _):
            return check(identifier: sid, "sid") ?? check(identifier: jti, "jti")
                ?? (grace.count <= maxGraceBlob ? nil : "grace blob longer than \(maxGraceBlob) bytes")
        case .familyRevoked(let sid, _, _):
            return check(identifier: sid, "sid")
        case .tokenRevoked(let jti, _, _):
            return check(identifier: jti, "jti")
        }
    }

    public static func check(_ r: RotationRequest) -> String? {
        check(identifier: r.newAccessJti, "jti")
            ?? (r.graceBlob.count <= maxGraceBlob ? nil : "grace blob longer than \(maxGraceBlob) bytes")
    }
}

/// `a + b` without trapping: times and TTLs come from callers.
@inline(__always)
func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? (b > 0 ? .max : .min) : sum
}
