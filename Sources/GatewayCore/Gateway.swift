import EventLoop
import Glibc

/// The composition root and command line: the only place that knows every part.
public enum Gateway {
    public static let version = "0.1.0"

    /// Entry point for `main.swift`. Never returns.
    public static func main() -> Never {
        exit(run(arguments: Array(CommandLine.arguments.dropFirst()), environment: currentEnvironment()))
    }

    static let usage = """
        gateway \(version): an authenticating reverse proxy with the whole token life cycle.

        USAGE
          gateway [run] [--config FILE]      serve (the default command)
          gateway check [--config FILE]      validate a configuration and its keys; exit 1 if invalid
          gateway keygen --alg ALG --kid KID [--out FILE] [--bits 2048|3072|4096]
                                             make a signing key: private key to FILE (PKCS#8 PEM),
                                             public JWK on standard output
          gateway hash-password [--scheme scrypt|pbkdf2]
                                             read a password on standard input, print its hash
          gateway hash-client-secret [--scheme scrypt|pbkdf2]
                                             make a client secret, print it and its hash as JSON
          gateway --version | --help

        The configuration file is FILE, else $GATEWAY_CONFIG, else ./gateway.json.
        $GATEWAY_LISTEN and $GATEWAY_ADMIN_LISTEN override the listen addresses.
        Signals: SIGHUP reloads configuration and keys; SIGTERM drains and exits 0.
        """

    static func run(arguments: [String], environment: [String: String]) -> Int32 {
        var args = arguments
        var command = "run"
        if let first = args.first, !first.hasPrefix("-") {
            command = first
            args.removeFirst()
        }
        if args.contains("--help") || args.contains("-h") || command == "help" {
            print(usage)
            return 0
        }
        if args.contains("--version") || command == "version" {
            print("gateway \(version)")
            return 0
        }
        var options: [String: String] = [:]
        var i = 0
        while i < args.count {
            let a = args[i]
            guard a.hasPrefix("--"), i + 1 < args.count else {
                printError("unexpected argument \(a) (see gateway --help)")
                return 2
            }
            options[String(a.dropFirst(2))] = args[i + 1]
            i += 2
        }
        let configPath = options["config"] ?? environment["GATEWAY_CONFIG"] ?? "gateway.json"
        switch command {
        case "run":
            return serve(configPath: configPath, environment: environment)
        case "check":
            return check(configPath: configPath, environment: environment)
        case "keygen":
            return KeyCommands.keygen(options: options)
        case "hash-password":
            return KeyCommands.hashPassword(options: options)
        case "hash-client-secret":
            return ClientCommands.hashClientSecret(options: options)
        default:
            printError("unknown command \(command) (see gateway --help)")
            return 2
        }
    }

    static func check(configPath: String, environment: [String: String]) -> Int32 {
        do {
            let config = try GatewayConfig.load(path: configPath, environment: environment)
            _ = try GatewayRuntime.build(config: config, environment: environment, context: nil)
            if case .redis(let url, let passwordEnv, let keyPrefix, let tls) = config.store {
                // The store is not opened, but its TLS files are loaded and checked.
                _ = try RedisBackend.options(
                    url: url, password: passwordEnv.flatMap { environment[$0] }, keyPrefix: keyPrefix, tls: tls)
            }
            for path in config.looseKeyFiles {
                printError("warning: private key \(path) is readable by other users (chmod 600 it)")
            }
            print("\(configPath): OK (\(config.routes.count) routes, listen \(config.listen))")
            return 0
        } catch {
            printError("\(configPath): invalid configuration")
            for issue in error.issues { printError("  \(issue)") }
            return 1
        }
    }

    static func serve(configPath: String, environment: [String: String]) -> Int32 {
        // Signals are taken synchronously by this thread; every thread started later
        // inherits the blocked mask.
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)

