import JOSE

/// What a verified access token grants, derived once per token and kept with it in the
/// worker's verified-token cache: the principal, the scope and role lists, and the identity
/// header lines already rendered. A cache hit then costs a lookup, a revocation check and
/// a route check, with no parsing or allocation.
final class AccessGrant {
    let subject: String?
    let sid: String?
    let jti: String?
    /// The token's `exp`, in Unix ms (nil if it has none).
    let expiresAt: Int64?
    let scopes: [String]
    let roles: [String]
    /// The identity header lines, or nil when a claim cannot be forwarded (`unforwardable`).
    let identity: [UInt8]?
    let unforwardable: String?
    /// A client-credentials token: a `client_id` claim and no session (`MachineTokenPolicy`).
    let machine: Bool
    /// The verified `iss`, for routes that accept some issuers only.
    let issuer: String?

    /// `issuer`, when given, is the required issuer the claims were validated against
    /// (equal to their `iss`): its one shared string is kept rather than this token's copy,
    /// one object fewer to free cold when the cache evicts the grant.
    init(_ claims: Claims, names: borrowing IdentityHeaderNames, issuer: String? = nil) {
        assert(issuer == nil || issuer == claims.iss, "the validated issuer is the token's iss")
        self.issuer = issuer ?? claims.iss
        subject = claims.sub
        sid = claims.sid
        jti = claims.jti
        expiresAt = claims.exp.map(epochMillis)
        let scopes = claims.scopeList
        self.scopes = scopes
        roles = claims.roles
        machine = MachineTokenPolicy.isMachine(claims)
        var lines: [UInt8] = []
        do {
            // The scopes split once, for the grant and its header line alike.
            try IdentityHeaders.render(
                subject: claims.sub, scopes: claims.scope == nil ? nil : scopes, roles: claims.roles,
                session: claims.sid, claims: claims, extra: [], names: names, into: &lines)
            identity = lines
            unforwardable = nil
        } catch {
            identity = nil
            unforwardable = error.claim
        }
    }

    /// An outside issuer's grant: scopes, roles and extra header values come from its
    /// claim mapping (`TrustedIssuer`); its `sid` is kept for revocation but not forwarded
    /// as the gateway's session header, which names the gateway's own sessions.
    init(
        _ claims: Claims, issuerIndex: Int, scopes: [String], roles: [String],
        extra: [(header: String, value: String, claim: String)], names: IdentityHeaderNames
    ) {
        issuer = claims.iss
        subject = claims.sub
        sid = claims.sid
        jti = claims.jti
        expiresAt = claims.exp.map(epochMillis)
        self.scopes = scopes
        self.roles = roles
        machine = MachineTokenPolicy.isMachine(claims)
        var lines: [UInt8] = []
        do {
            try IdentityHeaders.render(
                subject: claims.sub, scopes: scopes.isEmpty ? nil : scopes, roles: roles, session: nil, claims: claims,
                extra: extra,
                names: names, into: &lines)
            identity = lines
            unforwardable = nil
        } catch {
            identity = nil
            unforwardable = error.claim
        }
    }
}

/// Seconds (a NumericDate) as milliseconds, saturating: validated claims are in 1970...9999,
/// but a conversion that can trap must not depend on that.
func epochMillis(_ seconds: Double) -> Int64 {
    guard seconds.isFinite else { return seconds > 0 ? .max : 0 }
    let ms = (seconds * 1000).rounded(.down)
    if ms >= 9.2e18 { return .max }
    if ms <= -9.2e18 { return .min }
    return Int64(ms)
}

/// `a + b` without trapping.
func saturatingSum(_ a: Int64, _ b: Int64) -> Int64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? (b > 0 ? .max : .min) : sum
}
