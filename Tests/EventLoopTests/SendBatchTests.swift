import CLinux
import Glibc
import Testing

@testable import EventLoop

/// `SendBatch` over non-blocking socket pairs: one `io_uring_enter` runs every queued send,
/// results come back per sender, and a withdrawn send never reaches any socket.
@Suite("Batched sends (io_uring)")
struct SendBatchTests {
    /// Records what it was told.
    final class Sender: BatchedSendCompletion {
        var results: [Int32?] = []
        var onCompletion: (() -> Void)?
        func batchedSendCompleted(_ result: Int32?) {
            results.append(result)
            onCompletion?()
        }
    }

    /// A non-blocking stream socket pair: (our end, the peer's).
    private func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
        return (fds[0], fds[1])
    }

    /// Whatever is waiting on `fd`, without blocking ("" when nothing is).
    private func drain(_ fd: Int32) -> String {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = Glibc.read(fd, &buf, buf.count)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func batch() throws -> SendBatch {
        try #require(SendBatch(entries: 8), "io_uring_setup refused on this machine")
    }

    @Test("queued sends run only at submit, each sender told its byte count, in order")
    func sendsAtSubmit() throws {
        let b = try batch()
        let pairs = try (0..<3).map { _ in try pair() }
        defer { for (a, c) in pairs { close(a); close(c) } }
        let senders = pairs.map { _ in Sender() }
        let texts = ["a", "bb", "ccc"]
        let stable = texts.map { t -> UnsafeMutableRawBufferPointer in
            let p = UnsafeMutableRawBufferPointer.allocate(byteCount: t.utf8.count, alignment: 1)
            p.copyBytes(from: Array(t.utf8))
            return p
        }
        defer { for p in stable { p.deallocate() } }
        for i in 0..<3 { #expect(b.add(fd: pairs[i].0, UnsafeRawBufferPointer(stable[i]), senders[i]) != nil) }
        #expect(drain(pairs[0].1) == "")  // nothing before submit
        b.submit()
        #expect(senders.map(\.results) == [[1], [2], [3]])
        #expect(pairs.map { drain($0.1) } == texts)
        #expect(b.isEmpty && !b.broken)
    }

    @Test("a send withdrawn before submit never runs, even on a descriptor number reused at once")
    func withdrawnSendNeverRuns() throws {
        let b = try batch()
        let (a, peerA) = try pair()
        let sender = Sender()
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 6, alignment: 1)
        defer { bytes.deallocate() }
        bytes.copyBytes(from: Array("secret".utf8))
        let ticket = try #require(b.add(fd: a, UnsafeRawBufferPointer(bytes), sender))
        #expect(b.withdraw(ticket) == .notRun)
        close(a)
        close(peerA)
        // The next socket gets the lowest free number: the one the withdrawn send named.
        let (c, peerC) = try pair()
        defer { close(c); close(peerC) }
        #expect(c == a || peerC == a)
        b.submit()
        #expect(sender.results.isEmpty)
        #expect(drain(peerC) == "" && drain(c) == "")
        #expect(b.withdraw(ticket) == .told)
    }

    @Test("a full socket buffer gives -EAGAIN at once instead of blocking; a closed peer gives -EPIPE")
    func wouldBlockAndBrokenPipe() throws {
        let b = try batch()
        let (a, peerA) = try pair()
        defer { close(a); close(peerA) }
        let chunk = [UInt8](repeating: 0x41, count: 65536)
        var filled = 0
        while filled < 64 << 20, Glibc.write(a, chunk, chunk.count) > 0 { filled += 1 }
        #expect(errno == EAGAIN)
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
        defer { bytes.deallocate() }
        bytes.copyBytes(from: Array("more".utf8))
        let full = Sender()
        #expect(b.add(fd: a, UnsafeRawBufferPointer(bytes), full) != nil)
        b.submit()
        #expect(full.results == [-EAGAIN])

        let (c, peerC) = try pair()
        defer { close(c) }
        close(peerC)
        let broken = Sender()
        #expect(b.add(fd: c, UnsafeRawBufferPointer(bytes), broken) != nil)
        b.submit()  // MSG_NOSIGNAL: no SIGPIPE kills the test process
        #expect(broken.results == [-EPIPE])
    }

    @Test("a send that ran, withdrawn before its sender is told, hands over its result")
    func withdrawWhileTelling() throws {
        let b = try batch()
        let (a, peerA) = try pair()
        let (c, peerC) = try pair()
        defer { close(a); close(peerA); close(c); close(peerC) }
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 5, alignment: 1)
        defer { bytes.deallocate() }
        bytes.copyBytes(from: Array("hello".utf8))
        let first = Sender()
        let second = Sender()
        #expect(b.add(fd: a, UnsafeRawBufferPointer(bytes), first) != nil)
        let secondTicket = try #require(b.add(fd: c, UnsafeRawBufferPointer(bytes), second))
        var handedOver: SendBatch.Withdrawal?
        first.onCompletion = { handedOver = b.withdraw(secondTicket) }
        b.submit()
        #expect(first.results == [5])
        #expect(handedOver == .ran(5))
        #expect(second.results.isEmpty)  // told through the withdrawal instead
        #expect(drain(peerC) == "hello")
    }

    @Test("the batch holds as many sends as its ring; beyond that the caller writes itself")
    func full() throws {
        let b = try batch()
        let (a, peerA) = try pair()
        defer { close(a); close(peerA) }
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 1, alignment: 1)
        defer { bytes.deallocate() }
        bytes.copyBytes(from: [0x78])
        let sender = Sender()
        var queued = 0
        while queued < 1000, b.add(fd: a, UnsafeRawBufferPointer(bytes), sender) != nil { queued += 1 }
        #expect(queued == 8)
        b.submit()
        #expect(sender.results == Array(repeating: 1, count: 8))
        #expect(drain(peerA) == String(repeating: "x", count: 8))
    }
}
