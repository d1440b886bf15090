import CLinux
import Glibc

/// A failed system call: which one, and errno.
public struct IOError: Error, Equatable, Sendable, CustomStringConvertible {
    public var errno: Int32
    public var function: String

    public init(errno: Int32, function: String) {
        self.errno = errno
        self.function = function
    }

    public var description: String {
        "\(function): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// The outcome of a non-blocking call.
public enum IOResult<T: Sendable>: Sendable {
    case processed(T)
    case wouldBlock
}

/// The one place system calls are made: retries EINTR, turns EAGAIN into `.wouldBlock`,
/// and throws `IOError` for anything else.
public enum Syscall {
    @inline(__always)
    static func retrying(_ function: StaticString, _ body: () -> Int) throws(IOError) -> IOResult<Int> {
        while true {
            let r = body()
            if r >= 0 { return .processed(r) }
            let e = Glibc.errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
            throw IOError(errno: e, function: "\(function)")
        }
    }

    @inline(__always)
    public static func read(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) throws(IOError) -> IOResult<Int> {
        try retrying("read") { Glibc.read(fd, p, n) }
    }

    /// `send` with MSG_NOSIGNAL: a peer that went away is an error, never SIGPIPE.
    @inline(__always)
    public static func write(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) throws(IOError) -> IOResult<Int> {
        try retrying("send") { Glibc.send(fd, p, n, Int32(MSG_NOSIGNAL)) }
    }

    public static func writev(_ fd: Int32, _ iov: UnsafePointer<iovec>, _ count: Int32) throws(IOError) -> IOResult<Int>
    {
        try retrying("writev") { Glibc.writev(fd, iov, count) }
    }

    /// What a socket holds unread, without consuming it (`recv` with MSG_PEEK | MSG_DONTWAIT).
    public enum Pending: Equatable, Sendable {
        /// Nothing to read now: the peer sent nothing since the last read.
        case nothing
        /// At least one byte is waiting.
        case bytes
        /// The peer closed its side.
        case endOfStream
        /// The socket is in error (e.g. reset), with this errno.
        case failed(errno: Int32)
    }

    /// Looks at `fd` without reading from it or blocking: one `recv` of at most one byte.
    public static func pending(_ fd: Int32) -> Pending {
        var byte: UInt8 = 0
        do {
            let r = try retrying("recv") { Glibc.recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) }
            switch r {
            case .wouldBlock: return .nothing
            case .processed(0): return .endOfStream
            case .processed: return .bytes
            }
        } catch {
            return .failed(errno: error.errno)
        }
    }

    public static func close(_ fd: Int32) {
        // EINTR on close must not be retried on Linux: the descriptor is already gone.
        _ = Glibc.close(fd)
    }
}

extension Syscall {
    /// Non-secret randomness from the kernel (ids, seeds). Secrets come from OpenSSL.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = out.withUnsafeMutableBytes { getrandom($0.baseAddress! + filled, count - filled, 0) }
            if n > 0 { filled += n }
        }
        return out
    }
}
