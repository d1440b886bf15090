import HTTP1
import TLS

/// An immutable snapshot of everything a request needs that comes from configuration.
/// A reload builds a new one and each worker swaps it in between requests; an exchange in
/// flight keeps the snapshot it started with.
final class GatewayRuntime: Sendable {
    let config: GatewayConfig
    let routes: RouteTable
    let httpLimits: HTTPLimits
    /// The gateway's own paths (normalised bytes) and what answers them.
    let localRoutes: LocalRouteTable
    /// Token verification; nil when the configuration has no `tokens`.
    let auth: AuthRuntime?
    let cors: CORSPolicy?
    /// What the admin listener serves (no routes, only /healthz, /readyz, /metrics).
    let admin: GatewayRuntime?
    /// The public listener's TLS context (certificates of this generation); nil: plaintext.
    let tls: TLSContext?
    /// One client context per distinct `https://` upstream setting of the routes.
    let upstreamTLS: [UpstreamTLS: TLSContext]

    init(
        config: GatewayConfig, auth: AuthRuntime?, localRoutes: [([UInt8], LocalHandler)] = [],
        admin: GatewayRuntime? = nil, tls: TLSContext? = nil, upstreamTLS: [UpstreamTLS: TLSContext] = [:]
    ) {
        self.config = config
        self.tls = tls
        self.upstreamTLS = upstreamTLS
        self.admin = admin
        self.auth = auth
        self.localRoutes = LocalRouteTable(localRoutes)
        self.cors = config.cors.map(CORSPolicy.init(settings:))
        self.routes = RouteTable(
            config.routes, identityHeaders: config.identityHeaders.allNames,
            gatewayCookies: [config.auth.refreshCookie].compactMap { $0 })
        self.httpLimits = HTTPLimits(
            maxRequestLine: config.limits.maxRequestLine, maxHeaderBytes: config.limits.maxHeaderBytes,
            maxHeaderCount: config.limits.maxHeaderCount)
    }
}
