import HTTPClient

/// One `tokens.trusted_issuers[]` entry: an outside identity provider whose access tokens
/// protected routes accept, verified statelessly with its published keys.
public struct TrustedIssuerSettings: Sendable, Equatable {
    /// Where the keys come from.
    public enum KeySourceKind: Sendable, Equatable {
        /// `jwks_uri`, fetched and cached.
        case jwksURI(String)
        /// OIDC discovery (`{issuer}/.well-known/openid-configuration`), then its `jwks_uri`.
        case discovery(String)
        /// A JWK Set file read at start-up and on reload, as the gateway's own keys are.
        case jwksFile(String)
    }

    /// Which header `typ` values are accepted (RFC 9068 §2.1, RFC 7519 §5.1).
    public enum TypPolicy: String, Sendable, Equatable {
        /// `at+jwt` or `application/at+jwt` only (RFC 9068).
        case accessToken = "at+jwt"
        /// `JWT`, `at+jwt`, or no `typ` (what Keycloak, Auth0, Entra ID and Google send).
        case jwt = "jwt"
        /// Anything.
        case any = "any"
    }

    /// The exact `iss` value (RFC 7519 §4.1.1).
    public var issuer: String
    public var keys: KeySourceKind
    /// `aud` must contain at least one of these.
    public var audiences: [String]
    /// JWS algorithm allow-list (default RS256).
    public var algorithms: [String]
    public var typ: TypPolicy
    /// Claims that must be present.
    public var requiredClaims: [String]
    /// Where scopes come from: a space-separated string (`scope`) or an array (`scp`).
    public var scopeClaim: [String]
    /// Where roles come from: a path to an array of strings (`realm_access.roles`).
    public var rolesClaim: [String]
    /// Claim path → identity header name.
    public var claimHeaders: [(path: [String], header: String)]
    /// CA bundle for an https key source (the system store when nil); never unverified.
    public var caFile: String?
    public var minRefresh: Int64
    public var maxRefresh: Int64
    public var unknownKidInterval: Int64
    public var maxStaleness: Int64
    public var fetchTimeout: Int64
    public var maxJWKSBytes: Int

    public static func == (a: TrustedIssuerSettings, b: TrustedIssuerSettings) -> Bool {
        a.issuer == b.issuer && a.keys == b.keys && a.audiences == b.audiences && a.algorithms == b.algorithms
            && a.typ == b.typ && a.requiredClaims == b.requiredClaims && a.scopeClaim == b.scopeClaim
            && a.rolesClaim == b.rolesClaim
            && a.claimHeaders.map { $0.path.joined(separator: ".") + ":" + $0.header }
                == b.claimHeaders.map { $0.path.joined(separator: ".") + ":" + $0.header }
            && a.caFile == b.caFile && a.minRefresh == b.minRefresh && a.maxRefresh == b.maxRefresh
            && a.unknownKidInterval == b.unknownKidInterval && a.maxStaleness == b.maxStaleness
            && a.fetchTimeout == b.fetchTimeout && a.maxJWKSBytes == b.maxJWKSBytes
    }
}

extension GatewayConfig {
    static let jwsAlgorithmNames = [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
    ]

    /// Reads `tokens.trusted_issuers` (absent: none).
    static func readTrustedIssuers(_ tokens: inout ConfigReader, base: String, ownIssuer: String)
        -> [TrustedIssuerSettings]
    {
        guard let raw = tokens.raw("trusted_issuers") else { return [] }
        guard case .array(let items) = raw else {
            tokens.issues.add(tokens.child("trusted_issuers"), "must be an array")
            return []
        }
        var out: [TrustedIssuerSettings] = []
        var seen: Set<String> = [ownIssuer]
        for (i, item) in items.enumerated() {
            guard var r = ConfigReader(item, path: "\(tokens.child("trusted_issuers"))[\(i)]", issues: tokens.issues)
            else { continue }
            if let t = readTrustedIssuer(&r, base: base) {
                if !seen.insert(t.issuer).inserted {
                    r.issues.add(
                        r.child("issuer"),
                        "\(JSONWriter.quoted(t.issuer)) is listed twice (or is the gateway's own issuer)")
                }
                out.append(t)
            }
            r.finish()
        }
        return out
    }

