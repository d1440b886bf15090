/// Wires `auth.token_service` into a runtime generation: the clients file is read and the
/// metadata derived before anything is swapped in (a bad file fails the reload or the
/// start), and the handlers are added to the gateway's own paths.
struct TokenServiceSetup: Sendable {
    let settings: TokenServiceSettings
    let registry: ClientRegistry?
    let metadata: DiscoveryMetadata?

    /// Nil when the section is absent.
    static func prepare(config: GatewayConfig, keys: TokenKeys, hasAuthenticator: Bool) throws(ConfigError)
        -> TokenServiceSetup?
    {
        guard let s = config.auth.tokenService else { return nil }
        let registry = try s.clientsFile.map { (path) throws(ConfigError) in
            try ClientRegistry.load(path: path, maxAccessTTL: keys.settings.accessTTL)
        }
        var metadata: DiscoveryMetadata?
        if s.metadata {
            let a = config.auth
            let publishesKeys = keys.jwks != Array("{\"keys\":[]}".utf8)
            let inputs = DiscoveryMetadata.Inputs(
                issuer: keys.settings.issuer, tokenPath: keys.canSign ? a.tokenPath : nil,
                jwksPath: publishesKeys ? a.jwksPath : nil,
                revocationPath: s.revocationPath, introspectionPath: registry == nil ? nil : s.introspectionPath,
                password: hasAuthenticator && keys.canSign,
                clientCredentials: keys.canSign && registry?.allows("client_credentials") == true,
                confidentialClients: registry != nil)
            do {
                metadata = try DiscoveryMetadata(inputs)
            } catch {
                throw ConfigError(
                    "auth.token_service.metadata",
                    "needs tokens.issuer to be an https:// URL without query or fragment (RFC 8414 §2), or set it to false"
                )
            }
        }
        return TokenServiceSetup(settings: s, registry: registry, metadata: metadata)
    }

    /// Adds (or, for the token path, replaces) the handlers.
    func register(
        into local: inout [([UInt8], LocalHandler)], services: TokenServices, keys: TokenKeys,
        endpoints: AuthEndpoints, auth: AuthSettings
    ) {
        let service = TokenService(
            settings: settings, services: services, keys: keys, endpoints: endpoints, registry: registry, auth: auth)
        if registry != nil, let p = auth.tokenPath {
            let path = Array(p.utf8)
            local.removeAll { $0.0 == path }
            local.append((path, ClientTokenEndpointHandler(service: service)))
        }
        if let p = settings.revocationPath { local.append((Array(p.utf8), RevocationHandler(service: service))) }
        if registry != nil, let p = settings.introspectionPath {
            local.append((Array(p.utf8), IntrospectionHandler(service: service)))
        }
        if let metadata {
            let handler = MetadataHandler(document: metadata.document)
            local.append((Array(metadata.authorizationServerPath.utf8), handler))
            local.append((Array(metadata.openIDPath.utf8), handler))
        }
    }
}
