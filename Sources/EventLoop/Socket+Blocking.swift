import CLinux
import Glibc

extension Socket {
    /// One short blocking exchange for background threads only (active health checks,
    /// never an event loop): connect, send `request`, read until the peer closes, `maxReply`
    /// bytes arrive, or `timeoutMillis` passes on any step. Nil when nothing could be read.
    public static func blockingExchange(
        to address: SocketAddress, request: [UInt8], timeoutMillis: Int, maxReply: Int = 512
    ) -> [UInt8]? {
        let fd = Glibc.socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var tv = timeval(tv_sec: timeoutMillis / 1000, tv_usec: (timeoutMillis % 1000) * 1000)
        // SO_SNDTIMEO also bounds a blocking connect on Linux.
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let connected = address.withSockAddr { sa, len in Glibc.connect(fd, sa, len) }
        guard connected == 0 else { return nil }
        let sent = request.withUnsafeBytes { b in Glibc.send(fd, b.baseAddress, b.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { return nil }
        var reply = [UInt8](repeating: 0, count: maxReply)
        var got = 0
        while got < maxReply {
            let n = reply.withUnsafeMutableBytes { b in Glibc.recv(fd, b.baseAddress! + got, maxReply - got, 0) }
            if n <= 0 { break }
            got += n
            // The status line is all a health check needs.
            if reply[..<got].contains(0x0A) { break }
        }
        return got > 0 ? Array(reply[..<got]) : nil
    }
}
