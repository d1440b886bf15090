import JOSE

/// Route-level issuer rules.
enum IssuerPolicy {
    /// A route with `issuers` accepts tokens of those issuers only (the verified `iss`);
    /// another issuer's valid token is an invalid token here (401).
    static func admit(_ grant: AccessGrant, route: RouteConfig?) -> Result<AccessGrant, JOSEError> {
        guard let route, !route.issuers.isEmpty else { return .success(grant) }
        guard let iss = grant.issuer, route.issuers.contains(iss) else { return .failure(.issuerMismatch) }
        return .success(grant)
    }
}

/// Which trusted issuer a token claims to come from, read before verification to pick the
/// keys: its unverified `iss`. The signature and the exact `iss` are then checked with that
/// issuer's keys and rules, so a claim of A with B's key fails (A's set has no B key).
enum OutsideToken {
    static func issuerIndex(_ token: UnsafeRawBufferPointer, _ directory: IssuerDirectory) -> Int? {
        guard token.count <= JWSLimits().maxTokenBytes else { return nil }
        guard let dot1 = token.firstIndex(of: 0x2E) else { return nil }
        let rest = token[(dot1 + 1)...]
        guard let dot2 = rest.firstIndex(of: 0x2E) else { return nil }
        let segment = token[(dot1 + 1)..<dot2]
        guard segment.count <= Base64URL.encodedLength(JWSLimits().maxPayloadBytes),
            let payload = try? Base64URL.decode(segment),
            let claims = try? ClaimsScanner.scan(payload),
            let iss = claims.iss
        else { return nil }
        return directory.index(of: iss)
    }
}
