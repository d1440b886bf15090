import TokenStore

/// Revoked families (`sid`) and access tokens (`jti`), each until the moment no access token
/// it covers can still be valid. One copy per worker, so the request path checks it in
/// O(1) without a lock; `RevocationHub` keeps the copies in step.
struct RevocationList {
    private var families: [String: Int64] = [:]
    private var tokens: [String: Int64] = [:]
    private var nextSweep: Int64 = 0

    var count: Int { families.count + tokens.count }

    /// Whether a token with this sid and jti is revoked at `now` (Unix ms).
    func isRevoked(sid: String?, jti: String?, now: Int64) -> Bool {
        // Empty lists (the common case) cost no hashing.
        if !families.isEmpty, let sid, let until = families[sid], until > now { return true }
        if !tokens.isEmpty, let jti, let until = tokens[jti], until > now { return true }
        return false
    }

    mutating func apply(_ r: Revocation) {
        switch r.target {
        case .family(let sid): families[sid] = max(families[sid] ?? 0, r.expiresAt)
        case .token(let jti): tokens[jti] = max(tokens[jti] ?? 0, r.expiresAt)
        }
    }

    /// Forgets entries whose time has passed; cheap unless a sweep is due (every 10 s).
    mutating func sweep(now: Int64) {
        guard now >= nextSweep else { return }
        nextSweep = now + 10_000
        if !families.isEmpty { families = families.filter { $0.value > now } }
        if !tokens.isEmpty { tokens = tokens.filter { $0.value > now } }
    }

    var all: [Revocation] {
        families.map { Revocation(target: .family(sid: $0.key), expiresAt: $0.value) }
            + tokens.map { Revocation(target: .token(jti: $0.key), expiresAt: $0.value) }
    }
}
