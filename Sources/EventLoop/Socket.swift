import CLinux
import Glibc

/// Non-blocking TCP sockets: every descriptor made here is O_NONBLOCK and O_CLOEXEC.
public enum Socket {
    /// A listening socket. With `reusePort`, several loops bind the same address and the
    /// kernel spreads new connections over them (SO_REUSEPORT).
    public static func listen(on address: SocketAddress, reusePort: Bool, backlog: Int32 = 1024) throws(IOError)
        -> Int32
    {
        let fd = Glibc.socket(
            address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
            0)
        guard fd >= 0 else { throw IOError(errno: errno, function: "socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if reusePort {
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let rc = address.withSockAddr { Glibc.bind(fd, $0, $1) }
        if rc != 0 {
            let e = errno
            Syscall.close(fd)
            throw IOError(errno: e, function: "bind(\(address))")
        }
        if Glibc.listen(fd, backlog) != 0 {
            let e = errno
            Syscall.close(fd)
            throw IOError(errno: e, function: "listen")
        }
        return fd
    }

    /// Accepts one connection, already non-blocking, with TCP_NODELAY set.
    public static func accept(_ fd: Int32) throws(IOError) -> IOResult<(fd: Int32, peer: SocketAddress?)> {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let c = withUnsafeMutablePointer(to: &ss) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept4(fd, $0, &len, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
            if c >= 0 {
                setNoDelay(c)
                return .processed((c, SocketAddress(ss)))
            }
            let e = errno
            switch e {
            case EINTR, ECONNABORTED: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw IOError(errno: e, function: "accept4")
            }
        }
    }

    /// Starts a non-blocking connect. `inProgress` means: wait for writability, then read
    /// `pendingError`.
    public static func connect(to address: SocketAddress) throws(IOError) -> (fd: Int32, inProgress: Bool) {
        let fd = Glibc.socket(
            address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
            0)
        guard fd >= 0 else { throw IOError(errno: errno, function: "socket") }
        setNoDelay(fd)
        while true {
            let rc = address.withSockAddr { Glibc.connect(fd, $0, $1) }
            if rc == 0 { return (fd, false) }
            let e = errno
            if e == EINTR { continue }
            if e == EINPROGRESS { return (fd, true) }
            Syscall.close(fd)
            throw IOError(errno: e, function: "connect(\(address))")
        }
    }

    /// The result of a finished non-blocking connect (SO_ERROR): 0 on success.
    public static func pendingError(_ fd: Int32) -> Int32 {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 { return errno }
        return err
    }

    public static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// The local port a socket is bound to (for listeners bound to port 0).
    public static func localPort(_ fd: Int32) -> Int {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &ss) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard rc == 0, let addr = SocketAddress(ss) else { return 0 }
        return addr.port
    }

    /// Half-closes the write side (used to pass a client's EOF on in a tunnel).
    public static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }
}
