/// The RFC 8414 authorization-server metadata, derived from the configuration (pure): a
/// field is listed only when what it announces is served by this configuration.
struct DiscoveryMetadata: Sendable, Equatable {
    /// What the metadata is derived from.
    struct Inputs: Sendable {
        var issuer: String
        var tokenPath: String?
        /// Nil when JWKS is off or has no public key to publish (HMAC only).
        var jwksPath: String?
        var revocationPath: String?
        var introspectionPath: String?
        /// Password grant (an authenticator is configured).
        var password: Bool
        /// Any client may use client_credentials.
        var clientCredentials: Bool
        /// A clients file is configured (secret methods are then accepted).
        var confidentialClients: Bool
    }

    enum Problem: Error, Equatable {
        case issuerNotURL
    }

    /// Where the documents are served (RFC 8414 §3, OpenID Connect Discovery §4).
    let authorizationServerPath: String
    let openIDPath: String
    /// `[(name, value)]` in document order; values are strings or string arrays.
    let fields: [(String, JSONValue)]

    static func == (a: DiscoveryMetadata, b: DiscoveryMetadata) -> Bool { a.document == b.document }

    var document: [UInt8] {
        var out: [UInt8] = []
        JSONWriter.serialize(.object(fields), to: &out)
        return out
    }

    /// `issuer` must be an `https://` (or, for tests on loopback, `http://`) URL without query or
    /// fragment (RFC 8414 §2); endpoint URLs are its origin followed by the gateway's paths.
    init(_ i: Inputs) throws(Problem) {
        let scheme: String
        if i.issuer.hasPrefix("https://") {
            scheme = "https://"
        } else if i.issuer.hasPrefix("http://") {
            scheme = "http://"
        } else {
            throw .issuerNotURL
        }
        guard !i.issuer.contains("?"), !i.issuer.contains("#") else { throw .issuerNotURL }
        let rest = i.issuer.dropFirst(scheme.count)
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard authorityEnd != rest.startIndex else { throw .issuerNotURL }
        let origin = String(i.issuer[..<authorityEnd])
        var issuerPath = String(rest[authorityEnd...])
        while issuerPath.hasSuffix("/") { issuerPath.removeLast() }
        authorizationServerPath = "/.well-known/oauth-authorization-server" + issuerPath
        openIDPath = issuerPath + "/.well-known/openid-configuration"

        func url(_ path: String) -> JSONValue { .string(origin + path) }
        func list(_ items: [String]) -> JSONValue { .array(items.map { .string($0) }) }
        var f: [(String, JSONValue)] = [("issuer", .string(i.issuer))]
        let secretMethods = i.confidentialClients ? ["client_secret_basic", "client_secret_post"] : []
        if let p = i.tokenPath {
            f.append(("token_endpoint", url(p)))
            var grants: [String] = []
            if i.password { grants.append("password") }
            grants.append("refresh_token")
            if i.clientCredentials { grants.append("client_credentials") }
            f.append(("grant_types_supported", list(grants)))
            // Public clients (a client_id, no secret) use the password and refresh grants.
            f.append(("token_endpoint_auth_methods_supported", list(["none"] + secretMethods)))
        }
        if let p = i.jwksPath { f.append(("jwks_uri", url(p))) }
        if let p = i.revocationPath {
            f.append(("revocation_endpoint", url(p)))
            f.append(("revocation_endpoint_auth_methods_supported", list(["none"] + secretMethods)))
        }
        if let p = i.introspectionPath, i.confidentialClients {
            f.append(("introspection_endpoint", url(p)))
            f.append(("introspection_endpoint_auth_methods_supported", list(secretMethods)))
        }
        fields = f
    }
}

/// `GET` the metadata document: public, cacheable for 5 minutes (it changes only on reload).
struct MetadataHandler: LocalHandler {
    let document: [UInt8]
    var maxBodyBytes: Int { 0 }

    func handle(_ request: LocalRequest, respond: LocalResponder) {
        guard request.method == .get || request.method == .head else {
            return respond.respond(AuthEndpoints.methodNotAllowed("GET, HEAD"))
        }
        respond.respond(.json(200, document, headers: [("Cache-Control", "public, max-age=300")]))
    }
}
