import EventLoop
import RedisStore
import Synchronization
import TLS

/// The whole of `gateway.json`, decoded and validated. Durations are in milliseconds;
/// relative file paths are already resolved against the configuration file's folder.
public struct GatewayConfig: Sendable {
    public var listen: SocketAddress
    public var adminListen: SocketAddress?
    /// TLS on the public listener (the admin listener stays plaintext, for probes).
    public var tls: TLSServerConfiguration?
    /// Event-loop threads; 0 in the file means one per core.
    public var workers: Int
    /// Send each loop turn's upstream writes in one system call with io_uring, where the
    /// kernel allows it (`EventLoop.batchSend`). Read at start-up only.
    public var ioUring = true
    public var limits: Limits
    public var tokens: TokenSettings?
    public var auth: AuthSettings
    public var identityHeaders: IdentityHeaderNames
    public var cors: CORSSettings?
    public var store: StoreSettings
    public var routes: [RouteConfig]
    public var log: LogSettings
    /// Trusted proxies and the PROXY protocol (`GatewayConfig+Edge.swift`).
    public var edge = EdgeSettings()
    /// Folder of the configuration file: relative paths were resolved against it.
    public var baseDirectory: String
}

/// Resource limits: SPEC §8 defaults.
public struct Limits: Sendable, Equatable {
    public var maxConnections = 10_000
    public var maxConnectionsPerClient = 512
    /// Open connections on the admin listener, counted apart from the public ones so a
    /// flood of public connections never starves liveness probes and scrapes.
    public var adminMaxConnections = 32
    public var maxRequestLine = 8192
    public var maxHeaderBytes = 16384
    public var maxHeaderCount = 100
    /// Default largest request body; a route may set its own.
    public var maxBodyBytes: Int64 = 10 << 20
    /// Requests served on one client connection before it is closed.
    public var maxRequestsPerConnection = 100_000
    public var clientHeaderTimeout: Int64 = 10_000
    /// Longest pause between two reads of a request body.
    public var clientBodyTimeout: Int64 = 60_000
    public var idleTimeout: Int64 = 75_000
    public var upstreamConnectTimeout: Int64 = 5_000
    public var upstreamResponseTimeout: Int64 = 30_000
    /// Idle keep-alive connections kept per upstream per worker.
    public var upstreamIdleConnections = 1_024
    /// How long an idle pooled upstream connection is kept.
    public var upstreamIdleTimeout: Int64 = 30_000
    /// Delay allowed for in-flight requests on SIGTERM.
    public var shutdownGrace: Int64 = 15_000
}

public enum AuthMode: String, Sendable, Equatable {
    case required, optional, none
}

/// One `routes[]` entry.
public struct RouteConfig: Sendable, Equatable {
    public var name: String
    /// Normalised path prefix, matched on segment boundaries.
    public var path: String
    /// Empty means any method.
    public var methods: [String]
    /// Canonical host (`HostCanonicalizer`) without port; `*.example.com` matches one or more
    /// labels. Nil: any.
    public var host: String?
    public var upstreams: [UpstreamURL]
    public var auth: AuthMode
    /// Every one of these must be in the token's `scope`.
    public var scopes: [String]
    /// At least one of these must be in the token's `roles` (if any are listed).
    public var roles: [String]
    public var stripPrefix: Bool
    public var forwardAuthorization: Bool
    public var websocket: Bool
    /// A tunnel opened with a token closes at the token's `exp` plus the token leeway.
    public var websocketCloseAtExpiry: Bool = true
    /// Send the client's Host upstream (true) or the upstream's own host:port (false).
    public var preserveHost: Bool
    public var maxBodyBytes: Int64
    public var upstreamTimeout: Int64
    public var setRequestHeaders: [(String, String)]
    public var removeRequestHeaders: [String]
    /// URL/method override headers (`ReservedRequestHeaders.overrides`) this route forwards.
    public var forwardRequestHeaders: [String] = []
    /// Forward request headers whose names hold `_` (never identity, removed or set names).
    public var allowUnderscoresInHeaders = false
    public var setResponseHeaders: [(String, String)]
    public var removeResponseHeaders: [String]
    /// Users' tokens, machines' tokens or both (`GatewayConfig+TokenService.swift`).
    public var machineTokens: MachineTokens = .allow
    /// Issuers (`iss`) whose tokens this route accepts; empty: every configured issuer.
    public var issuers: [String] = []

