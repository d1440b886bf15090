/// `auth.token_service`: discovery metadata, registered clients, client_credentials, RFC 7009
/// revocation and RFC 7662 introspection (issue 14). Absent: none of it is served.
public struct TokenServiceSettings: Sendable, Equatable {
    /// The clients file (`gateway hash-client-secret` makes its hashes); nil: no confidential clients.
    public var clientsFile: String?
    public var revocationPath: String? = "/oauth/revoke"
    public var introspectionPath: String? = "/oauth/introspect"
    /// Serve RFC 8414 and OpenID discovery documents derived from the configuration.
    public var metadata = true
    /// Entries kept by the introspection answer cache.
    public var introspectionCacheEntries = 4096

    /// The paths this section adds, for the "own paths differ" check.
    var paths: [String] { [revocationPath, introspectionPath].compactMap { $0 } }
}

/// Which kind of token a route accepts (`routes[].machine_tokens`).
public enum MachineTokens: String, Sendable, Equatable {
    /// Users' and machines' tokens alike (default).
    case allow
    /// Only client-credentials tokens (a `client_id` claim and no session).
    case require
    /// Only users' tokens.
    case refuse
}

extension GatewayConfig {
    static func readTokenService(_ root: inout ConfigReader, base: String) -> TokenServiceSettings? {
        guard var r = root.object("token_service") else { return nil }
        var s = TokenServiceSettings()
        if let p = r.string("clients_file") { s.clientsFile = FileIO.resolve(p, against: base) }
        func path(_ key: String, _ value: inout String?) {
            if r.has(key), r.raw(key) == .null { value = nil } else if let p = r.string(key) { value = p }
        }
        path("revocation_path", &s.revocationPath)
        path("introspection_path", &s.introspectionPath)
        s.metadata = r.bool("metadata", default: true)
        s.introspectionCacheEntries = r.int(
            "introspection_cache_entries", default: s.introspectionCacheEntries, range: 0...1_000_000)
        if s.introspectionPath != nil && s.clientsFile == nil {
            r.issues.add(
                r.child("introspection_path"),
                "needs clients_file: only authenticated clients may introspect (set it to null to turn it off)")
        }
        r.finish()
        return s
    }

    static func readMachineTokens(_ r: inout ConfigReader) -> MachineTokens {
        guard let text = r.string("machine_tokens") else { return .allow }
        guard let v = MachineTokens(rawValue: text) else {
            r.issues.add(r.child("machine_tokens"), "must be allow, require or refuse")
            return .allow
        }
        return v
    }
}
