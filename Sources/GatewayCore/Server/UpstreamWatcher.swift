import Dispatch
import EventLoop
import Synchronization

/// Keeps upstream addresses live, off the event loops: on one background queue it
/// re-resolves host names every `resolve_interval` (and soon after a connect failure), and
/// runs the optional active health checks; what it finds is handed to every worker with
/// `loop.execute`. The lookup is injectable (`resolve`): getaddrinfo by default.
final class UpstreamWatcher: Sendable {
    typealias Resolve = @Sendable (_ host: String, _ port: UInt16) -> [SocketAddress]?
    /// Runs `body` on every worker's own loop.
    typealias Broadcast = @Sendable (_ body: @escaping @Sendable (Worker) -> Void) -> Void

    private struct State {
        var settings = UpstreamHealthSettings()
        /// Every distinct upstream of the routes (one per host, port and TLS setting).
        var upstreams: [UpstreamURL] = []
        var last: [LiveUpstreams.HostPort: [SocketAddress]] = [:]
        var broadcast: Broadcast?
        var counters: EdgeCounters?
        var logLevel = LogSettings.Level.info
        /// Bumped on every reconfiguration: timers of an older one stop.
        var generation = 0
        var lastPoke: Int64 = 0
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "gw-upstream-watcher")
    private let resolve: Resolve

    init(resolve: @escaping Resolve = UpstreamWatcher.systemResolve) {
        self.resolve = resolve
    }

    static let systemResolve: Resolve = { host, port in try? SocketAddress.resolve(host: host, port: port) }

    /// Starts (or, on reload, restarts) the timers for `config`.
    func configure(_ config: GatewayConfig, counters: EdgeCounters, broadcast: Broadcast? = nil) {
        var seen = Set<String>()
        var ups: [UpstreamURL] = []
        for route in config.routes {
            for u in route.upstreams where seen.insert("\(u.tls == nil ? "http" : "https")://\(u.authority)").inserted {
                ups.append(u)
            }
        }
        let gen = state.withLock { s -> Int in
            s.settings = config.edge.upstreamHealth
            s.upstreams = ups
            s.counters = counters
            s.logLevel = config.log.level
            if let broadcast { s.broadcast = broadcast }
            // The reload resolved every name again: hand the next answers on even if unchanged.
            s.last = [:]
            s.generation += 1
            return s.generation
        }
        let settings = config.edge.upstreamHealth
        if settings.resolveInterval > 0 && ups.contains(where: { !$0.isNumeric }) {
            scheduleResolve(gen, after: settings.resolveInterval)
        }
        if settings.healthPath != nil { scheduleCheck(gen, after: 0) }
    }

    /// A worker failed to connect to a named upstream: look names up again now, at most
    /// once a second.
    func poke() {
        let now = EventLoop.monotonicMillis()
        let go = state.withLock { s -> Bool in
            guard s.settings.resolveInterval > 0, now - s.lastPoke >= 1000 else { return false }
            s.lastPoke = now
            return true
        }
        if go { queue.async { self.resolveAll() } }
    }

    private func scheduleResolve(_ gen: Int, after ms: Int64) {
        queue.asyncAfter(deadline: .now() + .milliseconds(Int(ms))) {
            guard self.state.withLock({ $0.generation }) == gen else { return }
            self.resolveAll()
            let interval = self.state.withLock { $0.settings.resolveInterval }
            if interval > 0 { self.scheduleResolve(gen, after: interval) }
        }
    }

    private func scheduleCheck(_ gen: Int, after ms: Int64) {
        queue.asyncAfter(deadline: .now() + .milliseconds(Int(ms))) {
            guard self.state.withLock({ $0.generation }) == gen else { return }
            self.checkAll()
            let interval = self.state.withLock { $0.settings.healthInterval }
            self.scheduleCheck(gen, after: interval)
        }
    }

    /// On the queue: one lookup per named upstream; changes go to every worker.
    private func resolveAll() {
        let (ups, broadcast, counters, level) = state.withLock {
            ($0.upstreams, $0.broadcast, $0.counters, $0.logLevel)
        }
        var names = Set<LiveUpstreams.HostPort>()
        for u in ups where !u.isNumeric { names.insert(LiveUpstreams.HostPort(host: u.host, port: u.port)) }
        for key in names {
            guard let found = resolve(key.host, key.port), !found.isEmpty else {
                counters?.count(.upstreamResolveFailed)
                continue
            }
            let changed = state.withLock { s -> Bool in
                guard s.last[key] != found else { return false }
                s.last[key] = found
                return true
            }
            guard changed else { continue }
            counters?.count(.upstreamResolved)
            Logger(level: level).info(
                "upstream \(key.host) resolves to \(found.map(\.hostText).joined(separator: ", "))")
            broadcast? { w in w.live.update(key, found) }
        }
    }

    /// On the queue: `GET health_path` on every address of every plain-HTTP upstream.
    private func checkAll() {
        let (ups, settings, last, broadcast, counters) = state.withLock {
            ($0.upstreams, $0.settings, $0.last, $0.broadcast, $0.counters)
        }
        guard let path = settings.healthPath else { return }
        for u in ups where u.tls == nil {
            let key = LiveUpstreams.HostPort(host: u.host, port: u.port)
            for a in last[key] ?? [u.address] {
                let request = Array(
                    "GET \(u.basePath)\(path) HTTP/1.1\r\nHost: \(u.authority)\r\nUser-Agent: gateway-health-check\r\nConnection: close\r\n\r\n"
                        .utf8)
                let reply = Socket.blockingExchange(
                    to: a, request: request, timeoutMillis: Int(settings.healthTimeout))
                let ok = reply.map(Self.isHealthy) ?? false
                if !ok { counters?.count(.healthCheckFailed) }
                var target = u
                target.address = a
                let t = target
                broadcast? { w in w.upstreamEvent(t, .activeCheck(ok: ok)) }
            }
        }
    }

    /// A 2xx or 3xx status line.
    static func isHealthy(_ reply: [UInt8]) -> Bool {
        guard reply.count >= 12, reply.starts(with: Array("HTTP/1.".utf8)), reply[8] == 0x20 else { return false }
        return reply[9] == UInt8(ascii: "2") || reply[9] == UInt8(ascii: "3")
    }
}

extension UpstreamURL {
    /// Given as an IP address: nothing to re-resolve.
    var isNumeric: Bool { SocketAddress(numericHost: host, port: port) != nil }
}
