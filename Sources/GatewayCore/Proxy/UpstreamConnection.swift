import EventLoop
import Glibc
import TLS

/// What an upstream connection reports to the exchange using it.
protocol UpstreamOwner: AnyObject {
    func upstreamConnected(_ upstream: UpstreamConnection)
    func upstreamReadable(_ upstream: UpstreamConnection)
    func upstreamWritable(_ upstream: UpstreamConnection)
    func upstreamFailed(_ upstream: UpstreamConnection, _ failure: UpstreamFailure)
}

enum UpstreamFailure: Error, Equatable {
    case connectFailed(errno: Int32)
    case connectTimedOut
    case io(errno: Int32)
    /// The TLS handshake with an https upstream failed (verification, version, …).
    case tls(reason: String)

    init(_ error: TransportError) {
        switch error {
        case .io(let e): self = .io(errno: e.errno)
        case .handshake(let reason), .protocolViolation(let reason): self = .tls(reason: reason)
        }
    }
}

/// One TCP connection to an upstream, loop-confined. While it serves an exchange its
/// events go to `owner`; idle in the pool, any event means the upstream closed it or sent
/// something unasked, and it is dropped.
final class UpstreamConnection: Selectable, TurnEndHandler, BatchedSendCompletion {
    /// The only way to the upstream's socket: plain TCP or TLS.
    let transport: any Transport
    var fd: Int32 { transport.fd }
    let target: UpstreamURL
    /// `unowned(unsafe)`: the worker owns its loop and everything on it and lives as long as
    /// the process (`GatewayServer` holds it), so the checked form's atomic reference count
    /// on every access would buy nothing.
    unowned(unsafe) let worker: Worker
    private(set) var connecting: Bool
    var readable = false
    var writable = false
    private(set) var closed = false
    /// Has completed at least one exchange: a failure before any answer byte may be the
    /// upstream having closed it while idle, so the request can be retried once.
    var reused = false
    weak var owner: UpstreamOwner?
    var input: IOBuffer?
    private var output: IOBuffer?
    /// Pool bookkeeping.
    var idleDeadline: Int64 = 0
    /// A flush is due at the end of the loop's turn (`flushAtTurnEnd`).
    private var flushDue = false
    /// `output` is queued in the loop's batch of sends (`turnEnded`): until the result
    /// comes, its bytes must not change and no other write may start.
    private var batchedSend: BatchedSendTicket?

    init(transport: any Transport, target: UpstreamURL, worker: Worker, connecting: Bool) {
        self.transport = transport
        self.target = target
        self.worker = worker
        self.connecting = connecting
        self.writable = !connecting
    }

    static func connect(to target: UpstreamURL, worker: Worker) throws(UpstreamFailure) -> UpstreamConnection {
        let r: (fd: Int32, inProgress: Bool)
        do {
            r = try Socket.connect(to: target.address)
        } catch {
            throw .connectFailed(errno: error.errno)
        }
        let transport: any Transport
        if let tls = target.tls {
            // The handshake starts with the first write once the TCP connect completes.
            guard let context = worker.runtime.upstreamTLS[tls],
                let t = try? TLSTransport(fd: r.fd, context: context, role: .client(serverName: tls.serverName))
            else {
                Syscall.close(r.fd)
                throw .tls(reason: "no TLS context for \(target)")
            }
            transport = t
        } else {
            transport = PlainTransport(fd: r.fd)
        }
        let c = UpstreamConnection(transport: transport, target: target, worker: worker, connecting: r.inProgress)
        do {
            try worker.loop.register(r.fd, c)
        } catch {
            transport.close()
            throw .connectFailed(errno: error.errno)
        }
        return c
    }

    var pendingOutput: Int { output?.readableCount ?? 0 }

    /// A hang-up was reported: no later edge will come, so reads go on until EOF.
    private var hangupSeen = false

    func ready(_ events: UInt32) {
        if events & (EventLoop.readEvent | EventLoop.hangupEvent | EventLoop.errorEvent) != 0 { readable = true }
        if events & (EventLoop.hangupEvent | EventLoop.errorEvent) != 0 { hangupSeen = true }
        if events & EventLoop.writeEvent != 0 { writable = true }
        // TLS may need to write to read (handshake) or read to write: any event retries both.
        if transport.isLayered && !connecting {
            readable = true
            writable = true
        }
        if connecting {
            guard events & (EventLoop.writeEvent | EventLoop.errorEvent | EventLoop.hangupEvent) != 0 else { return }
            connecting = false
            let err = Socket.pendingError(fd)
            guard err == 0 else {
                fail(.connectFailed(errno: err))
                return
            }
            writable = true
            owner?.upstreamConnected(self)
            if closed { return }
        }
        guard let owner else {
            // TLS 1.3 session tickets may arrive after the answer: libssl takes them, and an
            // idle connection that got nothing else stays pooled.
            if transport.isLayered, UpstreamReuse.mayHandOff(transport.pendingInput()) { return }
            // Idle in the pool: the upstream closed it (or misbehaved). Forget it.
            worker.upstreamPool.remove(self)
            close()
            return
        }
        if writable && pendingOutput > 0 {
            do {
                try flush()
            } catch {
                fail(error)
                return
            }
            if pendingOutput == 0 { owner.upstreamWritable(self) }
        }
        if closed { return }
        if readable { owner.upstreamReadable(self) }
    }

