import EventLoop
import Glibc
import Synchronization
import TLS
import TokenStore

extension GatewayRuntime {
    /// Builds a runtime generation: keys, authenticator and the gateway's own auth paths.
    /// Everything is read before anything is swapped in, so a bad key or users file leaves
    /// the running generation untouched. `services` is nil for `gateway check`.
    static func build(
        config: GatewayConfig, environment: [String: String],
        context: ServerContext?
    ) throws(ConfigError) -> GatewayRuntime {
        let services = context?.services
        // Certificates are loaded (and checked against their keys) before anything is swapped.
        var tls: TLSContext?
        if let settings = config.tls {
            do {
                tls = try TLSContext.server(settings, ticketKeys: context?.ticketKeys)
            } catch {
                throw ConfigError("tls", error.description)
            }
        }
        var upstreamTLS: [UpstreamTLS: TLSContext] = [:]
        for (i, route) in config.routes.enumerated() {
            for settings in route.upstreams.compactMap(\.tls) where upstreamTLS[settings] == nil {
                do {
                    upstreamTLS[settings] = try TLSContext.client(settings.clientConfiguration)
                } catch {
                    throw ConfigError("routes[\(i)].upstream_tls", error.description)
                }
            }
        }
        var admin: GatewayRuntime?
        if let context, config.adminListen != nil {
            var adminConfig = config
            adminConfig.routes = []
            adminConfig.cors = nil
            admin = GatewayRuntime(
                config: adminConfig, auth: nil,
                localRoutes: AdminEndpoints.handlers(context: context, hasTokens: config.tokens != nil))
        }
        guard let tokens = config.tokens else {
            return GatewayRuntime(config: config, auth: nil, admin: admin, tls: tls, upstreamTLS: upstreamTLS)
        }
        var issues: [ConfigError.Issue] = []
        var keys: TokenKeys?
        do {
            keys = try TokenKeys(settings: tokens, environment: environment)
        } catch {
            issues += error.issues
        }
        var trusted: IssuerSetup?
        do {
            trusted = try IssuerSetup(tokens: tokens)
        } catch {
            issues += error.issues
        }
        var authenticator: (any Authenticator)?
        switch config.auth.authenticator {
        case .usersFile(let path)?:
            do {
                authenticator = try UsersFileAuthenticator(path: path)
            } catch {
                issues += error.issues
            }
        case .upstream(let url, let path, let timeout)?:
            var context: TLSContext?
            if let tls = url.tls {
                do {
                    context = try TLSContext.client(tls.clientConfiguration)
                } catch {
                    issues.append(.init(path: "auth.authenticator.tls", message: error.description))
                }
            }
            authenticator = UpstreamAuthenticator(url: url, path: path, timeout: timeout, tls: context)
        case nil:
            break
        }
        if let keys, !keys.canSign, authenticator != nil {
            issues.append(
                .init(path: "tokens.keys", message: "login needs a key that can sign (a private key or a secret)"))
        }
        guard issues.isEmpty, let keys else { throw ConfigError(issues: issues) }
        let tokenService = try TokenServiceSetup.prepare(
            config: config, keys: keys, hasAuthenticator: authenticator != nil)
        let auth = AuthRuntime(realm: config.auth.realm, keys: keys, issuers: trusted?.directory)
        var local: [([UInt8], LocalHandler)] = []
        let a = config.auth
        if let p = a.jwksPath { local.append((Array(p.utf8), JWKSHandler(document: keys.jwks))) }
        if let services, keys.canSign {
            let endpoints = AuthEndpoints(
                flows: AuthFlows(
                    services: services, keys: keys, auth: a, authenticator: authenticator,
                    issuers: trusted?.directory))
            if authenticator != nil, let p = a.loginPath {
                local.append((Array(p.utf8), LoginHandler(endpoints: endpoints)))
            }
            if let p = a.refreshPath { local.append((Array(p.utf8), RefreshHandler(endpoints: endpoints))) }
            if let p = a.tokenPath { local.append((Array(p.utf8), TokenEndpointHandler(endpoints: endpoints))) }
            if let p = a.logoutPath { local.append((Array(p.utf8), LogoutHandler(endpoints: endpoints))) }
            tokenService?.register(into: &local, services: services, keys: keys, endpoints: endpoints, auth: a)
        }
        if let context { trusted?.install(in: context, logger: Logger(level: config.log.level)) }
        return GatewayRuntime(
            config: config, auth: auth, localRoutes: local, admin: admin, tls: tls, upstreamTLS: upstreamTLS)
    }
}

