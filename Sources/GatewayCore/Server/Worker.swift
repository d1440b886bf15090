import EventLoop
import Glibc
import HTTP1

/// Everything one event loop owns: its connections, its upstream pool, scratch buffers,
/// and its copy of the runtime. No other thread touches it (cross-thread work arrives via
/// `loop.execute`), so nothing here takes a lock.
final class Worker {
    let loop: EventLoop
    var runtime: GatewayRuntime
    let limiter: ConnectionLimiter
    let context: ServerContext
    let metrics: WorkerMetrics
    private var accessBatch: [UInt8] = []
    private var accessLines = 0
    let upstreamPool: UpstreamPool
    private(set) var connections: [ClientConnection] = []
    var requestIDs = RequestIDGenerator()
    var date = HTTPDateCache()
    /// Reused while building message heads, so a request allocates as little as possible.
    var scratch: [UInt8] = []
    /// Proxied response heads are written here, then copied to the client's output.
    var headScratch = HeadBuffer(capacity: 4096)
    var pathScratch: [UInt8] = []
    private var roundRobin: [Int] = []
    /// Set on SIGTERM: finish what is in flight, accept nothing new, close idle connections.
    private(set) var draining = false
    private(set) var requestsServed = 0
    /// Revoked families and tokens, kept in step by `RevocationHub`.
    var revocations = RevocationList()
    /// Tunnels opened with a token, closed when it is revoked or expires.
    var tunnels = TunnelIndex<ClientConnection>()
    private var bearer: BearerVerifier?
    /// Re-resolved addresses and upstream health (`Worker+LiveUpstreams.swift`).
    let live = LiveUpstreams()

    init(loop: EventLoop, runtime: GatewayRuntime, context: ServerContext) {
        self.loop = loop
        self.runtime = runtime
        self.context = context
        self.limiter = context.limiter
        self.metrics = context.metrics.register()
        self.upstreamPool = UpstreamPool(
            maxPerUpstream: runtime.config.limits.upstreamIdleConnections,
            idleTimeout: runtime.config.limits.upstreamIdleTimeout)
        scratch.reserveCapacity(4096)
        pathScratch.reserveCapacity(1024)
        date.refresh()
        loop.scheduleRepeating(every: 100) { [unowned self] in self.sweep() }
    }

    func add(_ c: ClientConnection) {
        c.slot = connections.count
        connections.append(c)
    }

    func remove(_ c: ClientConnection) {
        let i = c.slot
        guard i >= 0, i < connections.count, connections[i] === c else { return }
        let last = connections.removeLast()
        if i < connections.count {
            connections[i] = last
            last.slot = i
        }
        c.slot = -1
    }

    /// The verifier (and its cache) for the runtime's keys; a reload with new keys starts
    /// an empty cache, so a token of a removed key is never served from it.
    func verifier(for auth: AuthRuntime) -> BearerVerifier {
        if let bearer, bearer.auth === auth { return bearer }
        let v = BearerVerifier(auth: auth, names: runtime.config.identityHeaders)
        bearer = v
        return v
    }

    /// Round-robin choice among a route's upstreams, skipping unhealthy ones (`LiveUpstreams`).
    func nextUpstream(_ route: Route) -> UpstreamURL {
        let ups = route.config.upstreams
        if ups.count == 1 { return live.choose(ups, start: 0, now: loop.now) }
        if roundRobin.count <= route.index {
            roundRobin += Array(repeating: 0, count: route.index + 1 - roundRobin.count)
        }
        let i = roundRobin[route.index]
        roundRobin[route.index] = i &+ 1
        return live.choose(ups, start: i, now: loop.now)
    }

    /// Timeouts: every 100 ms, each connection's single deadline is checked.
    private func sweep() {
        date.refresh()
        let now = loop.now
        var i = 0
        while i < connections.count {
            let c = connections[i]
            if c.deadline > 0 && c.deadline <= now {
                c.timedOut()
            }
            // `timedOut` may have removed `c`; only advance if it is still here.
            if i < connections.count && connections[i] === c { i += 1 }
        }
        upstreamPool.sweep(now: now)
        let wallNow = WallClock.millis()
        for c in tunnels.expired(now: wallNow) { c.endTunnel() }
        revocations.sweep(now: wallNow)
        flushAccessLog()
    }

    /// Called once revocations were applied to this worker's list: tunnels opened with a
    /// token they cover close now, on every worker, as the next request with it would be refused.
    func revocationsApplied() {
        for c in tunnels.revoked(by: revocations, now: WallClock.millis()) { c.endTunnel() }
    }

    func beginDrain() {
        draining = true
        for c in connections { c.drainIfIdle() }
    }

    var openConnections: Int { connections.count }

    var adminRuntime: GatewayRuntime { runtime.admin ?? runtime }

    /// Called once per finished exchange: metrics, and the access-log line.
    func recordExchange(_ c: ClientConnection) {
        requestsServed &+= 1
        if c.admin { return }
        let status = c.exchange.status
        metrics.record(
            route: c.routeLabel, status: status, durationMillis: max(0, now - c.requestStart),
            upstreamMillis: c.exchange.upstreamMillis, authFailure: c.authFailure)
        guard runtime.config.log.accessLog else { return }
        AccessLogLine.append(c, status: status, now: now, into: &accessBatch)
        accessLines += 1
        if accessBatch.count >= 64 * 1024 { flushAccessLog() }
    }

    private var now: Int64 { loop.now }

    /// Hands the batched lines to the writer thread (every sweep, or when 64 KiB piled up).
    func flushAccessLog() {
        guard !accessBatch.isEmpty else { return }
        context.accessLog.write(accessBatch, lines: accessLines)
        accessBatch = []
        accessBatch.reserveCapacity(8192)
        accessLines = 0
    }
}
