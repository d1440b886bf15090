import EventLoop
import Synchronization
import TLS

/// What lives as long as the process, across reloads: the connection limiter, revocations,
/// metrics, the access log, the token services, and whether the gateway is draining.
final class ServerContext: Sendable {
    let limiter: ConnectionLimiter
    /// The admin listener's own budget: public connections never use it up.
    let adminLimiter: ConnectionLimiter
    let hub: RevocationHub
    let metrics: Metrics
    let accessLog = AccessLog()
    /// Trusted-proxy, PROXY protocol, forward-auth and live-upstream counters.
    let edge = EdgeCounters()
    /// Background re-resolution and active health checks of upstreams.
    let upstreamWatcher = UpstreamWatcher()
    /// Session-ticket keys of the TLS listener: rotated hourly, kept across reloads.
    let ticketKeys = TicketKeyRing(clock: { EventLoop.monotonicMillis() })
    let services: TokenServices?
    /// The trusted outside issuers of the runtime in service (readiness, metrics).
    let issuers = IssuerRegistry()
    private let drainingFlag = Atomic<Bool>(false)

    init(limits: Limits, hub: RevocationHub, services: TokenServices?) {
        limiter = ConnectionLimiter(maxTotal: limits.maxConnections, maxPerAddress: limits.maxConnectionsPerClient)
        adminLimiter = ConnectionLimiter(
            maxTotal: limits.adminMaxConnections, maxPerAddress: limits.adminMaxConnections)
        self.hub = hub
        self.services = services
        metrics = Metrics(tokens: services?.counters ?? TokenCounters())
    }

    var draining: Bool {
        get { drainingFlag.load(ordering: .relaxed) }
        set { drainingFlag.store(newValue, ordering: .relaxed) }
    }
}