    private func fail(_ failure: UpstreamFailure) {
        let o = owner
        owner = nil
        if let o {
            o.upstreamFailed(self, failure)
        } else {
            worker.upstreamPool.remove(self)
        }
        close()
    }

    /// Appends bytes for the upstream; `flush` writes them (once the connect finished).
    func queue(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        withdrawBatchedSend()
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

    func flush() throws(UpstreamFailure) {
        guard !connecting, let out = output else { return }
        withdrawBatchedSend()
        while out.readableCount > 0 && writable {
            switch try write(out.readableBytes) {
            case .processed(let n): out.consume(n)
            case .wouldBlock: writable = false
            }
        }
        if out.isEmpty {
            worker.loop.buffers.give(out)
            output = nil
        }
    }

    /// Flushes once the loop has handled this turn's other events.
    func flushAtTurnEnd() {
        guard !flushDue else { return }
        flushDue = true
        worker.loop.atTurnEnd(self)
    }

    func turnEnded() {
        flushDue = false
        guard !closed, owner != nil, writable, !connecting, batchedSend == nil, let out = output, out.readableCount > 0
        else { return }
        // Into the loop's batch: this turn's upstream sends then go out in one system call.
        if let ticket = transport.queueBatchedWrite(out.readableBytes, on: worker.loop, completion: self) {
            batchedSend = ticket
            return
        }
        do {
            try flush()
        } catch {
            fail(error)
        }
    }

    func batchedSendCompleted(_ result: Int32?) {
        batchedSend = nil
        guard !closed, owner != nil else { return }
        if case .failed(let errno) = take(result) {
            fail(.io(errno: errno))
            return
        }
        // The rest of a short send, or all of it when the batch could not take it.
        do {
            try flush()
        } catch {
            fail(error)
        }
    }

    private enum SendOutcome {
        case done
        case failed(errno: Int32)
    }

    /// Applies a batched send's result to `output`.
    private func take(_ result: Int32?) -> SendOutcome {
        guard let r = result, let out = output else { return .done }
        if r > 0 {
            out.consume(Int(r))
        } else if r == -EAGAIN || r == -EWOULDBLOCK || r == 0 {
            writable = false
        } else {
            return .failed(errno: -r)
        }
        return .done
    }

    /// Takes back a batched send whose result is not told yet: unsent bytes stay in
    /// `output`; if it ran, its result is applied now (a failure shows again on the next write).
    private func withdrawBatchedSend() {
        guard let ticket = batchedSend else { return }
        batchedSend = nil
        if let ran = worker.loop.withdrawBatchedSend(ticket) { _ = take(ran) }
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws(UpstreamFailure) -> IOResult<Int> {
        do {
            switch try transport.write(bytes) {
            case .bytes(let n): return .processed(n)
            case .wantRead, .wantWrite, .closed: return .wouldBlock
            }
        } catch {
            throw UpstreamFailure(error)
        }
    }

    /// Ends the sending side (a tunnel's client half-closed).
    func shutdownWrite() {
        _ = try? transport.shutdownWrite()
    }

    /// Whether the upstream sent anything (or closed) since the last read: see `Transport`.
    func pendingInput() -> Syscall.Pending { transport.pendingInput() }

    /// Reads what is available into `input`. Returns false at end of stream.
    func read() throws(UpstreamFailure) -> IOResult<Int> {
        if input == nil { input = worker.loop.buffers.take() }
        do {
            let r = try input!.read(from: transport, max: 65536)
            switch r {
            case .wouldBlock: readable = false
            case .processed(let n): if n > 0 && input!.lastReadWasShort && !hangupSeen { readable = false }
            }
            return r
        } catch {
            throw UpstreamFailure(error)
        }
    }

    /// Gives buffers back between exchanges: an idle pooled connection holds none.
    func releaseBuffers() {
        if let i = input, i.isEmpty {
            worker.loop.buffers.give(i)
            input = nil
        }
        if let o = output, o.isEmpty {
            worker.loop.buffers.give(o)
            output = nil
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        owner = nil
        withdrawBatchedSend()  // before the descriptor number can be reused
        worker.loop.deregister(fd)
        transport.close()
        if let i = input { worker.loop.buffers.give(i) }
        if let o = output { worker.loop.buffers.give(o) }
        input = nil
        output = nil
    }
}
