import EventLoop
import Glibc
import HTTP1
import TLS

/// One client connection, loop-confined: reads request heads, decides (route, policy),
/// then either forwards the exchange to an upstream (`+Proxy`) or answers itself
/// (`+Local`). One request at a time: pipelined requests wait in `input` and are answered
/// in order.
final class ClientConnection: Selectable {
    enum Phase: Equatable {
        /// Between requests (idle keep-alive timeout).
        case idle
        /// Part of a head has arrived (header timeout).
        case head
        /// Forwarding to an upstream.
        case proxy
        /// Reading a small request body that the gateway itself consumes.
        case localBody
        /// Waiting for the gateway's own answer (store, authenticator).
        case localPending
        /// Writing a response the gateway made; then the next request or close.
        case respond
        /// Raw bytes both ways after a protocol switch (WebSocket).
        case tunnel
        /// Answered and closing: write side shut, discarding input for a moment so the
        /// client reads the answer instead of a reset.
        case linger
        case closed
    }

    /// The only way to the client's socket: plain TCP or TLS, the connection cannot tell.
    let transport: any Transport
    /// The socket, for registration with the loop only.
    var fd: Int32 { transport.fd }
    /// The verified TLS client certificate, read once after the handshake (mTLS only).
    private(set) lazy var clientCertificate: PeerCertificate? = (transport as? TLSTransport)?.verifiedPeerCertificate
    let peer: SocketAddress?
    /// The limiter slot this connection holds: the peer, or nil for a trusted proxy.
    var limiterKey: SocketAddress?
    /// The current request's client, behind trusted proxies too (`ClientAddress`).
    var client = ClientAddress()
    /// `unowned(unsafe)`: the worker owns its loop and everything on it and lives as long as
    /// the process (`GatewayServer` holds it), so the checked form's atomic reference count
    /// on every access would buy nothing.
    unowned(unsafe) let worker: Worker
    var slot = -1
    var phase: Phase = .idle
    /// When the current wait times out (monotonic ms); 0 for never.
    var deadline: Int64 = 0

    var input: IOBuffer?
    var output: IOBuffer?
    var readable = false
    var writable = true
    var peerClosed = false

    /// The request side of HTTP/1.1 (framing, keep-alive, pipelining, Expect, body limits,
    /// timers): this driver feeds it the buffered bytes and carries out its actions.
    var server: HTTPServerStateMachine
    var head = RequestHead()
    /// Whether the connection stays open after the current exchange (the state machine's
    /// decision; setting false asks it to close after this response).
    var keepAlive: Bool {
        get { server.keepAlive }
        set { if !newValue { server.requestClose() } }
    }
    var runtime: GatewayRuntime
    var requestStart: Int64 = 0
    var requestID: [UInt8] = []
    var route: Route?
    /// Who the current request acts for, once its token verified (for the access log).
    var grant: AccessGrant?
    /// Metrics and access-log label: the route's name, the gateway path, or "-".
    var routeLabel = "-"
    /// Why the auth policy refused the current request (metrics), if it did.
    var authFailure: String?
    /// CORS headers every response to the current request carries (empty without `Origin`).
    var corsHeaders: [(String, String)] = []

    /// What the access log keeps of the current exchange.
    var exchange = ExchangeRecord()
    /// The proxy side of the current exchange (reset per request, buffers kept).
    var proxy = ProxyExchange()
    var upstream: UpstreamConnection?
    /// Kept for a retry on a fresh connection.
    var upstreamRequestHead = HeadBuffer()

    /// Local (gateway-answered) request body.
    var localBody: [UInt8] = []
    var localHandler: LocalHandler?

    /// Output above this stops reading from the other side until it drains.
    static let highWater = 256 * 1024

    /// Accepted on the admin listener: served by the admin runtime only.
    let admin: Bool

    init(transport: any Transport, peer: SocketAddress?, worker: Worker, admin: Bool = false) {
        self.transport = transport
        self.peer = peer
        self.limiterKey = peer
        self.client = ClientAddress(peer: peer)
        self.worker = worker
        self.runtime = admin ? worker.adminRuntime : worker.runtime
        self.admin = admin
        self.server = HTTPServerStateMachine(configuration: ClientConnection.serverConfiguration(runtime))
    }

