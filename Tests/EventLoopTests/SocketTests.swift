import CLinux
import Dispatch
import Glibc
import Testing

@testable import EventLoop

@Suite("Socket addresses")
struct SocketAddressTests {
    @Test("IPv4 host:port")
    func ipv4() throws {
        let a = try #require(SocketAddress(parsing: "127.0.0.1:8080"))
        #expect(a.port == 8080)
        #expect(a.hostText == "127.0.0.1")
        #expect(a.description == "127.0.0.1:8080")
        #expect(a == SocketAddress(numericHost: "127.0.0.1", port: 8080))
        #expect(try #require(SocketAddress(parsing: "0.0.0.0:0")).port == 0)
        #expect(try #require(SocketAddress(parsing: "10.1.2.3:65535")).description == "10.1.2.3:65535")
    }

    @Test("IPv4 text is what inet_ntop prints, for every octet value in every position")
    func ipv4TextMatchesInetNtop() throws {
        for o in 0...255 {
            for position in 0..<4 {
                var octets: [UInt8] = [1, 20, 255, 0]
                octets[position] = UInt8(o)
                let text = octets.map(String.init).joined(separator: ".")
                let a = try #require(SocketAddress(numericHost: text, port: 1))
                var raw = in_addr()
                #expect(inet_pton(AF_INET, text, &raw) == 1)
                var buf = [CChar](repeating: 0, count: 32)
                #expect(inet_ntop(AF_INET, &raw, &buf, 32) != nil)
                #expect(a.hostText == String(cString: buf))
                #expect(a.hostText == text)
            }
        }
    }

    @Test("[IPv6]:port")
    func ipv6() throws {
        let a = try #require(SocketAddress(parsing: "[::1]:443"))
        #expect(a.port == 443)
        #expect(a.hostText == "::1")
        #expect(a.description == "[::1]:443")
        let b = try #require(SocketAddress(parsing: "[2001:db8:0:0:0:0:0:1]:80"))
        #expect(b.hostText == "2001:db8::1")
        #expect(b.description == "[2001:db8::1]:80")
        #expect(a != SocketAddress(parsing: "127.0.0.1:443"))
    }

    @Test("a bare :port means loopback")
    func barePort() {
        #expect(SocketAddress(parsing: ":9000") == SocketAddress(parsing: "127.0.0.1:9000"))
    }

    static let invalid = [
        "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http", "localhost:80",
        "example.com:80", "[::1]", "[::1]80", "[::1", "::1]:80", "256.1.1.1:80", "1.2.3:80", "[]:80", "[::1]:",
        "127.0.0.1:80 ", " 127.0.0.1:80", "[fe80::1%lo]:80x",
    ]

    @Test("refused forms", arguments: invalid)
    func refused(text: String) {
        #expect(SocketAddress(parsing: text) == nil)
    }

    @Test("numeric hosts only; resolve passes numeric hosts through")
    func numeric() throws {
        #expect(SocketAddress(numericHost: "localhost", port: 1) == nil)
        #expect(SocketAddress(numericHost: "::", port: 1)?.hostText == "::")
        #expect(try SocketAddress.resolve(host: "127.0.0.1", port: 81) == [SocketAddress(parsing: "127.0.0.1:81")!])
    }

    @Test("host keys ignore the port")
    func hostKey() throws {
        let a = try #require(SocketAddress(parsing: "10.0.0.1:1"))
        let b = try #require(SocketAddress(parsing: "10.0.0.1:2"))
        let c = try #require(SocketAddress(parsing: "10.0.0.2:1"))
        #expect(a.hostKey == b.hostKey)
        #expect(a.hostKey != c.hostKey)
        #expect(a != b)
    }
}

/// Accepts connections on the loop and reads what they send.
private final class Server: Selectable {
    let loop: EventLoop
    let listener: Int32
    let received: Recorder<String>
    var connections: [Int32: (buffer: IOBuffer, peer: SocketAddress?)] = [:]
    var acceptHandler: Acceptor!

    init(loop: EventLoop, listener: Int32, received: Recorder<String>) {
        self.loop = loop
        self.listener = listener
        self.received = received
    }

    func ready(_ events: UInt32) {
        // Edge-triggered: read until the socket has nothing more.
        for (fd, conn) in connections {
            while true {
                guard let r = try? conn.buffer.read(from: fd) else { break }
                guard case .processed(let n) = r, n > 0 else { break }
            }
            if !conn.buffer.isEmpty {
                received.add(String(decoding: conn.buffer.readableBytes, as: UTF8.self))
                conn.buffer.clear()
            }
        }
    }

    func acceptAll() {
        while true {
            guard let r = try? Socket.accept(listener), case .processed(let (fd, peer)) = r else { return }
            let flags = fcntl(fd, F_GETFL)
            received.add("accepted nonblocking=\(flags & O_NONBLOCK != 0) peer=\(peer?.hostText ?? "?")")
            connections[fd] = (IOBuffer(capacity: 64), peer)
            do {
                try loop.register(fd, self)
            } catch {
                received.add("register failed: \(error)")
            }
        }
    }

    func close() {
        for fd in connections.keys {
            loop.deregister(fd)
            Syscall.close(fd)
        }
        connections = [:]
        loop.deregister(listener)
        Syscall.close(listener)
    }
}

/// The listener's own handler (level-triggered input).
private final class Acceptor: Selectable {
    unowned let server: Server
    init(_ server: Server) { self.server = server }
    func ready(_ events: UInt32) { server.acceptAll() }
}