extension TokenServices {
    /// Opens the configured store and loads the revocations in force into `hub`, before
    /// any listener accepts (SPEC §5: a revoked session stays revoked across restarts).
    static func open(config: GatewayConfig, environment: [String: String], logger: Logger) throws(ConfigError)
        -> TokenServices
    {
        let storeLogger: StoreLogger = { level, message in
            switch level {
            case .debug: logger.debug("store: \(message)")
            case .info: logger.info("store: \(message)")
            case .warning: logger.warning("store: \(message)")
            case .error: logger.error("store: \(message)")
            }
        }
        let store: any TokenStore
        let throttle: any LoginThrottle
        switch config.store {
        case .memory:
            store = MemoryTokenStore()
            throttle = MemoryLoginThrottle()
        case .embedded(let path, let fsync, let compactBytes):
            do {
                store = try JournalTokenStore(
                    options: JournalOptions(
                        path: path, fsync: fsync, compactionThreshold: compactBytes, logger: storeLogger))
            } catch {
                throw ConfigError("store.path", "cannot open the embedded store: \(error)")
            }
            throttle = MemoryLoginThrottle()
        case .redis(let url, let passwordEnv, let keyPrefix, let tls):
            let opened = try RedisBackend.open(
                url: url, password: passwordEnv.flatMap { environment[$0] },
                keyPrefix: keyPrefix, tls: tls, logger: storeLogger)
            store = opened.store
            throttle = opened.throttle
        }
        let hub = RevocationHub()
        store.setRevocationListener { revocation in hub.broadcast([revocation], now: WallClock.millis()) }
        let loaded = Completion<Result<[Revocation], TokenStoreError>>()
        store.activeRevocations(now: WallClock.millis()) { loaded.fulfil($0) }
        switch loaded.wait(timeoutMillis: 5_000) {
        case .success(let revocations)?:
            hub.broadcast(revocations, now: WallClock.millis())
            if !revocations.isEmpty { logger.info("\(revocations.count) revocations in force") }
        case .failure(let e)?:
            // Redis may be down at start: the store resyncs on connect and readiness waits.
            logger.warning("revocations not loaded yet: \(e)")
        case nil:
            logger.warning("revocations not loaded yet: the store did not answer")
        }
        // Password hashing is slow and memory-hard by design (scrypt: ~0.4 s of CPU and 128 MiB
        // each): at most half the cores hash at once, so a flood of logins cannot take the
        // cores the proxy path runs on, and a bounded queue answers 503 beyond that.
        let threads = max(1, min(4, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) / 2))
        return TokenServices(
            store: store, throttle: throttle, hub: hub,
            pool: BlockingPool(threads: threads, maxQueued: 64), logger: logger)
    }
}

/// A one-shot result handed from another thread to a waiting start-up thread.
final class Completion<T: Sendable>: Sendable {
    private let value = Mutex<T?>(nil)

    func fulfil(_ v: T) { value.withLock { $0 = v } }

    /// Polls (start-up only), bounded by `timeoutMillis`.
    func wait(timeoutMillis: Int64) -> T? {
        let deadline = EventLoop.monotonicMillis() + timeoutMillis
        while EventLoop.monotonicMillis() < deadline {
            if let v = value.withLock({ $0 }) { return v }
            usleep(1000)
        }
        return value.withLock { $0 }
    }
}