    private static func readTrustedIssuer(_ r: inout ConfigReader, base: String) -> TrustedIssuerSettings? {
        let issuer = r.string("issuer", required: true) ?? ""
        if r.has("issuer"), issuer.isEmpty || issuer.utf8.contains(where: { $0 < 0x21 || $0 > 0x7E }) {
            r.issues.add(r.child("issuer"), "must be a non-empty string of visible ASCII")
        }
        var sources: [TrustedIssuerSettings.KeySourceKind] = []
        if let u = r.string("jwks_uri") {
            if validFetchURL(u) {
                sources.append(.jwksURI(u))
            } else {
                r.issues.add(r.child("jwks_uri"), "must be an https:// URL (http:// only for 127.0.0.1 or localhost)")
            }
        }
        if let f = r.string("jwks_file") { sources.append(.jwksFile(FileIO.resolve(f, against: base))) }
        if r.bool("discovery", default: false) {
            let u = discoveryURL(issuer)
            if validFetchURL(u) {
                sources.append(.discovery(u))
            } else {
                r.issues.add(r.child("discovery"), "needs an https:// issuer (http:// only for 127.0.0.1 or localhost)")
            }
        }
        if sources.count != 1 {
            r.issues.add(r.path, "needs exactly one of jwks_uri, jwks_file, \"discovery\": true")
        }
        let audiences = r.strings("audiences") ?? []
        if audiences.isEmpty || audiences.contains(where: \.isEmpty) {
            r.issues.add(r.child("audiences"), "is required: the audiences (aud values) this gateway accepts")
        }
        let algorithms = r.strings("algorithms") ?? ["RS256"]
        for a in algorithms where !jwsAlgorithmNames.contains(a) {
            r.issues.add(
                r.child("algorithms"),
                "\(JSONWriter.quoted(a)) is not an asymmetric JWS algorithm (\(jwsAlgorithmNames.joined(separator: ", ")))"
            )
        }
        if algorithms.isEmpty { r.issues.add(r.child("algorithms"), "must not be empty") }
        let typText = r.string("typ") ?? "jwt"
        let typ = TrustedIssuerSettings.TypPolicy(rawValue: typText)
        if typ == nil { r.issues.add(r.child("typ"), "must be \"at+jwt\", \"jwt\" or \"any\"") }
        let scope = claimPath(&r, "scope_claim") ?? ["scope"]
        let roles = claimPath(&r, "roles_claim") ?? ["roles"]
        var headers: [(path: [String], header: String)] = []
        if case .object(let members)? = r.raw("claim_headers") {
            for (claim, value) in members {
                guard case .string(let header) = value, isHeaderName(header) else {
                    r.issues.add("\(r.child("claim_headers")).\(claim)", "must be a valid header name")
                    continue
                }
                let path = claim.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                if path.contains(where: \.isEmpty) {
                    r.issues.add("\(r.child("claim_headers")).\(claim)", "is not a claim path")
                }
                headers.append((path, header))
            }
        } else if r.has("claim_headers") {
            r.issues.add(r.child("claim_headers"), "must be an object of claim path → header name")
        }
        let required = r.strings("required_claims") ?? []
        let caFile = r.string("ca_file").map { FileIO.resolve($0, against: base) }
        let t = TrustedIssuerSettings(
            issuer: issuer, keys: sources.first ?? .jwksFile(""), audiences: audiences, algorithms: algorithms,
            typ: typ ?? .jwt, requiredClaims: required, scopeClaim: scope, rolesClaim: roles, claimHeaders: headers,
            caFile: caFile,
            minRefresh: r.duration("min_refresh", default: 60_000, range: 1000...86_400_000),
            maxRefresh: r.duration("max_refresh", default: 86_400_000, range: 1000...(7 * 86_400_000)),
            unknownKidInterval: r.duration("unknown_kid_interval", default: 10_000, range: 100...3_600_000),
            maxStaleness: r.duration("max_staleness", default: 86_400_000, range: 1000...(30 * 86_400_000)),
            fetchTimeout: r.duration("fetch_timeout", default: 5_000, range: 100...60_000),
            maxJWKSBytes: r.int("max_jwks_bytes", default: 256 * 1024, range: 1024...(4 << 20)))
        if t.minRefresh > t.maxRefresh { r.issues.add(r.child("min_refresh"), "must not exceed max_refresh") }
        return t
    }

    /// A claim path: `"realm_access.roles"` (split on dots) or `["resource_access", "my.client", "roles"]`.
    private static func claimPath(_ r: inout ConfigReader, _ key: String) -> [String]? {
        switch r.raw(key) {
        case nil, .null?: return nil
        case .string(let s)?:
            let p = s.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if p.contains(where: \.isEmpty) { r.issues.add(r.child(key), "is not a claim path") }
            return p
        case .array(let items)?:
            let p = items.compactMap { if case .string(let s) = $0 { s } else { nil } }
            if p.count != items.count || p.isEmpty || p.contains(where: \.isEmpty) {
                r.issues.add(r.child(key), "must be a non-empty array of claim names")
            }
            return p
        case let other?:
            r.issues.add(r.child(key), "must be a claim path (a string or an array of names), not \(other.typeName)")
            return nil
        }
    }

    /// `{issuer}/.well-known/openid-configuration` (OIDC Discovery §4).
    static func discoveryURL(_ issuer: String) -> String {
        (issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer) + "/.well-known/openid-configuration"
    }

    /// https, or plain http to the loopback only (a test IdP, a sidecar).
    static func validFetchURL(_ text: String) -> Bool {
        guard let u = HTTPClientURL(text) else { return false }
        return u.isTLS || u.host == "127.0.0.1" || u.host == "localhost" || u.host == "::1"
    }

    /// Route `issuers` must name configured issuers.
    static func checkRouteIssuers(_ routes: [RouteConfig], tokens: TokenSettings?, issues: IssueList) {
        let known = Set([tokens?.issuer].compactMap { $0 } + (tokens?.trustedIssuers.map(\.issuer) ?? []))
        for (i, route) in routes.enumerated() {
            for name in route.issuers where !known.contains(name) {
                issues.add(
                    "routes[\(i)].issuers",
                    "\(JSONWriter.quoted(name)) is neither tokens.issuer nor a tokens.trusted_issuers entry")
            }
            if route.auth == .none && !route.issuers.isEmpty {
                issues.add("routes[\(i)].issuers", "the route has auth none: no token is checked")
            }
        }
    }
}
