import CLinux
import Glibc
import Testing

@testable import EventLoop

/// A connected, non-blocking Unix stream socket pair, closed by `close()`.
struct SocketPair {
    let a: Int32
    let b: Int32

    init() {
        var fds: [Int32] = [-1, -1]
        let rc = socketpair(
            AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds
        )
        precondition(rc == 0, "socketpair failed")
        a = fds[0]
        b = fds[1]
    }

    func send(_ text: String, from fd: Int32) {
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        precondition(n == bytes.count)
    }

    func close() {
        Syscall.close(a)
        Syscall.close(b)
    }
}

private func readable(_ b: IOBuffer) -> String { String(decoding: b.readableBytes, as: UTF8.self) }

private func processed(_ r: IOResult<Int>) -> Int? {
    if case .processed(let n) = r { return n }
    return nil
}

@Suite("IOBuffer")
struct IOBufferTests {
    @Test("append and consume; consuming everything rewinds the indices")
    func appendConsume() {
        let b = IOBuffer(capacity: 8)
        #expect(b.isEmpty)
        b.append(Array("hello".utf8))
        #expect(b.readableCount == 5)
        #expect(b.writableCount == 3)
        #expect(readable(b) == "hello")
        b.consume(2)
        #expect(readable(b) == "llo")
        #expect(b.readerIndex == 2)
        b.consume(3)
        #expect(b.isEmpty)
        #expect(b.readerIndex == 0 && b.writerIndex == 0)
        b.append([])
        #expect(b.isEmpty)
    }

    @Test("append grows the buffer and keeps the bytes")
    func grow() {
        let b = IOBuffer(capacity: 4)
        b.append(Array("0123456789".utf8))
        #expect(readable(b) == "0123456789")
        #expect(b.capacity >= 10)
        b.consume(9)
        b.append(Array("abc".utf8))
        #expect(readable(b) == "9abc")
    }

    @Test("reserve moves unread bytes to the front before growing")
    func reserveCompacts() {
        let b = IOBuffer(capacity: 8)
        b.append(Array("abcdefgh".utf8))
        b.consume(6)
        let base = b.base
        #expect(b.reserve(4))
        #expect(b.base == base)  // compacted, not reallocated
        #expect(b.capacity == 8)
        #expect(b.readerIndex == 0)
        #expect(readable(b) == "gh")
        #expect(b.writableCount == 6)
    }

    @Test("reserve never grows beyond the limit")
    func reserveLimit() {
        let b = IOBuffer(capacity: 8)
        b.append(Array("abcdefgh".utf8))
        #expect(!b.reserve(1, limit: 8))
        #expect(b.capacity == 8)
        #expect(b.reserve(4, limit: 12))
        #expect(b.capacity == 12)  // doubled, but clamped to the limit
        #expect(readable(b) == "abcdefgh")
        #expect(!b.reserve(5, limit: 12))
        #expect(b.reserve(100))
        #expect(b.capacity >= 108)
    }

    @Test("read from a socket: short reads, full reads, would-block and end of stream")
    func readFromSocket() throws {
        let pair = SocketPair()
        defer { pair.close() }
        let b = IOBuffer(capacity: 64)
        // Nothing there yet.
        guard case .wouldBlock = try b.read(from: pair.b) else {
            Issue.record("expected wouldBlock")
            return
        }
        pair.send("hello", from: pair.a)
        #expect(processed(try b.read(from: pair.b)) == 5)
        #expect(b.lastReadWasShort)
        #expect(readable(b) == "hello")

        // Exactly as much as `max`: not short, there may be more.
        pair.send("0123456789", from: pair.a)
        #expect(processed(try b.read(from: pair.b, max: 4)) == 4)
        #expect(!b.lastReadWasShort)
        #expect(processed(try b.read(from: pair.b, max: 100)) == 6)
        #expect(b.lastReadWasShort)
        #expect(readable(b) == "hello0123456789")

        // End of stream: 0 bytes.
        Socket.shutdownWrite(pair.a)
        #expect(processed(try b.read(from: pair.b)) == 0)
    }

    @Test("a read into a full buffer at its limit reads nothing")
    func readAtLimit() throws {
        let pair = SocketPair()
        defer { pair.close() }
        let b = IOBuffer(capacity: 4)
        pair.send("abcdefgh", from: pair.a)
        #expect(processed(try b.read(from: pair.b, limit: 4)) == 4)
        #expect(!b.lastReadWasShort)
        #expect(processed(try b.read(from: pair.b, limit: 4)) == -1)
        #expect(readable(b) == "abcd")
        // A full buffer grows by a 4 KiB step when the limit leaves room for it.
        #expect(processed(try b.read(from: pair.b, limit: 64)) == -1)
        #expect(processed(try b.read(from: pair.b, limit: 8192)) == 4)
        #expect(readable(b) == "abcdefgh")
    }

    @Test("a read on a closed descriptor throws")
    func readError() {
        let b = IOBuffer(capacity: 8)
        #expect(throws: IOError.self) { _ = try b.read(from: -1) }
    }

    @Test("buffer pool reuses standard buffers, drops grown ones")
    func pool() {
        let pool = BufferPool(bufferSize: 16, maxPooled: 1)
        let a = pool.take()
        a.append(Array("xyz".utf8))
        pool.give(a)
        let again = pool.take()
        #expect(again === a)
        #expect(again.isEmpty)
        again.append([UInt8](repeating: 0, count: 40))
        pool.give(again)
        #expect(pool.take() !== a)
    }
}
