import EventLoop
import RedisStore
import Testing

@testable import GatewayCore

@Suite("Configuration")
struct ConfigTests {
    @Test("SPEC §8 defaults")
    func defaults() throws {
        let c = try parseConfig(#"{"routes":[\#(publicRoute)]}"#)
        #expect(c.limits.maxRequestLine == 8 * 1024)
        #expect(c.limits.maxHeaderBytes == 16 * 1024)
        #expect(c.limits.upstreamResponseTimeout == 30_000)
        #expect(c.limits.upstreamConnectTimeout == 5_000)
        #expect(c.limits.clientHeaderTimeout == 10_000)
        #expect(c.limits.idleTimeout == 75_000)
        #expect(c.limits.adminMaxConnections == 32)
        #expect(c.listen == SocketAddress(parsing: "127.0.0.1:8080"))
        #expect(c.adminListen == nil)
        #expect(c.tokens == nil)
        #expect(c.identityHeaders == IdentityHeaderNames())
        #expect(c.identityHeaders.subject == "X-Auth-Subject")
        #expect(c.auth.loginPath == "/auth/login")
        #expect(c.store == .embedded(path: "/etc/gateway/data", fsync: true, compactBytes: 64 << 20))
        let r = try #require(c.routes.first)
        #expect(r.name == "/public")
        #expect(r.auth == AuthMode.none)
        #expect(r.upstreamTimeout == 30_000)
        #expect(r.forwardAuthorization)  // public routes leave Authorization to the upstream
        #expect(r.preserveHost)
        #expect(!r.stripPrefix)
        #expect(c.ioUring)
    }

    @Test("io_uring: a boolean, on by default, off on request")
    func ioUring() throws {
        #expect(try !parseConfig(#"{"io_uring":false,"routes":[\#(publicRoute)]}"#).ioUring)
        #expect(try parseConfig(#"{"io_uring":true,"routes":[\#(publicRoute)]}"#).ioUring)
        #expect(throws: ConfigError.self) { try parseConfig(#"{"io_uring":"yes","routes":[\#(publicRoute)]}"#) }
    }

    @Test("token defaults: 15 min access, 14 days refresh, 30 s leeway, 10 s grace")
    func tokenDefaults() throws {
        let c = try parseConfig(
            #"{"tokens":\#(tokensJSON),"routes":[{"path":"/api","upstream":"http://127.0.0.1:9001"}]}"#)
        let t = try #require(c.tokens)
        #expect(t.accessTTL == 900_000)
        #expect(t.refreshTTL == 14 * 86_400_000)
        #expect(t.leeway == 30_000)
        #expect(t.refreshReuseGrace == 10_000)
        #expect(t.audience == ["api"])
        #expect(
            t.keys == [
                KeySource(kid: "k1", alg: "HS256", material: .secretEnv("GW_TEST_SECRET"), path: "tokens.keys[0]")
            ])
        #expect(c.routes[0].auth == .required)
        #expect(!c.routes[0].forwardAuthorization)  // protected routes consume the token
    }

    static let goodDurations: [(String, Int64)] = [
        (#""500ms""#, 500), (#""10s""#, 10_000), (#""15m""#, 900_000), (#""2h""#, 7_200_000), ("2.5", 2_500),
        ("90", 90_000),
    ]

    @Test("durations", arguments: goodDurations)
    func durations(text: String, millis: Int64) throws {
        let c = try parseConfig(#"{"limits":{"idle_timeout":\#(text)},"routes":[\#(publicRoute)]}"#)
        #expect(c.limits.idleTimeout == millis)
    }

    @Test("days")
    func days() throws {
        let c = try parseConfig(
            #"{"tokens":{"issuer":"i","audience":["a","b"],"refresh_ttl":"30d","access_ttl":"5m","keys":[{"kid":"k","alg":"HS256","secret_env":"S"}]},"routes":[\#(publicRoute)]}"#
        )
        let refreshTTL: Int64? = c.tokens?.refreshTTL
        #expect(refreshTTL == Int64(30 * 86_400_000))
        #expect(c.tokens?.accessTTL == 300_000)
        #expect(c.tokens?.audience == ["a", "b"])
        #expect(ConfigReader.parseDuration("14d") == Int64(14 * 86_400_000))
    }

    static let badDurations = [
        #""10""#, #""1.5s""#, #""-5s""#, #""5 s""#, #""5sec""#, #""""#, #""10S""#, "true", "-1", #""50ms""#, #""2d""#,
    ]

    @Test("refused durations, named by path", arguments: badDurations)
    func badDuration(text: String) {
        let issues = configIssues(#"{"limits":{"idle_timeout":\#(text)},"routes":[\#(publicRoute)]}"#)
        #expect(has(issues, "limits.idle_timeout", "duration"), "\(issues)")
        #expect(issues.count == 1)
    }

    @Test("unknown fields are refused with their JSON path")
    func unknownFields() {
        let issues = configIssues(
            #"{"routs":[],"limits":{"idle_timeot":"1s"},"routes":[{"path":"/p","upstream":"http://127.0.0.1:9001","auth":"none","upstrem":"x","request_headers":{"sett":{}}}]}"#
        )
        #expect(has(issues, "routs", "unknown field"))
        #expect(has(issues, "limits.idle_timeot", "unknown field"))
        #expect(has(issues, "routes[0].upstrem", "unknown field"))
        #expect(has(issues, "routes[0].request_headers.sett", "unknown field"))
        #expect(issues.count == 4, "\(issues)")
    }

    @Test("invalid JSON and a non-object root")
    func notJSON() {
        #expect(configIssues("{").count == 1)
        #expect(configIssues(#"{"a":1,"a":2}"#).first?.message.contains("duplicate") == true)
        #expect(has(configIssues("[]"), "", "must be an object"))
        #expect(has(configIssues(#"{"routes":[]}"#), "routes", "at least one route"))
    }

    @Test("protected routes need tokens")
    func missingTokens() {
        let issues = configIssues(#"{"routes":[{"path":"/api","upstream":"http://127.0.0.1:9001"}]}"#)
        #expect(has(issues, "tokens", "is required"))
        let optional = configIssues(
            #"{"routes":[{"path":"/api","upstream":"http://127.0.0.1:9001","auth":"optional"}]}"#)
        #expect(has(optional, "tokens", "is required"))
    }

    @Test("secrets are never taken from the JSON itself")
    func inlineSecret() {
        let issues = configIssues(
            #"{"tokens":{"issuer":"i","audience":"a","keys":[{"kid":"k","alg":"HS256","secret":"hunter2hunter2hunter2hunter2hunter2"}]},"routes":[\#(publicRoute)]}"#
        )
        #expect(has(issues, "tokens.keys[0]", "never taken from gateway.json"), "\(issues)")
        // Not also reported as an unknown field.
        #expect(!issues.contains { $0.message.contains("unknown field") })
        let both = configIssues(
            #"{"tokens":{"issuer":"i","audience":"a","keys":[{"kid":"k","alg":"HS256","secret_env":"A","secret_file":"f"}]},"routes":[\#(publicRoute)]}"#
        )
        #expect(has(both, "tokens.keys[0]", "exactly one"))
    }

    @Test("key entries need kid and alg; algorithms must be known; refresh longer than access")
    func keyEntries() {
        let issues = configIssues(
            #"{"tokens":{"issuer":"i","audience":"a","access_ttl":"1h","refresh_ttl":"30m","algorithms":["none"],"keys":[{"secret_env":"A"}]},"routes":[\#(publicRoute)]}"#
        )
        #expect(has(issues, "tokens.keys[0].kid", "required"))
        #expect(has(issues, "tokens.keys[0].alg", "required"))
        #expect(has(issues, "tokens.algorithms", "not a supported algorithm"))
        #expect(has(issues, "tokens.refresh_ttl", "longer than access_ttl"))
        let noKeys = configIssues(#"{"tokens":{"issuer":"i","audience":"a"},"routes":[\#(publicRoute)]}"#)
        #expect(has(noKeys, "tokens.keys", "at least one key"))
        #expect(has(noKeys, "tokens.issuer", "") == false)
        let noIssuer = configIssues(
            #"{"tokens":{"audience":"a","keys":[{"kid":"k","alg":"HS256","secret_env":"A"}]},"routes":[\#(publicRoute)]}"#
        )
        #expect(has(noIssuer, "tokens.issuer", "required"))
    }

    @Test("routes: upstreams are http:// URLs, resolved and split")
    func upstreams() throws {
        let c = try parseConfig(
            #"{"routes":[{"path":"/a","upstream":["http://127.0.0.1:9001/base/","http://127.0.0.1"],"auth":"none"}]}"#
        )
        let u = c.routes[0].upstreams
        #expect(u.count == 2)
        #expect(u[0].basePath == "/base")
        #expect(u[0].port == 9001)
        #expect(u[0].authority == "127.0.0.1:9001")
        #expect(u[0].address == SocketAddress(parsing: "127.0.0.1:9001"))
        #expect(u[1].port == 80)
        #expect(u[1].authority == "127.0.0.1")
        #expect(u[1].basePath == "")
        #expect(u[0].description == "http://127.0.0.1:9001/base")
    }

    static let badUpstreams = [
        "ftp://127.0.0.1", "127.0.0.1:9001", "https://127.0.0.1:0", "http://127.0.0.1:0", "http://127.0.0.1:99999",
        "http://", "http://user@127.0.0.1", "http://127.0.0.1/a/../b", "http://127.0.0.1/a?x=1",
    ]

    @Test("https upstream URLs: port 443 by default, verified for the URL's host")
    func httpsUpstream() throws {
        let c = try parseConfig(
            #"{"routes":[{"path":"/a","upstream":["https://localhost/base","https://127.0.0.1:8443"],"auth":"none"}]}"#)
        let u = try #require(c.routes.first).upstreams
        #expect(u[0].port == 443 && u[0].authority == "localhost" && u[0].tls == UpstreamTLS(serverName: "localhost"))
        #expect(u[0].description == "https://localhost/base")
        #expect(u[1].authority == "127.0.0.1:8443" && u[1].tls?.serverName == "127.0.0.1")
        let named = try parseConfig(
            #"{"routes":[{"path":"/a","upstream":"https://127.0.0.1:8443","upstream_tls":{"server_name":"API.example.com"},"auth":"none"}]}"#
        )
        #expect(named.routes[0].upstreams[0].tls?.serverName == "api.example.com")
        #expect(
            has(
                configIssues(
                    #"{"routes":[{"path":"/a","upstream":"http://127.0.0.1:1","upstream_tls":{},"auth":"none"}]}"#),
                "routes[0].upstream_tls"))
    }

    @Test("refused upstream URLs", arguments: badUpstreams)
    func badUpstream(url: String) {
        let issues = configIssues(#"{"routes":[{"path":"/a","upstream":"\#(url)","auth":"none"}]}"#)
        #expect(has(issues, "routes[0].upstream[0]"), "\(issues)")
    }

    @Test("routes: path, methods, auth modes, scopes on a public route")
    func routeValidation() {
        #expect(has(configIssues(#"{"routes":[{"path":"/a","auth":"none"}]}"#), "routes[0].upstream", "is required"))
        #expect(
            has(
                configIssues(#"{"routes":[{"path":"api","upstream":"http://127.0.0.1:1","auth":"none"}]}"#),
                "routes[0].path"))
        #expect(
            has(
                configIssues(#"{"routes":[{"path":"/api/","upstream":"http://127.0.0.1:1","auth":"none"}]}"#),
                "routes[0].path"))
        #expect(
            has(
                configIssues(#"{"routes":[{"path":"/a/../b","upstream":"http://127.0.0.1:1","auth":"none"}]}"#),
                "routes[0].path"))
        #expect(
            has(
                configIssues(#"{"routes":[{"upstream":"http://127.0.0.1:1","auth":"none"}]}"#), "routes[0].path",
                "required"))
        #expect(
            has(
                configIssues(
                    #"{"routes":[{"path":"/a","methods":["get"],"upstream":"http://127.0.0.1:1","auth":"none"}]}"#),
                "routes[0].methods"))
        #expect(
            has(
                configIssues(#"{"routes":[{"path":"/a","upstream":"http://127.0.0.1:1","auth":"maybe"}]}"#),
                "routes[0].auth", "required, optional or none"))
        #expect(
            has(
                configIssues(
                    #"{"routes":[{"path":"/a","upstream":"http://127.0.0.1:1","auth":"none","scopes":"read"}]}"#),
                "routes[0].auth", "none"))
        #expect(
            has(
                configIssues(
                    #"{"routes":[{"path":"/a","upstream":"http://127.0.0.1:1","auth":"none","roles":["admin"]}]}"#),
                "routes[0].auth", "none"))
        #expect(
            has(
                configIssues(
                    #"{"routes":[{"path":"/a","host":"a.com:80","upstream":"http://127.0.0.1:1","auth":"none"}]}"#),
                "routes[0].host"))
        let dup = configIssues(#"{"routes":[\#(publicRoute),\#(publicRoute)]}"#)
        #expect(has(dup, "routes[1].path", "same path, host and methods"))
    }

    @Test("auth modes and scopes are read")
    func authModes() throws {
        let c = try parseConfig(
            #"{"tokens":\#(tokensJSON),"routes":[{"path":"/a","upstream":"http://127.0.0.1:1","scopes":["read","write"],"roles":["admin","ops"]},{"path":"/b","upstream":"http://127.0.0.1:1","auth":"optional","host":"API.Example.com","methods":["GET","POST"],"strip_prefix":true}]}"#
        )
        #expect(c.routes[0].auth == .required)
        #expect(c.routes[0].scopes == ["read", "write"])
        #expect(c.routes[0].roles == ["admin", "ops"])
        #expect(c.routes[1].auth == .optional)
        #expect(c.routes[1].host == "api.example.com")
        #expect(c.routes[1].methods == ["GET", "POST"])
        #expect(c.routes[1].stripPrefix)
    }

    @Test("GATEWAY_LISTEN and GATEWAY_ADMIN_LISTEN override the file, which stays valid")
    func environmentOverrides() throws {
        let json = #"{"listen":"127.0.0.1:1000","admin_listen":"127.0.0.1:1001","routes":[\#(publicRoute)]}"#
        let fromFile = try parseConfig(json)
        #expect(fromFile.listen == SocketAddress(parsing: "127.0.0.1:1000"))
        #expect(fromFile.adminListen == SocketAddress(parsing: "127.0.0.1:1001"))
        let c = try parseConfig(
            json, environment: ["GATEWAY_LISTEN": "127.0.0.1:2000", "GATEWAY_ADMIN_LISTEN": "[::1]:2001"])
        #expect(c.listen == SocketAddress(parsing: "127.0.0.1:2000"))
        #expect(c.adminListen == SocketAddress(parsing: "[::1]:2001"))
        let bad = configIssues(json, environment: ["GATEWAY_LISTEN": "localhost:80", "GATEWAY_ADMIN_LISTEN": "nope"])
        #expect(has(bad, "GATEWAY_LISTEN"))
        #expect(has(bad, "GATEWAY_ADMIN_LISTEN"))
        #expect(bad.count == 2, "\(bad)")
        #expect(has(configIssues(#"{"listen":"0.0.0.0","routes":[\#(publicRoute)]}"#), "listen"))
    }

    @Test(
        "a scope entry is one scope-token; roles carry no separators",
        arguments: [
            #"{"scopes":"read write"}"#, #"{"scopes":["a\"b"]}"#, #"{"scopes":[""]}"#, #"{"roles":["a,b"]}"#,
            #"{"roles":[" admin"]}"#, #"{"roles":["x\r\ny"]}"#,
        ])
    func scopeAndRoleTokens(_ rule: String) throws {
        let route = rule.dropFirst().dropLast()
        let issues = configIssues(
            #"{"tokens":\#(tokensJSON),"routes":[{"path":"/a","upstream":"http://127.0.0.1:1",\#(route)}]}"#)
        #expect(has(issues, rule.contains("scopes") ? "routes[0].scopes" : "routes[0].roles", ""))
    }

    @Test("explicit route names must differ")
    func duplicateNames() {
        let issues = configIssues(
            #"{"routes":[{"name":"api","path":"/a","upstream":"http://127.0.0.1:1","auth":"none"},{"name":"api","path":"/b","upstream":"http://127.0.0.1:1","auth":"none"}]}"#
        )
        #expect(has(issues, "routes[1].name", "used by another route"))
        // Routes named after the same path (different hosts) keep their default names.
        #expect(
            (try? parseConfig(
                #"{"routes":[{"path":"/a","host":"a.com","upstream":"http://127.0.0.1:1","auth":"none"},{"path":"/a","upstream":"http://127.0.0.1:1","auth":"none"}]}"#
            )) != nil)
    }

    @Test("identity headers cannot be set by a route, in any case")
    func identityHeaderSet() {
        let issues = configIssues(
            #"{"routes":[{"path":"/a","upstream":"http://127.0.0.1:1","auth":"none","request_headers":{"set":{"x-auth-SUBJECT":"admin"}}}]}"#
        )
        #expect(has(issues, "routes[0].request_headers.set", "identity header"))
        let custom = configIssues(
            #"{"identity_headers":{"claims":{"email":"X-User-Email"}},"routes":[{"path":"/a","upstream":"http://127.0.0.1:1","auth":"none","request_headers":{"set":{"X-User-Email":"x"}}}]}"#
        )
        #expect(has(custom, "routes[0].request_headers.set", "identity header"))
        // Other names may be set.
        #expect(
            (try? parseConfig(
                #"{"routes":[{"path":"/a","upstream":"http://127.0.0.1:1","auth":"none","request_headers":{"set":{"X-Env":"prod"}}}]}"#
            )) != nil)
        #expect(
            has(
                configIssues(
                    #"{"routes":[{"path":"/a","upstream":"http://127.0.0.1:1","auth":"none","request_headers":{"set":{"X-Env":"a\u000d\u000ab"}}}]}"#
                ), "routes[0]", "control characters"))
    }

    @Test("identity header names: valid, distinct, not hop-by-hop or Authorization")
    func identityHeaderNames() throws {
        let c = try parseConfig(
            #"{"identity_headers":{"subject":"X-User","claims":{"email":"X-Email"}},"routes":[\#(publicRoute)]}"#)
        #expect(c.identityHeaders.subject == "X-User")
        #expect(
            c.identityHeaders.allNames == [
                "X-User", "X-Auth-Scopes", "X-Auth-Roles", "X-Auth-Session", "X-Client-Cert-Subject",
                "X-Client-Cert-SHA256", "X-Email",
            ])
        let renamed = try parseConfig(
            #"{"identity_headers":{"client_cert_subject":"X-Mtls-Subject","client_cert_sha256":"X-Mtls-Hash"},"routes":[\#(publicRoute)]}"#
        )
        #expect(renamed.identityHeaders.clientCertSubject == "X-Mtls-Subject")
        #expect(renamed.identityHeaders.clientCertSHA256 == "X-Mtls-Hash")
        #expect(
            has(
                configIssues(#"{"identity_headers":{"subject":"Authorization"},"routes":[\#(publicRoute)]}"#),
                "identity_headers", "authorization"))
        #expect(
            has(
                configIssues(#"{"identity_headers":{"subject":"X-Auth-Roles"},"routes":[\#(publicRoute)]}"#),
                "identity_headers", "must all differ"))
        #expect(
            has(
                configIssues(#"{"identity_headers":{"subject":"X User"},"routes":[\#(publicRoute)]}"#),
                "identity_headers.subject"))
    }

    @Test("CORS: * never with credentials; origins without paths")
    func cors() throws {
        let issues = configIssues(#"{"cors":{"origins":["*"],"allow_credentials":true},"routes":[\#(publicRoute)]}"#)
        #expect(has(issues, "cors.origins", "allow_credentials"))
        #expect(
            has(configIssues(#"{"cors":{"origins":["https://a.com/"]},"routes":[\#(publicRoute)]}"#), "cors.origins"))
        #expect(has(configIssues(#"{"cors":{"origins":["a.com"]},"routes":[\#(publicRoute)]}"#), "cors.origins"))
        #expect(has(configIssues(#"{"cors":{"origins":[]},"routes":[\#(publicRoute)]}"#), "cors.origins"))
        let c = try parseConfig(#"{"cors":{"origins":"*"},"routes":[\#(publicRoute)]}"#)
        #expect(c.cors?.origins == ["*"])
        #expect(c.cors?.allowCredentials == false)
        #expect(c.cors?.maxAge == 600_000)
        let creds = try parseConfig(
            #"{"cors":{"origins":["https://app.example.com"],"allow_credentials":true},"routes":[\#(publicRoute)]}"#)
        #expect(creds.cors?.allowCredentials == true)
    }

    @Test("auth paths must differ and be normalised; realm is quotable")
    func authPaths() {
        #expect(
            has(
                configIssues(#"{"auth":{"login_path":"/auth/refresh"},"routes":[\#(publicRoute)]}"#), "auth",
                "must differ"))
        #expect(
            has(
                configIssues(#"{"auth":{"login_path":"/auth//login"},"routes":[\#(publicRoute)]}"#), "auth",
                "normalised"))
        #expect(has(configIssues(#"{"auth":{"realm":"a\"b"},"routes":[\#(publicRoute)]}"#), "auth.realm"))
        #expect(
            has(
                configIssues(
                    #"{"auth":{"authenticator":{"kind":"users_file","path":"u.json"}},"routes":[\#(publicRoute)]}"#),
                "tokens", "authenticator"))
    }

    @Test("relative file paths are resolved against the configuration folder")
    func relativePaths() throws {
        let c = try parseConfig(
            #"{"tokens":{"issuer":"i","audience":"a","keys":[{"kid":"k","alg":"HS256","secret_file":"secret.key"}]},"auth":{"authenticator":{"kind":"users_file","path":"/abs/users.json"}},"store":{"path":"state"},"routes":[\#(publicRoute)]}"#
        )
        #expect(c.tokens?.keys.first?.material == .secretFile("/etc/gateway/secret.key"))
        #expect(c.auth.authenticator == .usersFile(path: "/abs/users.json"))
        #expect(c.store == .embedded(path: "/etc/gateway/state", fsync: true, compactBytes: 64 << 20))
    }

    @Test("every problem is reported at once")
    func allAtOnce() {
        let issues = configIssues(
            #"{"workers":-1,"limits":{"max_request_line":10},"log":{"level":"loud"},"store":{"kind":"disk"},"routes":[{"path":"/a","upstream":"https://x","auth":"none"}]}"#
        )
        #expect(has(issues, "workers"))
        #expect(has(issues, "limits.max_request_line"))
        #expect(has(issues, "log.level"))
        #expect(has(issues, "store.kind"))
        #expect(has(issues, "routes[0].upstream[0]"))
    }

    @Test("store.tls: rediss:// only, files resolved against the configuration folder")
    func redisTLS() throws {
        let c = try parseConfig(
            #"{"store":{"kind":"redis","url":"rediss://cache:6380/0","tls":{"ca_file":"tls/ca.pem","cert_file":"/abs/c.pem","key_file":"tls/c.key","server_name":"redis.internal"}},"routes":[\#(publicRoute)]}"#
        )
        let tls = RedisTLSSettings(
            caFile: "/etc/gateway/tls/ca.pem", certFile: "/abs/c.pem", keyFile: "/etc/gateway/tls/c.key",
            serverName: "redis.internal")
        #expect(c.store == .redis(url: "rediss://cache:6380/0", passwordEnv: nil, keyPrefix: "gw:", tls: tls))
        let plain = try parseConfig(#"{"store":{"kind":"redis","url":"rediss://cache"},"routes":[\#(publicRoute)]}"#)
        #expect(plain.store == .redis(url: "rediss://cache", passwordEnv: nil, keyPrefix: "gw:", tls: nil))

        func issues(_ store: String) -> [ConfigError.Issue] {
            configIssues(#"{"store":\#(store),"routes":[\#(publicRoute)]}"#)
        }
        #expect(has(issues(#"{"kind":"redis","url":"redis://cache","tls":{}}"#), "store.tls", "rediss://"))
        #expect(has(issues(#"{"kind":"redis","url":"http://cache"}"#), "store.url", "rediss://"))
        #expect(
            has(issues(#"{"kind":"redis","url":"rediss://c","tls":{"cert_file":"c.pem"}}"#), "store.tls", "key_file"))
        #expect(
            has(issues(#"{"kind":"redis","url":"rediss://c","tls":{"key_file":"k.pem"}}"#), "store.tls", "cert_file"))
        #expect(has(issues(#"{"kind":"redis","url":"rediss://c","tls":{"ca_file":""}}"#), "store.tls.ca_file"))
        #expect(has(issues(#"{"kind":"redis","url":"rediss://c","tls":{"server_name":""}}"#), "store.tls.server_name"))
        #expect(
            has(issues(#"{"kind":"redis","url":"rediss://c","tls":{"verify":false}}"#), "store.tls.verify", "unknown"))
        #expect(has(issues(#"{"kind":"embedded","tls":{}}"#), "store.tls", "unknown"))
    }
}
