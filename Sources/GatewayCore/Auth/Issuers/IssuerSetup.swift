import HTTPClient
import JOSE
import TLS

/// Builds the trusted issuers of one configuration generation: policies, TLS contexts and
/// file keys are all read before anything is swapped in, so a bad CA or JWKS file keeps the
/// running generation (as for the gateway's own keys).
struct IssuerSetup {
    let directory: IssuerDirectory
    let sources: [IssuerKeyFetcher.Source]

    init(tokens: TokenSettings) throws(ConfigError) {
        var issues: [ConfigError.Issue] = []
        var issuers: [TrustedIssuer] = []
        var sources: [IssuerKeyFetcher.Source] = []
        for (i, s) in tokens.trustedIssuers.enumerated() {
            let path = "tokens.trusted_issuers[\(i)]"
            let issuer = TrustedIssuer(settings: s, index: i, leeway: tokens.leeway)
            var source = IssuerKeyFetcher.Source()
            switch s.keys {
            case .jwksURI(let u): source.jwksURL = HTTPClientURL(u)
            case .discovery(let u): source.discoveryURL = HTTPClientURL(u)
            case .jwksFile(let p):
                do {
                    let set = try IssuerDocuments.keys(try FileIO.read(p, limit: s.maxJWKSBytes))
                    source.staticKeys = IssuerKeys(issuer.verifier(set), count: set.keys.count)
                } catch let e as IssuerDocuments.Failure {
                    issues.append(.init(path: "\(path).jwks_file", message: e.description))
                } catch {
                    issues.append(.init(path: "\(path).jwks_file", message: "cannot read: \(error)"))
                }
            }
            if source.jwksURL?.isTLS == true || source.discoveryURL?.isTLS == true {
                var c = TLSClientConfiguration()
                c.caPath = s.caFile
                c.alpn = ["http/1.1"]
                do {
                    source.tls = try TLSContext.client(c)
                } catch {
                    issues.append(.init(path: "\(path).ca_file", message: error.description))
                }
            }
            issuers.append(issuer)
            sources.append(source)
        }
        guard issues.isEmpty else { throw ConfigError(issues: issues) }
        directory = IssuerDirectory(issuers: issuers)
        self.sources = sources
    }

    /// Starts fetching for this generation on the background loop and makes it the one
    /// `/readyz` and `/metrics` report (the previous generation's fetcher stops).
    func install(in context: ServerContext, logger: Logger) {
        let fetcher = IssuerKeyFetcher(
            directory: directory, sources: sources, loop: BackgroundLoop.shared, logger: logger)
        context.issuers.install(directory, fetcher: fetcher)
    }
}