    static func serverConfiguration(_ runtime: GatewayRuntime) -> HTTPServerStateMachine.Configuration {
        HTTPServerStateMachine.Configuration(
            limits: runtime.httpLimits, maxRequestsPerConnection: runtime.config.limits.maxRequestsPerConnection)
    }

    var now: Int64 { worker.loop.now }
    var limits: Limits { runtime.config.limits }

    func ready(_ events: UInt32) {
        if events & (EventLoop.readEvent | EventLoop.hangupEvent | EventLoop.errorEvent) != 0 { readable = true }
        // After a hang-up no further edge will come: read until EOF from then on.
        if events & (EventLoop.hangupEvent | EventLoop.errorEvent) != 0 { peerClosed = true }
        if events & EventLoop.writeEvent != 0 { writable = true }
        // TLS may need to read to write (any event retries writing) or, rarely, to write to
        // read (a handshake flight that did not fit): only then does a writable edge retry a
        // read. Otherwise every ACK's edge would cost a read that can only say EAGAIN.
        if transport.isLayered {
            writable = true
            if transport.readBlockedOnWrite { readable = true }
        }
        drive()
    }

    /// Makes all the progress that is possible now.
    func drive() {
        if writable && (output?.readableCount ?? 0) > 0 {
            guard flushOutput() else { return }
        }
        switch phase {
        case .idle, .head:
            readHead()
        case .proxy:
            proxyDrive()
        case .localBody:
            readLocalBody()
        case .localPending:
            break
        case .respond:
            if (output?.readableCount ?? 0) == 0 { finishExchange() }
        case .tunnel:
            tunnelDrive()
        case .linger:
            lingerDrive()
        case .closed:
            break
        }
    }

    // MARK: Reading heads

    private func readHead() {
        while phase == .idle || phase == .head {
            if let input, input.readableCount > 0 {
                let (consumed, event) = server.next(input.readableBytes, into: &head)
                switch event {
                case .head:
                    input.consume(consumed)
                    headComplete()
                    return
                case .error(let error):
                    refuse(error)
                    return
                case .paused:
                    return
                case .needInput, .body, .bodyEnd:
                    break
                }
            }
            guard readable else { break }
            if input == nil { input = worker.loop.buffers.take() }
            let maxHead = runtime.httpLimits.maxRequestLine + runtime.httpLimits.maxHeaderBytes + 64
            input!.reserve(4096, limit: maxHead + 4096)
            do {
                switch try input!.read(from: transport, max: 65536) {
                case .processed(0):
                    // The client closed: between requests that is normal, mid-head it gave up.
                    _ = server.inputEnded()
                    close()
                    return
                case .processed:
                    if phase == .idle {
                        phase = .head
                        deadline = now + limits.clientHeaderTimeout
                    }
                    if input!.lastReadWasShort && !peerClosed { readable = false }
                case .wouldBlock:
                    readable = false
                }
            } catch {
                close()
                return
            }
        }
        guard phase == .idle, let i = input else { return }
        if i.isEmpty {
            worker.loop.buffers.give(i)
            input = nil
        } else {
            // Part of a pipelined head arrived with the last request: from now on it is a
            // head being received, timed by the header timeout, not an idle connection.
            phase = .head
            deadline = now + limits.clientHeaderTimeout
        }
    }

    private func headComplete() {
        requestStart = now
        let latest = admin ? worker.adminRuntime : worker.runtime
        if latest !== runtime {
            runtime = latest
            server.configuration = ClientConnection.serverConfiguration(latest)
        }
        client.update(head: &head, peer: peer, trusted: runtime.config.edge.trustedProxies)
        if worker.draining { _ = server.drain() }
        assignRequestID()
        dispatch()
    }

