import JOSE

/// The fixed policy of one outside issuer (from its settings): which tokens are accepted
/// and how their claims become a grant. The keys change at run time and live apart
/// (`IssuerKeys`); this does not.
struct TrustedIssuer: Sendable {
    let settings: TrustedIssuerSettings
    /// 1-based: 0 is the gateway's own issuer in `AccessGrant.issuerIndex`.
    let grantIndex: Int
    let allowed: JWSAlgorithmSet
    let rules: ClaimRules

    init(settings: TrustedIssuerSettings, index: Int, leeway: Int64) {
        self.settings = settings
        grantIndex = index + 1
        var allowed = JWSAlgorithmSet()
        for name in settings.algorithms {
            if let a = try? JWSAlgorithm(name: name) { allowed.insert(a) }
        }
        self.allowed = allowed
        // Audience and typ are checked here, not by JOSE: several audiences, and typ by policy.
        rules = ClaimRules(
            issuer: settings.issuer, audience: nil, leeway: Double(leeway) / 1000, requireExpiration: true,
            requireAccessTokenType: false)
    }

    /// A verifier over `keys` with this issuer's rules.
    func verifier(_ keys: JWSKeySet) -> AccessTokenVerifier {
        AccessTokenVerifier(keys: keys, allowedAlgorithms: allowed, rules: rules)
    }

    /// The policy beyond signature and time: typ, audience, required claims.
    func check(_ token: VerifiedJWS) throws(JOSEError) {
        switch settings.typ {
        case .accessToken:
            if !token.header.isAccessTokenType { throw .typeMismatch }
        case .jwt:
            if let t = token.header.typ, !token.header.isAccessTokenType {
                let lower = t.lowercased()
                if lower != "jwt" && lower != "application/jwt" { throw .typeMismatch }
            }
        case .any:
            break
        }
        let aud = token.claims.aud
        if aud.isEmpty { throw .missingClaim("aud") }
        if !settings.audiences.contains(where: aud.contains) { throw .audienceMismatch }
        for name in settings.requiredClaims
        where token.claims.kind(of: name) == nil || token.claims.kind(of: name) == .null {
            throw .missingClaim(name)
        }
    }

    /// Scopes, roles and identity headers of a verified token, by this issuer's mapping.
    func grant(_ claims: Claims, names: IdentityHeaderNames) -> AccessGrant {
        let scopes = ClaimPath.strings(claims, settings.scopeClaim, splitSpaces: true)
        let roles = ClaimPath.strings(claims, settings.rolesClaim, splitSpaces: false)
        var extra: [(String, String, String)] = []
        for (path, header) in settings.claimHeaders {
            if let v = ClaimPath.text(claims, path) { extra.append((header, v, path.joined(separator: "."))) }
        }
        return AccessGrant(claims, issuerIndex: grantIndex, scopes: scopes, roles: roles, extra: extra, names: names)
    }
}

/// Reads claims by path (`realm_access.roles`, `resource_access.<client>.roles`), for the
/// mapping of outside tokens. Top-level claims come straight from the scanned token; nested
/// ones parse that claim's JSON once (on a cache miss only).
enum ClaimPath {
    /// A list of strings: an array of strings, or one string (split on spaces if asked).
    /// Non-string entries are ignored.
    static func strings(_ claims: Claims, _ path: [String], splitSpaces: Bool) -> [String] {
        guard let v = value(claims, path) else { return [] }
        switch v {
        case .string(let s):
            return splitSpaces ? s.split(separator: " ").map(String.init) : [s]
        case .array(let items):
            return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
        default:
            return []
        }
    }

    /// A value for a header: strings as they are, other values as JSON text.
    static func text(_ claims: Claims, _ path: [String]) -> String? {
        if path.count == 1 { return claims.textValue(path[0]) }
        guard let v = value(claims, path) else { return nil }
        if case .string(let s) = v { return s }
        var out: [UInt8] = []
        JSONWriter.serialize(v, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func value(_ claims: Claims, _ path: [String]) -> JSONValue? {
        guard let first = path.first, let raw = claims.rawValue(first) else { return nil }
        guard var v = try? JSONParser.parse(Array(raw), maxDepth: 16) else { return nil }
        for name in path.dropFirst() {
            guard let next = v[name] else { return nil }
            v = next
        }
        return v
    }
}