    public static func == (a: RouteConfig, b: RouteConfig) -> Bool {
        a.name == b.name && a.path == b.path && a.methods == b.methods && a.host == b.host
            && a.upstreams == b.upstreams && a.auth == b.auth && a.scopes == b.scopes && a.roles == b.roles
            && a.stripPrefix == b.stripPrefix && a.forwardAuthorization == b.forwardAuthorization
            && a.websocket == b.websocket && a.websocketCloseAtExpiry == b.websocketCloseAtExpiry
            && a.preserveHost == b.preserveHost && a.maxBodyBytes == b.maxBodyBytes
            && a.upstreamTimeout == b.upstreamTimeout
            && a.setRequestHeaders.map { "\($0.0):\($0.1)" } == b.setRequestHeaders.map { "\($0.0):\($0.1)" }
            && a.removeRequestHeaders == b.removeRequestHeaders && a.forwardRequestHeaders == b.forwardRequestHeaders
            && a.allowUnderscoresInHeaders == b.allowUnderscoresInHeaders
            && a.setResponseHeaders.map { "\($0.0):\($0.1)" } == b.setResponseHeaders.map { "\($0.0):\($0.1)" }
            && a.removeResponseHeaders == b.removeResponseHeaders && a.machineTokens == b.machineTokens
            && a.issuers == b.issuers
    }
}

/// `http://host[:port][/base]`: plain HTTP to upstreams on a trusted network.
///
/// What is fixed per parsed URL lives behind one reference (`Origin`): the request path
/// copies the chosen upstream several times per request (the choice, the exchange, the
/// pooled connection's check), and a copy of four strings and a TLS setting cost about nine
/// retains and releases; now it costs one. Only `address` changes per choice (a re-resolved
/// or healthy address), and it is a value.
public struct UpstreamURL: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The fixed part; immutable, shared by every copy of one parsed URL.
    final class Origin: Sendable {
        let host: String
        let port: UInt16
        let basePath: String
        let authority: String
        let tls: UpstreamTLS?
        /// Unique to each parsed URL (a reload parses new ones). Everything but `address` is
        /// fixed per serial, so `serial` and `address` tell pooled connections apart without
        /// comparing strings.
        let serial: UInt64 = Origin.serials.wrappingAdd(1, ordering: .relaxed).newValue
        private static let serials = Atomic<UInt64>(0)

        init(host: String, port: UInt16, basePath: String, authority: String, tls: UpstreamTLS?) {
            self.host = host
            self.port = port
            self.basePath = basePath
            self.authority = authority
            self.tls = tls
        }
    }

    private(set) var origin: Origin
    public var address: SocketAddress

    public init(
        host: String, port: UInt16, basePath: String, address: SocketAddress, authority: String, tls: UpstreamTLS?
    ) {
        origin = Origin(host: host, port: port, basePath: basePath, authority: authority, tls: tls)
        self.address = address
    }

    public var host: String { origin.host }
    public var port: UInt16 { origin.port }
    /// Prefix added before the forwarded path, without a trailing slash ("" for none).
    public var basePath: String { origin.basePath }
    /// `host:port` as sent in `Host` when the route does not preserve the client's.
    public var authority: String { origin.authority }
    /// Not part of `==`; see `Origin.serial`.
    public var serial: UInt64 { origin.serial }

    /// `https://`: how the server is verified (the route's `upstream_tls`); nil for `http://`.
    /// Set while the configuration is loaded; setting it makes a new origin (and serial).
    public var tls: UpstreamTLS? {
        get { origin.tls }
        set { origin = Origin(host: host, port: port, basePath: basePath, authority: authority, tls: newValue) }
    }

    public var description: String { "\(tls == nil ? "http" : "https")://\(authority)\(basePath)" }

    public static func == (a: UpstreamURL, b: UpstreamURL) -> Bool {
        a.address == b.address
            && (a.origin === b.origin
                || (a.host == b.host && a.port == b.port && a.basePath == b.basePath
                    && a.authority == b.authority && a.tls == b.tls))
    }

    /// Keys the per-worker connection pool on every request: hash what tells upstreams
    /// apart cheaply (equality still compares every field).
    public func hash(into h: inout Hasher) {
        h.combine(port)
        h.combine(host)
    }
}

/// TLS to an `https://` upstream: always verified, against `caFile` or the system store, for
/// `serverName` (also sent as SNI); optionally with a client certificate (mTLS).
public struct UpstreamTLS: Sendable, Hashable {
    public var serverName: String
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?

    func named(_ name: String) -> UpstreamTLS {
        var t = self
        t.serverName = name
        return t
    }

    var clientConfiguration: TLSClientConfiguration {
        var c = TLSClientConfiguration()
        c.caPath = caFile
        if let certFile, let keyFile { c.certificate = CertificateFiles(chainPath: certFile, keyPath: keyFile) }
        c.alpn = ["http/1.1"]
        return c
    }
}