    /// Keeps a valid incoming X-Request-Id, or makes one.
    private func assignRequestID() {
        requestID.removeAll(keepingCapacity: true)
        // A loop over the fields, not `head.first(_:)`: a method call on the stored head
        // copies the whole struct (each of its arrays retained and released).
        for f in head.fields where f.known == .xRequestId {
            let valid = head.bytes.withUnsafeBytes { b in
                RequestIDGenerator.isValid(UnsafeRawBufferPointer(rebasing: b[Int(f.valueStart)..<Int(f.valueEnd)]))
            }
            if valid {
                requestID.append(contentsOf: head.bytes[Int(f.valueStart)..<Int(f.valueEnd)])
                return
            }
            break  // only the first one counts
        }
        worker.requestIDs.next(into: &requestID)
    }

    /// Normalises the path, picks the route, applies policy, then forwards or answers.
    private func dispatch() {
        let pathResult: HTTPParseError? = head.bytes.withUnsafeBytes { b in
            do throws(HTTPParseError) {
                try PathNormalizer.normalize(
                    UnsafeRawBufferPointer(rebasing: b[Int(head.pathStart)..<Int(head.pathEnd)]),
                    into: &worker.pathScratch)
                if head.hasQuery {
                    try PathNormalizer.validateQuery(
                        UnsafeRawBufferPointer(rebasing: b[Int(head.queryStart)..<Int(head.queryEnd)]))
                }
                return nil
            } catch {
                return error
            }
        }
        if let pathResult {
            refuse(pathResult)
            return
        }
        if server.expectationFailed {
            sendError(417, "expectation_failed", "Only Expect: 100-continue is supported")
            return
        }
        if head.method == .connect || head.method == .trace {
            sendError(405, "method_not_allowed", "\(head.method.name) is not allowed")
            return
        }
        // Before CORS: a forwarded preflight is a question about the route, not one to answer.
        if forwardAuthIfAsked() { return }
        if let cors = runtime.cors, let field = head.first(.origin) {
            let origin = head.value(field)
            if head.method == .options, let method = head.value(named: "access-control-request-method") {
                sendLocal(
                    cors.preflight(
                        origin: origin, method: method,
                        requestHeaders: head.value(named: "access-control-request-headers")))
                return
            }
            corsHeaders = cors.responseHeaders(origin: origin)
        }
        if let handler = localHandlerForPath() {
            routeLabel = String(decoding: worker.pathScratch, as: UTF8.self)
            startLocal(handler)
            return
        }
        // The parser already canonicalised (and validated) the host: routing sees exactly
        // what the upstream will be told.
        let match = worker.pathScratch.withUnsafeBytes { path in
            head.canonicalHost.withUnsafeBytes { host in
                runtime.routes.match(path: path, host: host, method: head.method)
            }
        }
        switch match {
        case .notFound:
            sendError(404, "not_found", "No route matches this request")
        case .methodNotAllowed(let allow):
            sendError(
                405, "method_not_allowed", "Method not allowed on this route",
                extraHeaders: [("Allow", allow.joined(separator: ", "))])
        case .route(let r):
            route = r
            routeLabel = r.config.name
            if server.setBodyLimit(r.config.maxBodyBytes, contentLength: head.contentLength) != nil {
                sendError(413, "payload_too_large", "The request body is larger than this route accepts")
                return
            }
            switch authorize(r) {
            case .allow(let identity):
                startProxy(r, identity: identity)
            case .deny(let response):
                sendLocal(response)
            }
        }
    }

    // MARK: Finishing

    /// The exchange is over (response fully written). Next request, or close.
    func finishExchange() {
        logAccess()
        route = nil
        grant = nil
        corsHeaders = []
        routeLabel = "-"
        authFailure = nil
        localHandler = nil
        localBody.removeAll(keepingCapacity: false)
        exchange = ExchangeRecord()
        proxy.end()
        if worker.draining { _ = server.drain() }
        // Read before `responseEnded`, which moves the machine on.
        let clientClosing = !head.keepAlive && server.requestComplete
        guard server.responseEnded() == .readNext else {
            lingerEndsWhenQuiet = clientClosing
            closeGracefully()
            return
        }
        phase = .idle
        deadline = now + limits.idleTimeout
        if head.bytes.capacity > 8192 { head = RequestHead() }
        // A pipelined request may be waiting already.
        readHead()
    }

    /// On SIGTERM: connections between requests close now; others after their exchange.
    func drainIfIdle() {
        if server.drain() == .close || phase == .idle { close() }
    }