@Suite("Sockets on a loop")
struct SocketTests {
    @Test("listen on port 0, connect, accept non-blocking, and get a read event")
    func roundTrip() throws {
        let running = try RunningLoop()
        defer { running.shutDown() }
        let loop = running.loop
        let any = try #require(SocketAddress(parsing: "127.0.0.1:0"))
        let listener = try Socket.listen(on: any, reusePort: false)
        let port = Socket.localPort(listener)
        #expect(port > 0)

        let received = Recorder<String>()
        let server = LoopBox<Server?>(nil)
        loop.execute {
            let s = Server(loop: loop, listener: listener, received: received)
            s.acceptHandler = Acceptor(s)
            do {
                try loop.registerListener(listener, s.acceptHandler)
            } catch {
                received.add("registerListener failed: \(error)")
            }
            server.value = s
        }
        defer {
            let closed = DispatchSemaphore(value: 0)
            loop.execute {
                server.value?.close()
                server.value = nil
                closed.signal()
            }
            _ = closed.wait(timeout: .now() + 5)
        }

        let target = try #require(SocketAddress(parsing: "127.0.0.1:\(port)"))
        let (client, inProgress) = try Socket.connect(to: target)
        defer { Syscall.close(client) }
        if inProgress {
            var pfd = pollfd(fd: client, events: Int16(POLLOUT), revents: 0)
            #expect(poll(&pfd, 1, 5_000) == 1)
        }
        #expect(Socket.pendingError(client) == 0)
        #expect(fcntl(client, F_GETFL) & O_NONBLOCK != 0)

        #expect(received.wait(for: 1))
        #expect(received.values.first == "accepted nonblocking=true peer=127.0.0.1")

        let message = Array("ping".utf8)
        let sent = message.withUnsafeBytes { (b: UnsafeRawBufferPointer) -> Int? in
            guard case .processed(let n)? = try? Syscall.write(client, b.baseAddress!, b.count) else { return nil }
            return n
        }
        #expect(sent == 4)
        #expect(received.wait(for: 2))
        #expect(received.values.dropFirst().joined() == "ping")
    }

    @Test("binding a port in use fails with an IOError naming bind")
    func bindInUse() throws {
        let first = try Socket.listen(on: SocketAddress(parsing: "127.0.0.1:0")!, reusePort: false)
        defer { Syscall.close(first) }
        let taken = try #require(SocketAddress(parsing: "127.0.0.1:\(Socket.localPort(first))"))
        do {
            let fd = try Socket.listen(on: taken, reusePort: false)
            Syscall.close(fd)
            Issue.record("second bind succeeded")
        } catch {
            #expect(error.errno == EADDRINUSE)
            #expect(error.function.hasPrefix("bind"))
        }
    }

    @Test("accept on an idle listener would block")
    func acceptWouldBlock() throws {
        let fd = try Socket.listen(on: SocketAddress(parsing: "127.0.0.1:0")!, reusePort: false)
        defer { Syscall.close(fd) }
        guard case .wouldBlock = try Socket.accept(fd) else {
            Issue.record("accept did not report wouldBlock")
            return
        }
    }

    @Test("connecting to a closed port fails")
    func refused() throws {
        let fd = try Socket.listen(on: SocketAddress(parsing: "127.0.0.1:0")!, reusePort: false)
        let port = Socket.localPort(fd)
        Syscall.close(fd)
        let target = try #require(SocketAddress(parsing: "127.0.0.1:\(port)"))
        do {
            let (client, inProgress) = try Socket.connect(to: target)
            defer { Syscall.close(client) }
            if inProgress {
                var pfd = pollfd(fd: client, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pfd, 1, 5_000)
            }
            #expect(Socket.pendingError(client) == ECONNREFUSED)
        } catch {
            #expect(error.errno == ECONNREFUSED)
        }
    }
}

@Suite("Peeking at unread input")
struct PendingTests {
    /// A connected pair of stream sockets, both non-blocking only for the peek itself.
    private func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        let r = fds.withUnsafeMutableBufferPointer {
            socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, $0.baseAddress!)
        }
        try #require(r == 0)
        return (fds[0], fds[1])
    }

    @Test("nothing sent: nothing pending, without blocking")
    func nothing() throws {
        let (a, b) = try pair()
        defer {
            Syscall.close(a)
            Syscall.close(b)
        }
        #expect(Syscall.pending(a) == .nothing)
    }

    @Test("bytes sent are seen and left in place")
    func bytesStay() throws {
        let (a, b) = try pair()
        defer {
            Syscall.close(a)
            Syscall.close(b)
        }
        let sent = Array("stray".utf8)
        #expect(sent.withUnsafeBytes { Glibc.send(b, $0.baseAddress!, $0.count, 0) } == 5)
        #expect(Syscall.pending(a) == .bytes)
        #expect(Syscall.pending(a) == .bytes)
        var got = [UInt8](repeating: 0, count: 16)
        let n = got.withUnsafeMutableBytes { Glibc.recv(a, $0.baseAddress!, 16, Int32(MSG_DONTWAIT)) }
        #expect(n == 5)
        #expect(Array(got[0..<5]) == sent)
        #expect(Syscall.pending(a) == .nothing)
    }

    @Test("a closed peer is end of stream")
    func closedPeer() throws {
        let (a, b) = try pair()
        defer { Syscall.close(a) }
        Syscall.close(b)
        #expect(Syscall.pending(a) == .endOfStream)
    }

    @Test("a descriptor that is no socket is a failure, not a hang")
    func notASocket() throws {
        var p: [Int32] = [0, 0]
        try #require(pipe(&p) == 0)
        defer {
            Syscall.close(p[0])
            Syscall.close(p[1])
        }
        #expect(Syscall.pending(p[0]) == .failed(errno: ENOTSOCK))
    }
}
