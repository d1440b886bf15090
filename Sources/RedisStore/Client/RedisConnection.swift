import EventLoop
import Glibc
import TLS

/// One connection to Redis, driven by the store's own event loop: non-blocking connect,
/// for `rediss://` the TLS handshake, the Redis handshake (`AUTH`, `SELECT`), then pipelined
/// commands whose replies come back in order. Replies no command waits for (pub/sub
/// messages) go to `onPush`. Bytes move only through its `Transport` (plain or TLS).
///
/// Confined to the loop's thread. Every command has a deadline; when the oldest in-flight
/// command passes it, the connection is closed (a late reply cannot be matched any more)
/// and everything in flight fails. `onClose` is called exactly once, whatever the cause.
final class RedisConnection: Selectable {
    typealias Reply = (Result<RESPValue, RedisError>) -> Void

    enum State: Equatable {
        /// TCP connect, then (`rediss://`) the TLS handshake, then AUTH/SELECT.
        case connecting, securing, handshaking, ready, closed
    }

    private struct Pending {
        var deadline: Int64
        var reply: Reply?
    }

    private let loop: EventLoop
    private let fd: Int32
    private let transport: any Transport
    /// The same object as `transport` for `rediss://`: its handshake is driven first.
    private let tls: TLSTransport?
    /// A TLS read needs the socket writable (or a write needs it readable) before it can go on.
    private var readWaitsForWrite = false
    private var writeWaitsForRead = false
    private(set) var state: State = .connecting
    private var parser: RESPParser
    private let readBuffer = IOBuffer(capacity: 16384)
    private var output: [UInt8] = []
    private var outputSent = 0
    private var writable = false
    private var pending: [Pending] = []
    private var head = 0
    private var handshakeLeft = 0
    private let connectDeadline: Int64
    private var timer: TimerHandle?
    private var timerDeadline: Int64 = .max

    /// The handshake succeeded: commands may be sent.
    var onReady: (() -> Void)?
    /// The connection is gone (failed, timed out, closed by either side); called once.
    var onClose: ((RedisError) -> Void)?
    /// Values that arrive while no command waits (pub/sub messages and pongs).
    var onPush: ((RESPValue) -> Void)?

    /// Commands sent and not yet answered (the handshake included).
    var inFlight: Int { pending.count - head }

    /// Starts connecting to `address`; with `tls`, the TLS handshake follows, bounded by
    /// the same `connectTimeout`. `handshake` commands are sent next, and the connection is
    /// ready once each got a non-error reply.
    init(
        loop: EventLoop,
        address: SocketAddress,
        tls: RedisTLSContext?,
        handshake: [RedisCommand],
        connectTimeout: Int64,
        limits: RESPLimits
    ) throws(RedisError) {
        self.loop = loop
        self.parser = RESPParser(limits: limits)
        self.connectDeadline = loop.now + connectTimeout
        let fd: Int32
        do {
            fd = try Socket.connect(to: address).fd
        } catch {
            throw .unavailable(error.description)
        }
        self.fd = fd
        if let tls {
            let secure: TLSTransport
            do {
                secure = try TLSTransport(fd: fd, context: tls.context, role: .client(serverName: tls.serverName))
            } catch {
                Syscall.close(fd)
                throw .unavailable(error.description)
            }
            self.tls = secure
            transport = secure
        } else {
            self.tls = nil
            transport = PlainTransport(fd: fd)
        }
        do {
            try loop.register(fd, self)
        } catch {
            transport.close()
            throw .unavailable(error.description)
        }
        for command in handshake {
            handshakeLeft += 1
            send(command, deadline: connectDeadline) { [unowned self] result in
                guard case .success(let value) = result else { return }  // fail() ran already
                if let message = value.errorMessage {
                    fail(.unavailable("\(command.name) refused: \(message)"))
                    return
                }
                handshakeLeft -= 1
                if handshakeLeft == 0 { becomeReady() }
            }
        }
        arm(connectDeadline)
    }

    /// Queues a command. `reply` nil sends it without waiting for an answer (pub/sub:
    /// the answer arrives as a push).
    func send(_ command: RedisCommand, deadline: Int64, reply: Reply?) {
        guard state != .closed else {
            reply?(.failure(.unavailable("connection closed")))
            return
        }
        RESPEncoder.encode(command, into: &output)
        if let reply {
            pending.append(Pending(deadline: deadline, reply: reply))
            arm(deadline)
        }
        if state != .connecting && state != .securing { flush() }
    }

    /// Closes the connection; in-flight commands fail with `error`.
    func close(_ error: RedisError = .closed) {
        fail(error)
    }

    // MARK: - Selectable

