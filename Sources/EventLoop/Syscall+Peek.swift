import Glibc

extension Syscall {
    /// Copies up to `n` waiting bytes without consuming them (`recv` with MSG_PEEK): for a
    /// header that must be read exactly, leaving what follows it in the socket.
    public static func peek(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) throws(IOError) -> IOResult<Int> {
        try retrying("recv") { Glibc.recv(fd, p, n, Int32(MSG_PEEK | MSG_DONTWAIT)) }
    }
}