        let config: GatewayConfig
        do {
            config = try GatewayConfig.load(path: configPath, environment: environment)
        } catch {
            printError("\(configPath): invalid configuration, not starting")
            for issue in error.issues { printError("  \(issue)") }
            return 1
        }
        let logger = Logger(level: config.log.level)
        var services: TokenServices?
        let context: ServerContext
        let runtime: GatewayRuntime
        do {
            if config.tokens != nil {
                services = try TokenServices.open(config: config, environment: environment, logger: logger)
            }
            context = ServerContext(limits: config.limits, hub: services?.hub ?? RevocationHub(), services: services)
            runtime = try GatewayRuntime.build(config: config, environment: environment, context: context)
        } catch {
            services?.store.close()
            printError("\(configPath): invalid configuration, not starting")
            for issue in error.issues { printError("  \(issue)") }
            return 1
        }
        let server: GatewayServer
        do {
            server = try GatewayServer(runtime: runtime, context: context)
        } catch {
            services?.store.close()
            logger.error("cannot listen on \(config.listen): \(error)")
            return 1
        }
        context.upstreamWatcher.configure(config, counters: context.edge) { [server] body in server.eachWorker(body) }
        for path in config.looseKeyFiles {
            logger.warning("private key \(path) is readable by other users (chmod 600 it)")
        }
        logger.info(
            "listening on \(config.listen.withPort(server.port))\(config.tls == nil ? "" : " (TLS)") with \(server.group.loops.count) workers"
                + (server.adminPort.map { ", admin on port \($0)" } ?? ""))
        if config.ioUring && !server.group.loops.allSatisfy(\.batchesSends) {
            logger.info("io_uring is not available (kernel, sysctl or seccomp): one send per upstream write")
        }

        var grace = config.limits.shutdownGrace
        // Certificates rotated on disk are picked up as a SIGHUP would: the same reload path,
        // the same "keep the old one and say why" on a bad file.
        let watcher = FileWatcher(intervalMillis: 1_000) {
            logger.info("certificate or key files changed: reloading")
            kill(getpid(), SIGHUP)
        }
        watcher.watch(config.watchedFiles)
        while true {
            var sig: Int32 = 0
            sigwait(&set, &sig)
            switch sig {
            case SIGHUP:
                do {
                    let next = try GatewayConfig.load(path: configPath, environment: environment)
                    if next.store != config.store {
                        logger.warning("store settings changed: they take effect on restart")
                    }
                    if next.workers != config.workers {
                        logger.warning("workers changed: it takes effect on restart")
                    }
                    if next.ioUring != config.ioUring {
                        logger.warning("io_uring changed: it takes effect on restart")
                    }
                    if (next.tls == nil) != (config.tls == nil) {
                        throw ConfigError("tls", "turning TLS on or off changes the listener: restart to apply it")
                    }
                    if services == nil && next.tokens != nil {
                        throw ConfigError("tokens", "token settings were added: restart to open the store")
                    }
                    server.reload(try GatewayRuntime.build(config: next, environment: environment, context: context))
                    context.upstreamWatcher.configure(next, counters: context.edge)
                    watcher.watch(next.watchedFiles)
                    grace = next.limits.shutdownGrace
                    logger.info("configuration reloaded (\(next.routes.count) routes)")
                } catch {
                    logger.error(
                        "reload refused, keeping the running configuration: \(String(describing: error).replacingNewlines())"
                    )
                }
            default:
                logger.info("draining (signal \(sig))")
                server.beginDrain()
                let deadline = EventLoop.monotonicMillis() + grace
                while server.openConnections > 0 && EventLoop.monotonicMillis() < deadline {
                    usleep(20_000)
                }
                server.stop()
                services?.store.close()
                logger.info("stopped")
                return 0
            }
        }
    }

    static func printError(_ message: String) {
        let line = message + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }

    static func currentEnvironment() -> [String: String] {
        var env: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                env[String(s[..<eq])] = String(s[s.index(after: eq)...])
            }
            p += 1
        }
        return env
    }
}

extension String {
    func replacingNewlines() -> String {
        String(self.map { $0 == "\n" ? ";" : $0 })
    }
}