    func ready(_ events: UInt32) {
        if state == .connecting {
            let err = Socket.pendingError(fd)
            guard err == 0 else {
                fail(.unavailable(IOError(errno: err, function: "connect").description))
                return
            }
            guard events & EventLoop.writeEvent != 0 else { return }
            if tls != nil {
                state = .securing
            } else {
                state = .handshaking
                if handshakeLeft == 0 { becomeReady() }
            }
        }
        if state == .securing {
            secure()
            return
        }
        let readable = events & (EventLoop.readEvent | EventLoop.hangupEvent | EventLoop.errorEvent) != 0
        if state != .closed, events & EventLoop.writeEvent != 0 || writeWaitsForRead && readable {
            writable = true
            writeWaitsForRead = false
            flush()
        }
        if state != .closed, readable || readWaitsForWrite && events & EventLoop.writeEvent != 0 {
            readWaitsForWrite = false
            readAvailable()
        }
    }

    /// Drives the TLS handshake; the readiness it waits for comes back through `ready`.
    /// Certificate and host name are verified by libssl before it reports completion.
    private func secure() {
        guard let tls else { return }
        do {
            switch try tls.handshake() {
            case .bytes:
                state = .handshaking
                // The handshake's last step went through: the socket takes writes again.
                writable = true
                if handshakeLeft == 0 { becomeReady() } else { flush() }
                // libssl may have read post-handshake records (TLS 1.3 tickets) already.
                if state != .closed { readAvailable() }
            case .wantRead, .wantWrite:
                return
            case .closed:
                fail(.unavailable("TLS handshake: connection closed by redis"))
            }
        } catch {
            fail(.unavailable(error.description))
        }
    }

    // MARK: - I/O

    private func becomeReady() {
        state = .ready
        flush()
        onReady?()
    }

    private func flush() {
        while writable, outputSent < output.count {
            let sent = outputSent
            let result = output.withUnsafeBytes { raw -> Result<TransportIO, TransportError> in
                Result { () throws(TransportError) in
                    try transport.write(UnsafeRawBufferPointer(rebasing: raw[sent...]))
                }
            }
            switch result {
            case .success(.bytes(let n)): outputSent += n
            case .success(.wantWrite), .success(.closed): writable = false
            case .success(.wantRead):
                writable = false
                writeWaitsForRead = true
            case .failure(let e):
                fail(.unavailable(e.description))
                return
            }
        }
        if outputSent == output.count {
            output.removeAll(keepingCapacity: output.capacity <= 1 << 20)
            outputSent = 0
        } else if outputSent >= 65536, outputSent * 2 >= output.count {
            output.removeSubrange(0..<outputSent)
            outputSent = 0
        }
    }

    private func readAvailable() {
        // Until the transport says it would block: TLS may hold decrypted bytes that the
        // (edge-triggered) socket will not signal again, so a short read proves nothing.
        while state != .closed {
            readBuffer.clear()
            let space = UnsafeMutableRawBufferPointer(start: readBuffer.base, count: readBuffer.capacity)
            do {
                switch try transport.read(into: space) {
                case .bytes(let n):
                    readBuffer.writerIndex = n
                case .wantRead:
                    return
                case .wantWrite:
                    readWaitsForWrite = true
                    return
                case .closed:
                    fail(.unavailable("connection closed by redis"))
                    return
                }
            } catch {
                fail(.unavailable(error.description))
                return
            }
            parser.append(readBuffer.readableBytes)
            do {
                while state != .closed, let value = try parser.next() { dispatch(value) }
            } catch {
                fail(.protocolViolation("\(error)"))
                return
            }
        }
    }

    private func dispatch(_ value: RESPValue) {
        if head < pending.count {
            let reply = pending[head].reply
            pending[head].reply = nil
            head += 1
            if head == pending.count {
                pending.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024, head * 2 >= pending.count {
                pending.removeSubrange(0..<head)
                head = 0
            }
            reply?(.success(value))
        } else if let onPush {
            onPush(value)
        } else {
            fail(.protocolViolation("reply without a command"))
        }
    }

    // MARK: - Deadlines

    /// Makes sure a timer fires no later than `deadline`.
    private func arm(_ deadline: Int64) {
        guard deadline < timerDeadline, state != .closed else { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = loop.schedule(after: max(0, deadline - loop.now)) { [weak self] in self?.timerFired() }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = .max
        let now = loop.now
        if state == .connecting || state == .securing || state == .handshaking {
            if now >= connectDeadline {
                fail(.unavailable("connect timed out"))
                return
            }
            arm(connectDeadline)
        }
        if head < pending.count {
            if pending[head].deadline <= now {
                fail(.timeout)
                return
            }
            arm(pending[head].deadline)
        }
    }

    private func fail(_ error: RedisError) {
        guard state != .closed else { return }
        state = .closed
        timer?.cancel()
        timer = nil
        loop.deregister(fd)
        transport.close()
        let waiting = pending[head...].compactMap(\.reply)
        pending.removeAll()
        head = 0
        output.removeAll()
        let onClose = self.onClose
        self.onClose = nil
        onReady = nil
        onPush = nil
        for reply in waiting { reply(.failure(error)) }
        onClose?(error)
    }
}
