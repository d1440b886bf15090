import CLinux
import Glibc
import Testing

@testable import EventLoop

@Suite("Plain transport")
struct PlainTransportTests {
    @Test func bytesWouldBlockAndClose() throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
        let a = PlainTransport(fd: fds[0])
        let b = PlainTransport(fd: fds[1])
        defer {
            a.close()
            b.close()
        }
        var buf = [UInt8](repeating: 0, count: 16)
        #expect(try buf.withUnsafeMutableBytes { try b.read(into: $0) } == .wantRead)
        #expect(try Array("hello".utf8).withUnsafeBytes { try a.write($0) } == .bytes(5))
        #expect(try buf.withUnsafeMutableBytes { try b.read(into: $0) } == .bytes(5))
        #expect(Array(buf[..<5]) == Array("hello".utf8))
        #expect(try a.shutdownWrite() == .bytes(0))
        #expect(try buf.withUnsafeMutableBytes { try b.read(into: $0) } == .closed)
    }

    @Test func writeToAClosedPeerIsAnError() throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
        let a = PlainTransport(fd: fds[0])
        PlainTransport(fd: fds[1]).close()
        defer { a.close() }
        #expect(throws: TransportError.self) { _ = try Array("x".utf8).withUnsafeBytes { try a.write($0) } }
    }
}
