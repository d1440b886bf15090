import Glibc

/// What one transport call achieved. TLS can need the opposite direction to make progress
/// (a write that must first read a handshake message), so "would block" says which
/// readiness to wait for.
public enum TransportIO: Equatable, Sendable {
    /// Bytes moved (read or written); more than zero.
    case bytes(Int)
    /// Nothing can move until the socket is readable.
    case wantRead
    /// Nothing can move until the socket is writable.
    case wantWrite
    /// The peer closed its sending side cleanly (reads only).
    case closed
}

/// Why a transport failed. The connection is unusable after any of these.
public enum TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed.
    case io(IOError)
    /// The TLS handshake failed: certificate verification, protocol version, no shared cipher…
    case handshake(reason: String)
    /// A TLS record or alert after the handshake was invalid.
    case protocolViolation(reason: String)

    public var description: String {
        switch self {
        case .io(let e): return e.description
        case .handshake(let reason): return "TLS handshake failed: \(reason)"
        case .protocolViolation(let reason): return "TLS error: \(reason)"
        }
    }
}

/// The only thing that touches a connected socket, as a SwiftNIO channel is: plain and TLS
/// transports have the same calls, so the HTTP state machines above them never know which
/// one carries their bytes. Non-blocking: every call returns at once.
public protocol Transport: AnyObject {
    var fd: Int32 { get }
    /// Reads into `buffer` (not empty).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> TransportIO
    /// Writes a prefix of `bytes` (not empty).
    func write(_ bytes: UnsafeRawBufferPointer) throws(TransportError) -> TransportIO
    /// Ends the sending side (TLS: close_notify first). `.bytes(0)` once done.
    func shutdownWrite() throws(TransportError) -> TransportIO
    /// Releases the socket; no call may follow.
    func close()
    /// A layered transport (TLS) keeps bytes of its own and may need the opposite direction
    /// to make progress: a short read does not mean the socket is drained, and any readiness
    /// event may unblock either direction.
    var isLayered: Bool { get }
    /// Whether the peer sent anything (or closed) since the last read, without blocking. A
    /// plain socket is peeked; TLS first consumes what is not application data (TLS 1.3
    /// session tickets arrive after the handshake), so only real bytes or a close count.
    func pendingInput() -> Syscall.Pending
    /// After a read that returned `got` of `asked` bytes: whether the socket is known to be
    /// drained, so that an edge-triggered reader may wait for the next event instead of
    /// reading once more only to hear EAGAIN. False when unsure.
    func readDrained(got: Int, asked: Int) -> Bool
    /// The last read could not go on until the socket is writable (TLS: a handshake message
    /// that did not fit): only then does a writable event call for another read.
    var readBlockedOnWrite: Bool { get }
    /// From a turn-end handler: queues a write of `bytes` into `loop`'s batch of sends (see
    /// `EventLoop.batchSend`). Nil when this transport or the loop does not batch (TLS
    /// writes records through libssl): then `write` as usual.
    func queueBatchedWrite(_ bytes: UnsafeRawBufferPointer, on loop: EventLoop, completion: BatchedSendCompletion)
        -> BatchedSendTicket?
}

extension Transport {
    public func queueBatchedWrite(
        _ bytes: UnsafeRawBufferPointer, on loop: EventLoop, completion: BatchedSendCompletion
    ) -> BatchedSendTicket? {
        nil
    }
}

/// A plain TCP (or Unix) socket.
public final class PlainTransport: Transport {
    public let fd: Int32
    private var closed = false

    public init(fd: Int32) {
        self.fd = fd
    }

    public var isLayered: Bool { false }

    public func pendingInput() -> Syscall.Pending { Syscall.pending(fd) }

    /// A short read: the kernel had no more.
    @inline(__always)
    public func readDrained(got: Int, asked: Int) -> Bool { got < asked }

    public var readBlockedOnWrite: Bool { false }

    @inline(__always)
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> TransportIO {
        do {
            switch try Syscall.read(fd, buffer.baseAddress!, buffer.count) {
            case .processed(0): return .closed
            case .processed(let n): return .bytes(n)
            case .wouldBlock: return .wantRead
            }
        } catch {
            throw .io(error)
        }
    }

    @inline(__always)
    public func write(_ bytes: UnsafeRawBufferPointer) throws(TransportError) -> TransportIO {
        do {
            switch try Syscall.write(fd, bytes.baseAddress!, bytes.count) {
            case .processed(let n): return n > 0 ? .bytes(n) : .wantWrite
            case .wouldBlock: return .wantWrite
            }
        } catch {
            throw .io(error)
        }
    }

    public func queueBatchedWrite(
        _ bytes: UnsafeRawBufferPointer, on loop: EventLoop, completion: BatchedSendCompletion
    ) -> BatchedSendTicket? {
        closed ? nil : loop.batchSend(fd, bytes, completion)
    }

    public func shutdownWrite() throws(TransportError) -> TransportIO {
        Socket.shutdownWrite(fd)
        return .bytes(0)
    }

    public func close() {
        guard !closed else { return }
        closed = true
        Syscall.close(fd)
    }
}
