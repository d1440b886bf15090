import HTTP1

/// A route ready for matching: its configuration plus byte forms of what is compared.
public final class Route: Sendable {
    public let config: RouteConfig
    /// Position in the configuration, for metrics and round-robin counters.
    public let index: Int
    let prefix: [UInt8]
    let methods: [HTTPMethod]
    /// Exact host, or (with `wildcard`) the suffix `.example.com` of `*.example.com`.
    let host: [UInt8]?
    let wildcard: Bool
    /// Request headers never forwarded on this route (`_` read as `-`): identity names
    /// (SPEC §3), the route's removals, the names it sets itself, the URL/method override
    /// headers it does not forward, and (when underscores are allowed) the `_` spellings of
    /// the names the gateway manages.
    let droppedRequestHeaders: HeaderNameSet
    let removedResponseHeaders: HeaderNameSet
    /// Names of the gateway's own cookies, removed from every forwarded `Cookie`.
    let gatewayCookies: [[UInt8]]

    init(config: RouteConfig, index: Int, identityHeaders: [String], gatewayCookies: [String] = []) {
        self.config = config
        self.index = index
        let forwarded = Set(config.forwardRequestHeaders.map(HeaderNameSet.fold))
        let overrides = ReservedRequestHeaders.overrides.filter { !forwarded.contains(HeaderNameSet.fold($0)) }
        let managed = config.allowUnderscoresInHeaders ? ReservedRequestHeaders.managed : []
        self.droppedRequestHeaders = HeaderNameSet(
            identityHeaders + config.removeRequestHeaders + config.setRequestHeaders.map(\.0) + overrides + managed)
        self.gatewayCookies = gatewayCookies.map { Array($0.utf8) }
        self.removedResponseHeaders = HeaderNameSet(
            config.removeResponseHeaders + config.setResponseHeaders.map(\.0))
        self.prefix = Array(config.path.utf8)
        self.methods = config.methods.map { HTTPMethod(name: $0) }
        if let h = config.host {
            if h.hasPrefix("*.") {
                self.host = Array(h.dropFirst(1).utf8)
                self.wildcard = true
            } else {
                self.host = Array(h.utf8)
                self.wildcard = false
            }
        } else {
            self.host = nil
            self.wildcard = false
        }
    }

    /// Prefix match on segment boundaries, case-sensitive (SPEC §8).
    func matchesPath(_ path: UnsafeRawBufferPointer) -> Bool {
        let n = prefix.count
        guard path.count >= n else { return false }
        let same = prefix.withUnsafeBytes { p in memcmp(p.baseAddress!, path.baseAddress!, n) == 0 }
        guard same else { return false }
        return n == 1 || path.count == n || path[n] == UInt8(ascii: "/")
    }

    /// `requestHost` is canonical (`HostCanonicalizer`), as the configured host is.
    func matchesHost(_ requestHost: UnsafeRawBufferPointer) -> Bool {
        guard let host else { return true }
        if wildcard {
            guard requestHost.count > host.count else { return false }
            let offset = requestHost.count - host.count
            return host.withUnsafeBytes { h in
                memcmp(h.baseAddress!, requestHost.baseAddress! + offset, host.count) == 0
            }
        }
        guard requestHost.count == host.count else { return false }
        return host.withUnsafeBytes { h in memcmp(h.baseAddress!, requestHost.baseAddress!, host.count) == 0 }
    }

    func allows(_ method: HTTPMethod) -> Bool {
        methods.isEmpty || methods.contains(method) || (method == .head && methods.contains(.get))
    }

    /// The path the upstream receives: the checked path, minus the prefix when stripping,
    /// under the upstream's base path.
    func upstreamPath(_ normalized: UnsafeRawBufferPointer, base: String, into out: inout HeadBuffer) {
        if !base.isEmpty { out.append(base) }
        var rest = normalized
        if config.stripPrefix && prefix.count > 1 {
            rest = UnsafeRawBufferPointer(rebasing: normalized[prefix.count...])
        }
        if rest.isEmpty {
            // `/me` stripped to nothing under base `/profile` is `/profile`, not `/profile/`.
            if base.isEmpty { out.append(UInt8(ascii: "/")) }
        } else {
            out.append(rest)
        }
    }
}

public enum RouteMatch {
    case route(Route)
    /// The path and host match routes, none of which allows this method.
    case methodNotAllowed(allow: [String])
    case notFound
}

/// Routes ordered for longest-prefix matching; host-specific routes before host-less ones
/// of the same prefix, so that `match` can return the first hit.
public final class RouteTable: Sendable {
    public let routes: [Route]

    public init(_ configs: [RouteConfig], identityHeaders: [String], gatewayCookies: [String] = []) {
        let routes = configs.enumerated().map {
            Route(
                config: $0.element, index: $0.offset, identityHeaders: identityHeaders, gatewayCookies: gatewayCookies)
        }
        self.routes = routes.sorted { a, b in
            if a.prefix.count != b.prefix.count { return a.prefix.count > b.prefix.count }
            if (a.host != nil) != (b.host != nil) { return a.host != nil }
            if a.wildcard != b.wildcard { return !a.wildcard }
            if a.methods.isEmpty != b.methods.isEmpty { return !a.methods.isEmpty }
            return a.index < b.index
        }
    }

    /// `path` is normalised; `host` canonical without port (empty if none).
    public func match(path: UnsafeRawBufferPointer, host: UnsafeRawBufferPointer, method: HTTPMethod) -> RouteMatch {
        var allow: [String] = []
        // The longest matching prefix owns the path: if none of its routes allows the method,
        // the answer is 405, never a shorter (perhaps less protected) route.
        var owner = -1
        for r in routes where r.matchesPath(path) && r.matchesHost(host) {
            if owner >= 0 && r.prefix.count < owner { break }
            if r.allows(method) { return .route(r) }
            owner = r.prefix.count
            allow.append(contentsOf: r.config.methods)
        }
        if allow.isEmpty { return .notFound }
        var seen = Set<String>()
        return .methodNotAllowed(allow: allow.filter { seen.insert($0).inserted })
    }
}

#if canImport(Glibc)
import Glibc
#endif
