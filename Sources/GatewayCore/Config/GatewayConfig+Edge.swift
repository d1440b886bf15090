/// Settings for running behind load balancers and ingress controllers (`docs/configuration.md`,
/// "Behind load balancers").
public struct EdgeSettings: Sendable, Equatable {
    /// Peers whose `X-Forwarded-*` / `Forwarded` headers, PROXY headers and forward-auth
    /// requests are believed.
    public var trustedProxies = TrustedProxies()
    /// The public listener expects a PROXY protocol v1/v2 header on every connection, from
    /// trusted proxies only.
    public var proxyProtocol = false
    /// How long a trusted proxy has to send that header.
    public var proxyProtocolTimeout: Int64 = 5_000
    /// Re-resolution and passive/active health of upstream addresses.
    public var upstreamHealth = UpstreamHealthSettings()

    public init() {}
}

extension GatewayConfig {
    /// `trusted_proxies`, `proxy_protocol`, `proxy_protocol_timeout`, `upstream_health` (top level).
    static func readEdge(_ r: inout ConfigReader) -> EdgeSettings {
        var e = EdgeSettings()
        if let list = r.strings("trusted_proxies") {
            for (i, text) in list.enumerated() {
                if let block = CIDRBlock(parsing: text) {
                    e.trustedProxies.blocks.append(block)
                } else {
                    r.issues.add(
                        "\(r.child("trusted_proxies"))[\(i)]",
                        "\(JSONWriter.quoted(text)) must be a numeric IPv4 or IPv6 address or CIDR block with no host bits set, e.g. 10.0.0.0/8 or fd00::/8"
                    )
                }
            }
        }
        e.proxyProtocol = r.bool("proxy_protocol", default: false)
        e.proxyProtocolTimeout = r.duration(
            "proxy_protocol_timeout", default: e.proxyProtocolTimeout, range: 100...60_000)
        e.upstreamHealth = readUpstreamHealth(&r)
        if e.proxyProtocol && e.trustedProxies.isEmpty {
            r.issues.add(r.child("proxy_protocol"), "needs trusted_proxies: a PROXY header is accepted only from them")
        }
        return e
    }
}