    // MARK: Output

    /// Appends bytes for the client; `flushOutput` writes them.
    func queue(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, phase != .closed else { return }
        if output == nil { output = worker.loop.buffers.take() }
        output!.append(bytes)
    }

    func queue(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { queue($0) }
    }

    func queueStatic(_ s: StaticString) {
        queue(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    func queueChunkHeader(_ count: Int) {
        withChunkHeader(count) { queue($0) }
    }

    var writeFailed = false
    var pendingOutput: Int { output?.readableCount ?? 0 }

    /// Returns false if the connection was closed.
    @discardableResult
    func flushOutput() -> Bool {
        guard let out = output else { return true }
        while out.readableCount > 0 && writable {
            do {
                switch try transport.write(out.readableBytes) {
                case .bytes(let n): out.consume(n)
                case .wantRead, .wantWrite, .closed: writable = false
                }
            } catch {
                writeFailed = true
                abort()
                return false
            }
        }
        if out.isEmpty {
            worker.loop.buffers.give(out)
            output = nil
            if phase == .proxy || phase == .tunnel { upstreamMayResume() }
        }
        return true
    }

    // MARK: Timeouts and closing

    func timedOut() {
        switch phase {
        case .idle, .head, .localBody:
            switch server.timerFired() {
            case .respond(.headerTimeout):
                sendError(408, "request_timeout", "The request head was not received in time", forceClose: true)
            case .respond:
                sendError(408, "request_timeout", "The request body was not received in time", forceClose: true)
            default:
                close()
            }
        case .linger, .closed:
            close()
        case .proxy:
            proxyTimedOut()
        case .localPending, .respond, .tunnel:
            abort()
        }
    }

    /// Closes after the output is written: shut the write side, then discard input briefly.
    func closeGracefully() {
        phase = .linger
        if pendingOutput > 0 {
            // Keep flushing; `lingerDrive` shuts down once empty.
            deadline = now + 5_000
            return
        }
        lingerDrive()
    }

    /// Lingering (discarding input until the client's FIN) keeps a client that is still
    /// sending (pipelined requests, an unread body) from getting a reset that could destroy
    /// the answer before it reads it. A client that asked to close, whose request was read
    /// whole and who sent nothing more, has nothing in flight: it is closed at once, as
    /// nginx's `lingering_close on` does, instead of waiting for its FIN over several events.
    private var mayCloseAtOnce: Bool {
        peerClosed || (lingerEndsWhenQuiet && (input?.readableCount ?? 0) == 0)
    }

    private func lingerDrive() {
        if pendingOutput > 0 { return }
        if !lingerShut {
            lingerShut = true
            _ = try? transport.shutdownWrite()
            deadline = now + 2_000
        }
        if input == nil { input = worker.loop.buffers.take() }
        let quiet = mayCloseAtOnce
        var discarded = 0
        while readable && discarded < 1 << 20 {
            input!.clear()
            do {
                switch try input!.read(from: transport, max: 16384) {
                case .processed(0):
                    close()
                    return
                case .processed(let n):
                    discarded += n
                case .wouldBlock:
                    readable = false
                }
            } catch {
                close()
                return
            }
        }
        if discarded >= 1 << 20 || (quiet && discarded == 0 && !readable) { close() }
    }

    var lingerShut = false
    /// The client asked to close and its request was read whole (`mayCloseAtOnce`).
    var lingerEndsWhenQuiet = false
    var tunnelClientDone = false
    var tunnelUpstreamDone = false
    var tunnelShutClient = false
    var localGeneration = 0

    /// Closes at once (errors, timeouts mid-response).
    func abort() {
        close()
    }

    func close() {
        guard phase != .closed else { return }
        if phase == .proxy || phase == .tunnel { proxyAbandon() }
        phase = .closed
        server.closed()
        deadline = 0
        worker.loop.deregister(fd)
        transport.close()
        if let i = input { worker.loop.buffers.give(i) }
        if let o = output { worker.loop.buffers.give(o) }
        input = nil
        output = nil
        worker.remove(self)
        (admin ? worker.context.adminLimiter : worker.limiter).release(limiterKey)
    }
}
