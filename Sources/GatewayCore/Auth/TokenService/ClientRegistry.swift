import JOSE

/// One registered (confidential) client of the clients file.
struct RegisteredClient: Sendable, Equatable {
    /// Grants a client may be given (RFC 6749 §4).
    static let knownGrants: Set<String> = ["client_credentials", "password", "refresh_token"]

    var id: String
    /// A `PasswordHash` string (`gateway hash-client-secret`).
    var secretHash: String
    var grantTypes: Set<String>
    /// Scopes this client may ask for; a request without `scope` gets all of them.
    var scopes: [String]
    /// Audiences this client may ask for; the first is the default. Empty: `tokens.audience`.
    var audiences: [String]
    var roles: [String]
    /// Lifetime of its client-credentials tokens (ms); nil: `tokens.access_ttl`.
    var accessTTL: Int64?
    /// Whether this client may call the introspection endpoint.
    var mayIntrospect: Bool
}

/// The clients file, parsed and validated (pure: bytes in, registry or every problem out):
///
/// ```json
/// {"clients": [{"client_id": "billing", "secret_hash": "$scrypt$ln=17,r=8,p=1$...",
///               "grant_types": ["client_credentials"], "scope": "invoices:read invoices:write",
///               "audience": ["api"], "roles": ["service"], "access_ttl": "5m", "introspect": false}]}
/// ```
struct ClientRegistry: Sendable {
    let clients: [String: RegisteredClient]
    /// The slowest hash scheme of the file: what an unknown client id costs (`DecoyScheme`).
    let decoy: PasswordHash.Scheme

    subscript(id: String) -> RegisteredClient? { clients[id] }

    /// Whether any client may use `grant`.
    func allows(_ grant: String) -> Bool { clients.values.contains { $0.grantTypes.contains(grant) } }

    static func load(path: String, maxAccessTTL: Int64) throws(ConfigError) -> ClientRegistry {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path, limit: 16 << 20)
        } catch {
            throw ConfigError("auth.token_service.clients_file", "cannot read the clients file: \(error)")
        }
        return try parse(bytes, name: path, maxAccessTTL: maxAccessTTL)
    }

    /// `name` prefixes the JSON paths of problems.
    static func parse(_ bytes: [UInt8], name: String, maxAccessTTL: Int64) throws(ConfigError) -> ClientRegistry {
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes, maxDepth: 8)
        } catch {
            throw ConfigError("auth.token_service.clients_file", "\(name): \(error)")
        }
        let issues = IssueList()
        var clients: [String: RegisteredClient] = [:]
        var schemes: Set<PasswordHash.Scheme> = []
        if var top = ConfigReader(root, path: name, issues: issues) {
            if case .array(let list)? = top.raw("clients") {
                for (i, item) in list.enumerated() {
                    guard var r = ConfigReader(item, path: "\(name): clients[\(i)]", issues: issues) else { continue }
                    if let c = readClient(&r, maxAccessTTL: maxAccessTTL, schemes: &schemes) {
                        if clients[c.id] != nil {
                            issues.add(r.child("client_id"), "duplicate client_id \(JSONWriter.quoted(c.id))")
                        } else {
                            clients[c.id] = c
                        }
                    }
                    r.finish()
                }
            } else {
                issues.add(top.child("clients"), "is required: an array of clients")
            }
            top.finish()
        }
        guard issues.issues.isEmpty else { throw ConfigError(issues: issues.issues) }
        return ClientRegistry(clients: clients, decoy: DecoyScheme.slowest(of: schemes))
    }

    private static func readClient(
        _ r: inout ConfigReader, maxAccessTTL: Int64, schemes: inout Set<PasswordHash.Scheme>
    ) -> RegisteredClient? {
        let id = r.string("client_id", required: true)
        let hash = r.string("secret_hash", required: true)
        let grants = r.strings("grant_types") ?? ["client_credentials"]
        let scopes = (r.string("scope") ?? "").split(separator: " ").map(String.init)
        let audiences = r.strings("audience") ?? []
        let roles = r.strings("roles") ?? []
        let ttl: Int64? =
            r.has("access_ttl") ? r.duration("access_ttl", default: maxAccessTTL, range: 1000...maxAccessTTL) : nil
        let introspect = r.bool("introspect", default: false)
        var ok = true
        if let id, !isClientID(id) {
            r.issues.add(r.child("client_id"), "must be 1 to 128 visible ASCII characters without \":\"")
            ok = false
        }
        if let hash {
            do {
                schemes.insert(try PasswordHash.scheme(of: hash))
            } catch {
                r.issues.add(r.child("secret_hash"), "\(error) (make it with gateway hash-client-secret)")
                ok = false
            }
        }
        for g in grants where !RegisteredClient.knownGrants.contains(g) {
            r.issues.add(
                r.child("grant_types"), "\(JSONWriter.quoted(g)) is not client_credentials, password or refresh_token")
            ok = false
        }
        for s in scopes + roles where !isToken(s) {
            r.issues.add(r.path, "\(JSONWriter.quoted(s)) must be visible ASCII without quotes, commas or backslashes")
            ok = false
        }
        for a in audiences where a.isEmpty || a.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            r.issues.add(r.child("audience"), "audiences must be non-empty, without control characters")
            ok = false
        }
        guard ok, let id, let hash else { return nil }
        return RegisteredClient(
            id: id, secretHash: hash, grantTypes: Set(grants), scopes: scopes, audiences: audiences, roles: roles,
            accessTTL: ttl, mayIntrospect: introspect)
    }

    static func isClientID(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 128 && s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }
    }

    private static func isToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C && $0 != 0x2C }
    }
}
