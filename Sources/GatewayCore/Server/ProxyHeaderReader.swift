import EventLoop
import Glibc

/// A connection on a `proxy_protocol` listener until its PROXY header is read: registered
/// on the loop in its own right, with its own timeout, then handed to the listener as a
/// client connection whose peer is the header's client. It peeks and consumes exactly the
/// header, so a TLS ClientHello or HTTP bytes behind it stay in the socket.
final class ProxyHeaderReader: Selectable {
    let fd: Int32
    private let tcpPeer: SocketAddress?
    private unowned let listener: Listener
    private var state = ProxyHeaderState()
    private var timer: TimerHandle?
    private var buffer: [UInt8]

    /// Takes over `fd`, already admitted by the limiter without a per-address slot.
    static func start(fd: Int32, peer: SocketAddress?, listener: Listener) {
        let worker = listener.worker
        let trusted = worker.runtime.config.edge.trustedProxies.contains(peer)
        let r = ProxyHeaderReader(fd: fd, peer: peer, listener: listener)
        guard case .wait = r.state.accepted(trustedPeer: trusted) else {
            r.reject(registered: false)
            return
        }
        do {
            try worker.loop.register(fd, r)
        } catch {
            r.reject(registered: false)
            return
        }
        r.timer = worker.loop.schedule(after: worker.runtime.config.edge.proxyProtocolTimeout) { [weak r] in
            guard let r else { return }
            r.apply(r.state.timedOut())
        }
        r.ready(EventLoop.readEvent)
    }

    private init(fd: Int32, peer: SocketAddress?, listener: Listener) {
        self.fd = fd
        self.tcpPeer = peer
        self.listener = listener
        self.buffer = [UInt8](repeating: 0, count: ProxyProtocolParser.maxLength)
    }

    func ready(_ events: UInt32) {
        guard !state.finished else { return }
        let n: Int
        do {
            switch try buffer.withUnsafeMutableBytes({ b throws(IOError) in
                try Syscall.peek(fd, b.baseAddress!, b.count)
            }) {
            case .wouldBlock: return
            case .processed(0):
                apply(state.endOfStream())
                return
            case .processed(let k): n = k
            }
        } catch {
            apply(state.endOfStream())
            return
        }
        apply(buffer.withUnsafeBytes { state.received(UnsafeRawBufferPointer(rebasing: $0[..<n])) })
    }

    private func apply(_ action: ProxyHeaderState.Action) {
        switch action {
        case .wait:
            break
        case .reject:
            reject(registered: true)
        case .accept(let header, let length):
            timer?.cancel()
            // Consume exactly the header: it is all in the socket already (it was peeked).
            let consumed = buffer.withUnsafeMutableBytes { b in
                (try? Syscall.read(fd, b.baseAddress!, length)) ?? .wouldBlock
            }
            guard case .processed(length) = consumed else {
                reject(registered: true)
                return
            }
            let worker = listener.worker
            worker.loop.deregister(fd)
            let client = header.source ?? tcpPeer
            let limiter = worker.limiter
            // The slot taken at accept had no address; the client's own cap applies now.
            limiter.release(nil)
            let key = worker.runtime.config.edge.trustedProxies.contains(client) ? nil : client
            guard !worker.draining, limiter.admit(key) else {
                Syscall.close(fd)
                return
            }
            listener.open(fd, peer: client, limiterKey: key)
        }
    }

    private func reject(registered: Bool) {
        timer?.cancel()
        let worker = listener.worker
        if registered { worker.loop.deregister(fd) }
        Syscall.close(fd)
        worker.limiter.release(nil)
        worker.context.edge.count(.proxyHeaderRejected)
    }
}
