import EventLoop
import Glibc
import HTTP1
import RedisStore

extension GatewayConfig {
    /// Reads, decodes and validates a configuration file. `environment` supplies
    /// `GATEWAY_LISTEN` and `GATEWAY_ADMIN_LISTEN`. Either the whole file is valid or
    /// nothing is returned.
    public static func load(path: String, environment: [String: String]) throws(ConfigError) -> GatewayConfig {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path, limit: 4 << 20)
        } catch {
            throw ConfigError("", "cannot read \(error)")
        }
        return try parse(bytes, baseDirectory: FileIO.directory(of: path), environment: environment)
    }

    static func parse(_ bytes: [UInt8], baseDirectory: String, environment: [String: String]) throws(ConfigError)
        -> GatewayConfig
    {
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw ConfigError("", "\(error)")
        }
        let issues = IssueList()
        guard var r = ConfigReader(root, path: "", issues: issues) else { throw ConfigError(issues: issues.issues) }

        // Read the members even when the environment overrides them, so they still count as known.
        let fileListen = r.string("listen")
        let fileAdminListen = r.string("admin_listen")
        let listenText = environment["GATEWAY_LISTEN"] ?? fileListen ?? "127.0.0.1:8080"
        let listen = SocketAddress(parsing: listenText)
        if listen == nil {
            issues.add(
                environment["GATEWAY_LISTEN"] != nil ? "GATEWAY_LISTEN" : "listen",
                "must be host:port with a numeric IPv4 or [IPv6] address, e.g. 127.0.0.1:8080")
        }
        var adminListen: SocketAddress?
        if let adminText = environment["GATEWAY_ADMIN_LISTEN"] ?? fileAdminListen {
            adminListen = SocketAddress(parsing: adminText)
            if adminListen == nil {
                issues.add(
                    environment["GATEWAY_ADMIN_LISTEN"] != nil ? "GATEWAY_ADMIN_LISTEN" : "admin_listen",
                    "must be host:port with a numeric IPv4 or [IPv6] address, e.g. 127.0.0.1:9090")
            }
        }
        let workers = r.int("workers", default: 0, range: 0...256)
        let ioUring = r.bool("io_uring", default: true)
        let tls = readListenerTLS(&r, base: baseDirectory)
        let limits = readLimits(&r)
        var identity = readIdentityHeaders(&r)
        let cors = readCORS(&r)
        let store = readStore(&r, base: baseDirectory)
        let tokens = readTokens(&r, base: baseDirectory)
        identity.issuerClaimHeaders = tokens?.trustedIssuers.flatMap { $0.claimHeaders.map(\.header) } ?? []
        let auth = readAuth(&r, base: baseDirectory)
        let log = readLog(&r)
        let edge = readEdge(&r)
        let allowUnderscores = r.bool("allow_underscores_in_headers", default: false)
        let routes = readRoutes(&r, limits: limits, allowUnderscores: allowUnderscores, directory: baseDirectory)
        r.finish()
        checkRouteIssuers(routes, tokens: tokens, issues: issues)

        if routes.isEmpty && !issues.issues.contains(where: { $0.path.hasPrefix("routes") }) {
            issues.add("routes", "at least one route is required")
        }
        if tokens == nil && routes.contains(where: { $0.auth != .none }) {
            issues.add("tokens", "is required: a route has auth \"required\" or \"optional\"")
        }
        if tokens == nil && auth.authenticator != nil {
            issues.add("tokens", "is required when an authenticator is configured")
        }
        var names = Set<String>()
        // Compared as upstreams read them: `_` and `-` are one character to CGI-style servers.
        let identityNames = Set(identity.allNames.map(HeaderNameSet.fold))
        for (i, route) in routes.enumerated() {
            if !names.insert(route.name).inserted && route.name != route.path {
                issues.add(
                    "routes[\(i)].name",
                    "\(JSONWriter.quoted(route.name)) is used by another route (names label metrics and logs)")
            }
            for (name, _) in route.setRequestHeaders where identityNames.contains(HeaderNameSet.fold(name)) {
                issues.add(
                    "routes[\(i)].request_headers.set", "\(name) is an identity header: only the gateway sets it")
            }
        }
        let own =
            [auth.loginPath, auth.refreshPath, auth.logoutPath, auth.tokenPath, auth.jwksPath, auth.verifyPath]
            .compactMap { $0 } + (auth.tokenService?.paths ?? [])
        if Set(own).count != own.count {
            issues.add("auth", "login, refresh, logout, token and JWKS paths must differ")
        }
        for p in own where !isNormalisedPath(p) {
            issues.add("auth", "path \(JSONWriter.quoted(p)) must be a normalised absolute path")
        }
        guard issues.issues.isEmpty, let listen else { throw ConfigError(issues: issues.issues) }
        var config = GatewayConfig(
            listen: listen, adminListen: adminListen, tls: tls, workers: workers, limits: limits, tokens: tokens,
            auth: auth,
            identityHeaders: identity, cors: cors, store: store, routes: routes, log: log,
            baseDirectory: baseDirectory)
        config.edge = edge
        config.ioUring = ioUring
        return config
    }

    private static func readLimits(_ root: inout ConfigReader) -> Limits {
        var l = Limits()
        guard var r = root.object("limits") else { return l }
        l.maxConnections = r.int("max_connections", default: l.maxConnections, range: 1...1_000_000)
        l.maxConnectionsPerClient = r.int(
            "max_connections_per_client", default: l.maxConnectionsPerClient, range: 1...1_000_000)
        l.adminMaxConnections = r.int("admin_max_connections", default: l.adminMaxConnections, range: 1...10_000)
        l.maxRequestLine = r.int("max_request_line", default: l.maxRequestLine, range: 256...65536)
        l.maxHeaderBytes = r.int("max_header_bytes", default: l.maxHeaderBytes, range: 1024...262_144)
        l.maxHeaderCount = r.int("max_header_count", default: l.maxHeaderCount, range: 8...1000)
        l.maxBodyBytes = Int64(r.int("max_body_bytes", default: Int(l.maxBodyBytes), range: 0...(1 << 40)))
        l.maxRequestsPerConnection = r.int(
            "max_requests_per_connection", default: l.maxRequestsPerConnection, range: 1...Int(Int32.max))
        l.clientHeaderTimeout = r.duration(
            "client_header_timeout", default: l.clientHeaderTimeout, range: 100...3_600_000)
        l.clientBodyTimeout = r.duration("client_body_timeout", default: l.clientBodyTimeout, range: 100...3_600_000)
        l.idleTimeout = r.duration("idle_timeout", default: l.idleTimeout, range: 100...86_400_000)
        l.upstreamConnectTimeout = r.duration(
            "upstream_connect_timeout", default: l.upstreamConnectTimeout, range: 10...600_000)
        l.upstreamResponseTimeout = r.duration(
            "upstream_response_timeout", default: l.upstreamResponseTimeout, range: 10...86_400_000)
        l.upstreamIdleConnections = r.int(
            "upstream_idle_connections", default: l.upstreamIdleConnections, range: 0...10_000)
        l.upstreamIdleTimeout = r.duration(
            "upstream_idle_timeout", default: l.upstreamIdleTimeout, range: 100...3_600_000)
        l.shutdownGrace = r.duration("shutdown_grace", default: l.shutdownGrace, range: 0...3_600_000)
        r.finish()
        return l
    }

    private static func readIdentityHeaders(_ root: inout ConfigReader) -> IdentityHeaderNames {
        var h = IdentityHeaderNames()
        guard var r = root.object("identity_headers") else { return h }
        func name(_ key: String, _ value: inout String) {
            if let v = r.string(key) {
                if isHeaderName(v) { value = v } else { r.issues.add(r.child(key), "must be a valid header name") }
            }
        }
        name("subject", &h.subject)
        name("scopes", &h.scopes)
        name("roles", &h.roles)
        name("session", &h.session)
        name("client_cert_subject", &h.clientCertSubject)
        name("client_cert_sha256", &h.clientCertSHA256)
        for (claim, header) in r.stringMap("claims") {
            if !isHeaderName(header) {
                r.issues.add(r.child("claims.\(claim)"), "must be a valid header name")
            } else {
                h.claims.append((claim, header))
            }
        }
        let lowered = h.allNames.map { $0.lowercased() }
        if Set(h.allNames.map(HeaderNameSet.fold)).count != lowered.count {
            r.issues.add(
                r.path, "header names must all differ, also with _ read as - (as CGI-style upstreams read them)")
        }
        for n in lowered
        where ["authorization", "host", "cookie", "content-length", "transfer-encoding", "connection"].contains(n) {
            r.issues.add(r.path, "\(n) cannot be an identity header")
        }
        r.finish()
        return h
    }

    private static func readCORS(_ root: inout ConfigReader) -> CORSSettings? {
        guard var r = root.object("cors") else { return nil }
        let origins = r.strings("origins") ?? []
        if origins.isEmpty { r.issues.add(r.child("origins"), "must list at least one origin") }
        let credentials = r.bool("allow_credentials", default: false)
        if credentials && origins.contains("*") {
            r.issues.add(r.child("origins"), "\"*\" cannot be used with allow_credentials (Fetch standard)")
        }
        for o in origins where o != "*" && !(o.hasPrefix("http://") || o.hasPrefix("https://")) || o.hasSuffix("/") {
            r.issues.add(r.child("origins"), "\(JSONWriter.quoted(o)) must be scheme://host[:port] without a path")
        }
        let c = CORSSettings(
            origins: origins, allowCredentials: credentials,
            allowMethods: r.strings("allow_methods") ?? ["GET", "POST", "PUT", "PATCH", "DELETE"],
            allowHeaders: r.strings("allow_headers") ?? ["Authorization", "Content-Type"],
            exposeHeaders: r.strings("expose_headers") ?? [],
            maxAge: r.duration("max_age", default: 600_000, range: 0...86_400_000))
        r.finish()
        return c
    }

    private static func readStore(_ root: inout ConfigReader, base: String) -> StoreSettings {
        guard var r = root.object("store") else {
            return .embedded(path: FileIO.resolve("data", against: base), fsync: true, compactBytes: 64 << 20)
        }
        defer { r.finish() }
        switch r.string("kind") ?? "embedded" {
        case "memory":
            return .memory
        case "embedded":
            let path = FileIO.resolve(r.string("path") ?? "data", against: base)
            let fsync = r.bool("fsync", default: true)
            let compact = r.int("compact_bytes", default: 64 << 20, range: 4096...(1 << 40))
            return .embedded(path: path, fsync: fsync, compactBytes: compact)
        case "redis":
            let url = r.string("url", required: true) ?? ""
            let secure = url.hasPrefix("rediss://")
            if !url.isEmpty && !secure && !url.hasPrefix("redis://") {
                r.issues.add(r.child("url"), "must start with redis:// or rediss://")
            }
            let tls = readStoreTLS(&r, base: base)
            if tls != nil && !secure && !url.isEmpty {
                r.issues.add(r.child("tls"), "needs a rediss:// url (redis:// is plaintext: it would not be used)")
            }
            return .redis(
                url: url, passwordEnv: r.string("password_env"), keyPrefix: r.string("key_prefix") ?? "gw:", tls: tls)
        case let other:
            r.issues.add(r.child("kind"), "must be embedded, redis or memory (got \(JSONWriter.quoted(other)))")
            return .memory
        }
    }

    /// `store.tls`: the files of a `rediss://` store, resolved against the configuration's
    /// folder. Their contents are checked when the store's TLS context is made.
    private static func readStoreTLS(_ store: inout ConfigReader, base: String) -> RedisTLSSettings? {
        guard var r = store.object("tls") else { return nil }
        defer { r.finish() }
        func file(_ key: String) -> String? {
            guard let p = r.string(key) else { return nil }
            if p.isEmpty {
                r.issues.add(r.child(key), "must not be empty")
                return nil
            }
            return FileIO.resolve(p, against: base)
        }
        let settings = RedisTLSSettings(
            caFile: file("ca_file"), certFile: file("cert_file"), keyFile: file("key_file"),
            serverName: r.string("server_name"))
        if (settings.certFile == nil) != (settings.keyFile == nil) {
            r.issues.add(r.path, "cert_file and key_file go together (a client certificate needs its key)")
        }
        if settings.serverName?.isEmpty == true { r.issues.add(r.child("server_name"), "must not be empty") }
        return settings
    }

    private static func readTokens(_ root: inout ConfigReader, base: String) -> TokenSettings? {
        guard var r = root.object("tokens") else { return nil }
        let issuer = r.string("issuer", required: true) ?? ""
        let audience = r.strings("audience") ?? []
        if audience.isEmpty { r.issues.add(r.child("audience"), "is required (a string or an array of strings)") }
        var t = TokenSettings(
            issuer: issuer, audience: audience,
            accessTTL: r.duration("access_ttl", default: 900_000, range: 1000...86_400_000),
            refreshTTL: r.duration("refresh_ttl", default: 14 * 86_400_000, range: 1000...(400 * 86_400_000)),
            leeway: r.duration("leeway", default: 30_000, range: 0...300_000),
            refreshReuseGrace: r.duration("refresh_reuse_grace", default: 10_000, range: 0...300_000),
            requireBoundAccessToken: r.bool("require_bound_access_token", default: false),
            algorithms: r.strings("algorithms") ?? [], signingKey: r.string("signing_key"), keys: [])
        if t.refreshTTL <= t.accessTTL { r.issues.add(r.child("refresh_ttl"), "must be longer than access_ttl") }
        let known = [
            "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES384", "ES512", "EdDSA",
        ]
        for a in t.algorithms where !known.contains(a) {
            r.issues.add(
                r.child("algorithms"),
                "\(JSONWriter.quoted(a)) is not a supported algorithm (\(known.joined(separator: ", ")))")
        }
        if case .array(let items)? = r.raw("keys") {
            for (i, item) in items.enumerated() {
                guard var k = ConfigReader(item, path: "\(r.child("keys"))[\(i)]", issues: r.issues) else { continue }
                let kid = k.string("kid")
                let alg = k.string("alg")
                if let alg, !known.contains(alg) {
                    k.issues.add(k.child("alg"), "\(JSONWriter.quoted(alg)) is not supported")
                }
                var materials: [KeySource.Material] = []
                if let p = k.string("private_key_file") {
                    materials.append(.privateKeyFile(FileIO.resolve(p, against: base)))
                }
                if let p = k.string("public_key_file") {
                    materials.append(.publicKeyFile(FileIO.resolve(p, against: base)))
                }
                if let p = k.string("jwk_file") { materials.append(.jwkFile(FileIO.resolve(p, against: base))) }
                if let p = k.string("jwks_file") { materials.append(.jwksFile(FileIO.resolve(p, against: base))) }
                if let p = k.string("secret_file") { materials.append(.secretFile(FileIO.resolve(p, against: base))) }
                if let e = k.string("secret_env") { materials.append(.secretEnv(e)) }
                if k.has("secret") || k.has("private_key") || k.has("d") {
                    k.issues.add(
                        k.path,
                        "secrets and private keys are never taken from gateway.json: use secret_env, secret_file or private_key_file"
                    )
                }
                if materials.count != 1 {
                    k.issues.add(
                        k.path,
                        "needs exactly one of private_key_file, public_key_file, jwk_file, jwks_file, secret_file, secret_env"
                    )
                } else {
                    if case .jwksFile = materials[0] {
                    } else if kid == nil {
                        k.issues.add(k.child("kid"), "is required")
                    }
                    switch materials[0] {
                    case .secretFile, .secretEnv, .privateKeyFile, .publicKeyFile:
                        if alg == nil { k.issues.add(k.child("alg"), "is required") }
                    default: break
                    }
                    t.keys.append(KeySource(kid: kid, alg: alg, material: materials[0], path: k.path))
                }
                k.finish()
            }
        } else if r.has("keys") {
            r.issues.add(r.child("keys"), "must be an array")
        }
        if t.keys.isEmpty { r.issues.add(r.child("keys"), "must list at least one key") }
        t.trustedIssuers = readTrustedIssuers(&r, base: base, ownIssuer: issuer)
        r.finish()
        return t
    }

    private static func readAuth(_ root: inout ConfigReader, base: String) -> AuthSettings {
        var a = AuthSettings()
        guard var r = root.object("auth") else { return a }
        a.realm = r.string("realm") ?? a.realm
        if a.realm.utf8.contains(where: { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 || $0 == 0x7F }) {
            r.issues.add(r.child("realm"), "must not contain quotes, backslashes or control characters")
        }
        func path(_ key: String, _ value: inout String?) {
            if r.has(key), r.raw(key) == .null { value = nil } else if let p = r.string(key) { value = p }
        }
        path("login_path", &a.loginPath)
        path("refresh_path", &a.refreshPath)
        path("logout_path", &a.logoutPath)
        path("token_path", &a.tokenPath)
        path("jwks_path", &a.jwksPath)
        path("verify_path", &a.verifyPath)
        if var c = r.object("authenticator") {
            switch c.string("kind", required: true) {
            case "users_file":
                if let p = c.string("path", required: true) {
                    a.authenticator = .usersFile(path: FileIO.resolve(p, against: base))
                }
            case "upstream":
                if let u = c.string("url", required: true) {
                    switch parseUpstreamURL(u) {
                    case .success(var url):
                        if let tls = readUpstreamTLS(&c, key: "tls", base: base) {
                            if url.tls == nil {
                                c.issues.add(c.child("tls"), "applies only to an https:// url")
                            } else {
                                url.tls = tls.named(tls.serverName.isEmpty ? url.host : tls.serverName)
                            }
                        }
                        a.authenticator = .upstream(
                            url: url, path: url.basePath.isEmpty ? "/" : url.basePath,
                            timeout: c.duration("timeout", default: 5000, range: 10...60_000))
                    case .failure(let p): c.issues.add(c.child("url"), p.message)
                    }
                }
            case let other?:
                c.issues.add(c.child("kind"), "must be users_file or upstream (got \(JSONWriter.quoted(other)))")
            case nil: break
            }
            c.finish()
        }
        if var c = r.object("refresh_cookie") {
            let name = c.string("name") ?? "refresh_token"
            if !isHeaderName(name) { c.issues.add(c.child("name"), "must be a valid cookie name") }
            a.refreshCookie = name
            c.finish()
        }
        if var t = r.object("throttle") {
            a.throttle.maxFailuresPerUser = t.int(
                "max_failures_per_user", default: a.throttle.maxFailuresPerUser, range: 1...1_000_000)
            a.throttle.maxFailuresPerAddress = t.int(
                "max_failures_per_address", default: a.throttle.maxFailuresPerAddress, range: 1...1_000_000)
            a.throttle.window = t.duration("window", default: a.throttle.window, range: 1000...86_400_000)
            t.finish()
        }
        a.tokenService = readTokenService(&r, base: base)
        r.finish()
        return a
    }

    private static func readLog(_ root: inout ConfigReader) -> LogSettings {
        var l = LogSettings()
        guard var r = root.object("log") else { return l }
        if let level = r.string("level") {
            if let v = LogSettings.Level(rawValue: level) {
                l.level = v
            } else {
                r.issues.add(r.child("level"), "must be debug, info, warning or error")
            }
        }
        l.accessLog = r.bool("access_log", default: true)
        r.finish()
        return l
    }

    private static func readRoutes(
        _ root: inout ConfigReader, limits: Limits, allowUnderscores: Bool, directory: String
    ) -> [RouteConfig] {
        guard let v = root.raw("routes") else { return [] }
        guard case .array(let items) = v else {
            root.issues.add("routes", "must be an array")
            return []
        }
        var routes: [RouteConfig] = []
        var seen: [String: String] = [:]
        for (i, item) in items.enumerated() {
            guard var r = ConfigReader(item, path: "routes[\(i)]", issues: root.issues) else { continue }
            let path = r.string("path", required: true) ?? "/"
            if !isNormalisedPath(path) || (path.count > 1 && path.hasSuffix("/")) {
                r.issues.add(r.child("path"), "must be a normalised absolute path without a trailing slash, e.g. /api")
            }
            let methods = r.strings("methods") ?? []
            for m in methods where m.isEmpty || m.utf8.contains(where: { !(($0 >= 0x41 && $0 <= 0x5A)) }) {
                r.issues.add(r.child("methods"), "\(JSONWriter.quoted(m)) must be an upper-case method name")
            }
            var host: String?
            if let h = r.string("host") {
                host = canonicalRouteHost(h)
                if host == nil {
                    r.issues.add(
                        r.child("host"),
                        "\(JSONWriter.quoted(h)) must be a valid host name or IP literal without port, optionally starting with *."
                    )
                }
            }
            var upstreams: [UpstreamURL] = []
            for (k, u) in (r.strings("upstream") ?? []).enumerated() {
                switch parseUpstreamURL(u) {
                case .success(let url): upstreams.append(url)
                case .failure(let p): r.issues.add("\(r.child("upstream"))[\(k)]", p.message)
                }
            }
            if upstreams.isEmpty && !r.issues.issues.contains(where: { $0.path.hasPrefix(r.child("upstream")) }) {
                r.issues.add(r.child("upstream"), "is required (a URL or a list of URLs)")
            }
            if let tls = readUpstreamTLS(&r, base: directory) {
                if !upstreams.contains(where: { $0.tls != nil }) {
                    r.issues.add(r.child("upstream_tls"), "applies only to https:// upstreams")
                }
                for i in upstreams.indices where upstreams[i].tls != nil {
                    var t = tls
                    if t.serverName.isEmpty { t.serverName = upstreams[i].host }
                    upstreams[i].tls = t
                }
            }
            let authText = r.string("auth") ?? "required"
            let auth = AuthMode(rawValue: authText)
            if auth == nil {
                r.issues.add(r.child("auth"), "must be required, optional or none (got \(JSONWriter.quoted(authText)))")
            }
            let scopes = r.strings("scopes") ?? []
            let roles = r.strings("roles") ?? []
            // scope-token (RFC 6749 §3.3): one scope per entry, and nothing that could break
            // the `scope="..."` of a challenge or the comma-separated roles header.
            for sc in scopes
            where sc.isEmpty
                || !sc.utf8.allSatisfy({ $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) })
            {
                r.issues.add(
                    r.child("scopes"),
                    "\(JSONWriter.quoted(sc)) is not one scope-token (RFC 6749 §3.3: no spaces, quotes or backslashes)")
            }
            for role in roles
            where role.isEmpty
                || !role.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x2C && $0 != 0x22 && $0 != 0x5C })
            {
                r.issues.add(
                    r.child("roles"),
                    "\(JSONWriter.quoted(role)) must be visible ASCII without spaces, commas, quotes or backslashes")
            }
            if auth == AuthMode.none && (!scopes.isEmpty || !roles.isEmpty) {
                r.issues.add(r.child("auth"), "is none, so scopes and roles could never be checked")
            }
            var route = RouteConfig(
                name: r.string("name") ?? path, path: path, methods: methods, host: host, upstreams: upstreams,
                auth: auth ?? .required, scopes: scopes, roles: roles,
                stripPrefix: r.bool("strip_prefix", default: false),
                // The gateway consumes the bearer token on protected routes; passing it on
                // would let every upstream replay it. Public routes leave it to the upstream.
                forwardAuthorization: r.bool("forward_authorization", default: auth == AuthMode.none),
                websocket: r.bool("websocket", default: false),
                preserveHost: r.bool("preserve_host", default: true),
                maxBodyBytes: Int64(r.int("max_body_bytes", default: Int(limits.maxBodyBytes), range: 0...(1 << 40))),
                upstreamTimeout: r.duration("timeout", default: limits.upstreamResponseTimeout, range: 10...86_400_000),
                setRequestHeaders: [], removeRequestHeaders: [], setResponseHeaders: [], removeResponseHeaders: [])
            route.issuers = r.strings("issuers") ?? []
            route.allowUnderscoresInHeaders = r.bool("allow_underscores_in_headers", default: allowUnderscores)
            if r.has("websocket_close_at_expiry") && !route.websocket {
                r.issues.add(r.child("websocket_close_at_expiry"), "applies only to routes with \"websocket\": true")
            }
            route.websocketCloseAtExpiry = r.bool("websocket_close_at_expiry", default: true)
            route.machineTokens = readMachineTokens(&r)
            if var h = r.object("request_headers") {
                route.setRequestHeaders = h.stringMap("set")
                route.removeRequestHeaders = h.strings("remove") ?? []
                route.forwardRequestHeaders = h.strings("forward") ?? []
                let overrides = Set(ReservedRequestHeaders.overrides.map(HeaderNameSet.fold))
                for name in route.forwardRequestHeaders where !overrides.contains(HeaderNameSet.fold(name)) {
                    h.issues.add(
                        h.child("forward"),
                        "\(JSONWriter.quoted(name)) is not dropped by default; forward lists only \(ReservedRequestHeaders.overrides.joined(separator: ", "))"
                    )
                }
                let setNames = route.setRequestHeaders.map { HeaderNameSet.fold($0.0) }
                if Set(setNames).count != setNames.count {
                    h.issues.add(h.child("set"), "header names must all differ, also with _ read as -")
                }
                h.finish()
            }
            if var h = r.object("response_headers") {
                route.setResponseHeaders = h.stringMap("set")
                route.removeResponseHeaders = h.strings("remove") ?? []
                h.finish()
            }
            for (name, value) in route.setRequestHeaders + route.setResponseHeaders {
                if !isHeaderName(name) { r.issues.add(r.path, "\(JSONWriter.quoted(name)) is not a valid header name") }
                if value.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
                    r.issues.add(r.path, "value of \(name) contains control characters")
                }
            }
            for name in route.removeRequestHeaders + route.removeResponseHeaders where !isHeaderName(name) {
                r.issues.add(r.path, "\(JSONWriter.quoted(name)) is not a valid header name")
            }
            let key = "\(host ?? "*") \(path) \(methods.sorted().joined(separator: ","))"
            if let other = seen[key] {
                r.issues.add(r.child("path"), "same path, host and methods as \(other)")
            }
            seen[key] = r.path
            r.finish()
            routes.append(route)
        }
        return routes
    }

    /// Parses `http://host[:port][/base]` or `https://…`, resolving the host now (start-up or
    /// reload). An https URL gets `tls` with its host as the name to verify; the route's
    /// `upstream_tls` fills in the rest.
    static func parseUpstreamURL(_ text: String, allowTLS: Bool = true) -> Result<UpstreamURL, URLProblem> {
        let secure = text.hasPrefix("https://")
        guard text.hasPrefix("http://") || (secure && allowTLS) else {
            return .failure(
                URLProblem(
                    message: allowTLS
                        ? "\(JSONWriter.quoted(text)) must be an http:// or https:// URL"
                        : "\(JSONWriter.quoted(text)) must be an http:// URL (https is not supported here yet)"))
        }
        var rest = text.dropFirst(secure ? 8 : 7)
        var base = ""
        if let slash = rest.firstIndex(of: "/") {
            base = String(rest[slash...])
            rest = rest[..<slash]
            while base.hasSuffix("/") { base.removeLast() }
            if base.contains("?") || base.contains("#") || !isNormalisedPath(base.isEmpty ? "/" : base) {
                return .failure(
                    URLProblem(
                        message: "\(JSONWriter.quoted(text)): the path must be plain, without query or dot segments"))
            }
        }
        var host = String(rest)
        let defaultPort: UInt16 = secure ? 443 : 80
        var port = defaultPort
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else {
                return .failure(URLProblem(message: "\(JSONWriter.quoted(text)): bad IPv6 literal"))
            }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = UInt16(after.dropFirst()), p > 0 else {
                    return .failure(URLProblem(message: "\(JSONWriter.quoted(text)): bad port"))
                }
                port = p
            } else if !after.isEmpty {
                return .failure(URLProblem(message: "\(JSONWriter.quoted(text)): bad authority"))
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = UInt16(host[host.index(after: colon)...]), p > 0 else {
                return .failure(URLProblem(message: "\(JSONWriter.quoted(text)): bad port"))
            }
            port = p
            host = String(host[..<colon])
        }
        guard !host.isEmpty, !host.contains("@") else {
            return .failure(URLProblem(message: "\(JSONWriter.quoted(text)): missing or invalid host"))
        }
        let addresses: [SocketAddress]
        do {
            addresses = try SocketAddress.resolve(host: host, port: port)
        } catch {
            return .failure(URLProblem(message: "\(JSONWriter.quoted(text)): cannot resolve \(host)"))
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return .success(
            UpstreamURL(
                host: host, port: port, basePath: base, address: addresses[0],
                authority: port == defaultPort ? hostPart : "\(hostPart):\(port)",
                tls: secure ? UpstreamTLS(serverName: host) : nil))
    }
}

struct URLProblem: Error {
    var message: String
}

/// A route's `host` in the form requests are matched in (`HostCanonicalizer`), keeping a
/// leading `*.`; nil if it is not a valid host or carries a port.
func canonicalRouteHost(_ text: String) -> String? {
    let wildcard = text.hasPrefix("*.")
    let name = wildcard ? String(text.dropFirst(2)) : text
    guard let c = try? HostCanonicalizer.canonicalize(name), c.port < 0 else { return nil }
    return wildcard ? "*." + c.host : c.host
}

/// RFC 9110 token characters only.
func isHeaderName(_ s: String) -> Bool {
    !s.isEmpty
        && s.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
}

/// Whether `path` is already in the form `PathNormalizer` produces.
func isNormalisedPath(_ path: String) -> Bool {
    let bytes = Array(path.utf8)
    var out: [UInt8] = []
    let ok: Bool = bytes.withUnsafeBytes { b in
        do throws(HTTPParseError) {
            try PathNormalizer.normalize(b, into: &out)
            return true
        } catch {
            return false
        }
    }
    return ok && out == bytes
}