public struct TokenSettings: Sendable {
    public var issuer: String
    public var audience: [String]
    public var accessTTL: Int64
    public var refreshTTL: Int64
    public var leeway: Int64
    public var refreshReuseGrace: Int64
    public var requireBoundAccessToken: Bool
    /// Algorithms accepted on incoming tokens (RFC 8725 §3.1 allow-list).
    public var algorithms: [String]
    public var signingKey: String?
    public var keys: [KeySource]
    /// Outside identity providers whose tokens are accepted too (`trusted_issuers`).
    public var trustedIssuers: [TrustedIssuerSettings] = []
}

/// Where one key comes from. Secrets never live in the JSON itself.
public struct KeySource: Sendable, Equatable {
    public enum Material: Sendable, Equatable {
        case privateKeyFile(String)
        case publicKeyFile(String)
        case jwkFile(String)
        case jwksFile(String)
        case secretFile(String)
        case secretEnv(String)
    }
    public var kid: String?
    public var alg: String?
    public var material: Material
    /// JSON path, for error messages about this key.
    public var path: String
}

public struct AuthSettings: Sendable {
    public var realm = "gateway"
    public var loginPath: String? = "/auth/login"
    public var refreshPath: String? = "/auth/refresh"
    public var logoutPath: String? = "/auth/logout"
    public var tokenPath: String? = "/oauth/token"
    public var jwksPath: String? = "/.well-known/jwks.json"
    /// Forward-auth endpoint for ingress auth subrequests; nil (the default) is off.
    public var verifyPath: String?
    public var authenticator: AuthenticatorSettings?
    /// Name of the HttpOnly refresh-token cookie; nil when cookie mode is off.
    public var refreshCookie: String?
    public var throttle = ThrottleSettings()
    /// Discovery, clients, revocation and introspection (`GatewayConfig+TokenService.swift`).
    public var tokenService: TokenServiceSettings?
}

public enum AuthenticatorSettings: Sendable, Equatable {
    case usersFile(path: String)
    case upstream(url: UpstreamURL, path: String, timeout: Int64)
}

public struct ThrottleSettings: Sendable, Equatable {
    /// Failed logins allowed per username within `window` before 429.
    public var maxFailuresPerUser = 5
    /// Failed logins allowed per client address within `window` before 429.
    public var maxFailuresPerAddress = 50
    public var window: Int64 = 900_000
}

public struct IdentityHeaderNames: Sendable, Equatable {
    public var subject = "X-Auth-Subject"
    public var scopes = "X-Auth-Scopes"
    public var roles = "X-Auth-Roles"
    public var session = "X-Auth-Session"
    /// The verified TLS client certificate (mTLS): its subject (RFC 2253) and SHA-256.
    public var clientCertSubject = "X-Client-Cert-Subject"
    public var clientCertSHA256 = "X-Client-Cert-SHA256"
    /// Claim name → header name.
    public var claims: [(claim: String, header: String)] = []
    /// The trusted issuers' `claim_headers` names: removed from incoming requests as well.
    public var issuerClaimHeaders: [String] = []

    /// Every configured name: these are removed from every incoming request.
    public var allNames: [String] {
        [subject, scopes, roles, session, clientCertSubject, clientCertSHA256] + claims.map(\.header)
            + issuerClaimHeaders
    }

    public static func == (a: IdentityHeaderNames, b: IdentityHeaderNames) -> Bool {
        a.subject == b.subject && a.scopes == b.scopes && a.roles == b.roles && a.session == b.session
            && a.clientCertSubject == b.clientCertSubject && a.clientCertSHA256 == b.clientCertSHA256
            && a.claims.map { $0.claim + ":" + $0.header } == b.claims.map { $0.claim + ":" + $0.header }
            && a.issuerClaimHeaders == b.issuerClaimHeaders
    }
}

public struct CORSSettings: Sendable, Equatable {
    /// Exact origins (`https://app.example.com`), or `*` (never with credentials).
    public var origins: [String]
    public var allowCredentials: Bool
    public var allowMethods: [String]
    public var allowHeaders: [String]
    public var exposeHeaders: [String]
    public var maxAge: Int64
}

public enum StoreSettings: Sendable, Equatable {
    case memory
    case embedded(path: String, fsync: Bool, compactBytes: Int)
    /// `tls` only with a `rediss://` url (nil there: the system CA store, the url's host).
    case redis(url: String, passwordEnv: String?, keyPrefix: String, tls: RedisTLSSettings?)
}

public struct LogSettings: Sendable, Equatable {
    public enum Level: String, Sendable, Comparable, CaseIterable {
        case debug, info, warning, error
        private var rank: Int { Level.allCases.firstIndex(of: self)! }
        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
    }
    public var level: Level = .info
    public var accessLog = true
}
