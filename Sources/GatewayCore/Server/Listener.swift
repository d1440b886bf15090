import EventLoop
import TLS

/// Accepts connections on one worker's SO_REUSEPORT socket.
final class Listener: Selectable {
    let fd: Int32
    unowned let worker: Worker
    /// The admin listener: its connections see only /healthz, /readyz and /metrics.
    let admin: Bool
    private var closed = false
    /// The budget this listener's connections count against.
    private var limiter: ConnectionLimiter { admin ? worker.context.adminLimiter : worker.limiter }

    init(fd: Int32, worker: Worker, admin: Bool = false) {
        self.fd = fd
        self.worker = worker
        self.admin = admin
    }

    func ready(_ events: UInt32) {
        // Bounded per wake-up so one busy listener cannot starve the loop's connections.
        for _ in 0..<64 {
            guard !closed else { return }
            let accepted: IOResult<(fd: Int32, peer: SocketAddress?)>
            do {
                accepted = try Socket.accept(fd)
            } catch {
                // EMFILE and friends: back off until the next readiness event.
                return
            }
            guard case .processed(let (cfd, peer)) = accepted else { return }
            // A trusted proxy carries many clients: it is not held to the per-client cap.
            let key = admin || !worker.runtime.config.edge.trustedProxies.contains(peer) ? peer : nil
            let proxyProtocol = !admin && worker.runtime.config.edge.proxyProtocol
            guard !worker.draining, limiter.admit(proxyProtocol ? nil : key) else {
                Syscall.close(cfd)
                continue
            }
            if proxyProtocol {
                ProxyHeaderReader.start(fd: cfd, peer: peer, listener: self)
                continue
            }
            open(cfd, peer: peer, limiterKey: key)
        }
    }

    /// Makes the client connection for an accepted socket that holds a limiter slot for
    /// `limiterKey` (the peer, or nil for a trusted proxy), and starts reading.
    func open(_ cfd: Int32, peer: SocketAddress?, limiterKey: SocketAddress?) {
        let transport: any Transport
        if !admin, let tls = worker.runtime.tls {
            // The handshake runs in the connection's first reads, timed by the header timeout.
            guard let t = try? TLSTransport(fd: cfd, context: tls, role: .server) else {
                limiter.release(limiterKey)
                Syscall.close(cfd)
                return
            }
            transport = t
        } else {
            transport = PlainTransport(fd: cfd)
        }
        let c = ClientConnection(transport: transport, peer: peer, worker: worker, admin: admin)
        c.limiterKey = limiterKey
        do {
            try worker.loop.register(cfd, c)
        } catch {
            limiter.release(limiterKey)
            transport.close()
            return
        }
        worker.add(c)
        c.deadline = worker.loop.now + worker.runtime.config.limits.clientHeaderTimeout
        c.readable = true
        c.drive()
    }

    func close() {
        guard !closed else { return }
        closed = true
        worker.loop.deregister(fd)
        Syscall.close(fd)
    }
}
