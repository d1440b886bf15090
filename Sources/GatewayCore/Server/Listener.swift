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
            guard !worker.draining, limiter.admit(peer) else {
                Syscall.close(cfd)
                continue
            }
            let transport: any Transport
            if !admin, let tls = worker.runtime.tls {
                // The handshake runs in the connection's first reads, timed by the header timeout.
                guard let t = try? TLSTransport(fd: cfd, context: tls, role: .server) else {
                    limiter.release(peer)
                    Syscall.close(cfd)
                    continue
                }
                transport = t
            } else {
                transport = PlainTransport(fd: cfd)
            }
            let c = ClientConnection(transport: transport, peer: peer, worker: worker, admin: admin)
            do {
                try worker.loop.register(cfd, c)
            } catch {
                limiter.release(peer)
                transport.close()
                continue
            }
            worker.add(c)
            c.deadline = worker.loop.now + worker.runtime.config.limits.clientHeaderTimeout
            c.readable = true
            c.drive()
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        worker.loop.deregister(fd)
        Syscall.close(fd)
    }
}
