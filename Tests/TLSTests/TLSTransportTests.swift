import EventLoop
import Glibc
import TestSupport
import Testing

@testable import TLS

/// Two transports over a non-blocking socket pair, driven by hand (no event loop), the way an
/// embedded channel drives a pipeline: every call must return at once.
struct Pair {
    let server: TLSTransport
    let client: TLSTransport

    init(server: TLSContext, client: TLSContext, serverName: String = "localhost") throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
        self.server = try TLSTransport(fd: fds[0], context: server, role: .server)
        self.client = try TLSTransport(fd: fds[1], context: client, role: .client(serverName: serverName))
    }

    /// Runs both handshakes to the end (or the first error), in a bounded number of steps.
    func handshake() throws(TransportError) {
        for _ in 0..<200 {
            let c = try client.handshake()
            let s = try server.handshake()
            if c == .bytes(0) && s == .bytes(0) { return }
        }
        throw .handshake(reason: "did not finish in 200 steps")
    }

    static func send(_ text: String, from a: TLSTransport, to b: TLSTransport) throws -> String {
        let bytes = Array(text.utf8)
        var sent = 0
        var received: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<200 where received.count < bytes.count {
            if sent < bytes.count {
                if case .bytes(let n) = try bytes[sent...].withUnsafeBytes({ try a.write($0) }) { sent += n }
            }
            if case .bytes(let n) = try buf.withUnsafeMutableBytes({ try b.read(into: $0) }) {
                received += buf[..<n]
            }
        }
        return String(decoding: received, as: UTF8.self)
    }
}

@Suite("TLS transport")
struct TLSTransportTests {
    let pki: CertificateFixture

    init() throws { pki = try CertificateFixture() }

    func serverConfig(_ names: [String] = ["server"]) -> TLSServerConfiguration {
        TLSServerConfiguration(
            certificates: names.map {
                CertificateFiles(chainPath: pki.path($0 + ".pem"), keyPath: pki.path($0 + ".key"))
            }
        )
    }

    func clientConfig() -> TLSClientConfiguration {
        var c = TLSClientConfiguration()
        c.caPath = pki.path("ca.pem")
        c.alpn = ["h2", "http/1.1"]
        return c
    }

    @Test func handshakeThenBytesBothWaysWithALPN() throws {
        let pair = try Pair(server: try .server(serverConfig()), client: try .client(clientConfig()))
        try pair.handshake()
        #expect(pair.server.negotiatedProtocol == "http/1.1")
        #expect(pair.client.negotiatedProtocol == "http/1.1")
        #expect(pair.server.requestedServerName == "localhost")
        #expect(pair.client.protocolVersion == "TLSv1.3")
        #expect(try Pair.send("GET / HTTP/1.1\r\n\r\n", from: pair.client, to: pair.server) == "GET / HTTP/1.1\r\n\r\n")
        let big = String(repeating: "x", count: 100_000)
        #expect(try Pair.send(big, from: pair.server, to: pair.client) == big)
    }

    /// Read ahead: the records that arrived together come in with one read(2); the transport
    /// says the socket is drained only once libssl holds nothing more, so an edge-triggered
    /// reader stops without a read that can only say EAGAIN, and never while a record waits.
    @Test func readAheadAndDrainedAfterTheLastBufferedRecord() throws {
        let pair = try Pair(server: try .server(serverConfig()), client: try .client(clientConfig()))
        try pair.handshake()
        // libssl's post-handshake messages (TLS 1.3 session tickets) reach the client first.
        _ = try Pair.send("warm", from: pair.server, to: pair.client)
        for text in ["first", "second"] {
            let w = try Array(text.utf8).withUnsafeBytes { try pair.client.write($0) }
            #expect(w == .bytes(text.utf8.count))
        }
        var buf = [UInt8](repeating: 0, count: 4096)
        let first = try buf.withUnsafeMutableBytes { try pair.server.read(into: $0) }
        #expect(first == .bytes(5))
        #expect(!pair.server.readDrained(got: 5, asked: 4096), "the second record is buffered")
        let second = try buf.withUnsafeMutableBytes { try pair.server.read(into: $0) }
        #expect(second == .bytes(6))
        #expect(String(decoding: buf[..<6], as: UTF8.self) == "second")
        #expect(pair.server.readDrained(got: 6, asked: 4096), "one short read(2) brought both records")
        #expect(try buf.withUnsafeMutableBytes { try pair.server.read(into: $0) } == .wantRead)
        #expect(!pair.server.readBlockedOnWrite)
    }

    @Test func closeNotifyReadsAsClosed() throws {
        let pair = try Pair(server: try .server(serverConfig()), client: try .client(clientConfig()))
        try pair.handshake()
        #expect(try pair.client.shutdownWrite() == .bytes(0))
        var buf = [UInt8](repeating: 0, count: 64)
        var last: TransportIO = .wantRead
        for _ in 0..<50 where last == .wantRead {
            last = try buf.withUnsafeMutableBytes { try pair.server.read(into: $0) }
        }
        #expect(last == .closed)
    }

    @Test func wrongHostNameIsRefused() throws {
        let pair = try Pair(
            server: try .server(serverConfig()), client: try .client(clientConfig()), serverName: "evil.example")
        #expect(throws: TransportError.self) { try pair.handshake() }
        do { try pair.handshake() } catch { #expect("\(error)".contains("certificate")) }
    }

    @Test func untrustedCertificateIsRefusedByDefault() throws {
        let pair = try Pair(server: try .server(serverConfig(["rogue"])), client: try .client(clientConfig()))
        var reason = ""
        do { try pair.handshake() } catch { reason = "\(error)" }
        #expect(reason.contains("certificate"), "\(reason)")
    }

    @Test func systemStoreDoesNotTrustATestCA() throws {
        var c = clientConfig()
        c.caPath = nil
        let pair = try Pair(server: try .server(serverConfig()), client: try .client(c))
        #expect(throws: TransportError.self) { try pair.handshake() }
    }

    @Test func ipLiteralIsCheckedAgainstIPAddressSAN() throws {
        let good = try Pair(
            server: try .server(serverConfig()), client: try .client(clientConfig()), serverName: "127.0.0.1")
        try good.handshake()
        let bad = try Pair(
            server: try .server(serverConfig()), client: try .client(clientConfig()), serverName: "127.0.0.2")
        #expect(throws: TransportError.self) { try bad.handshake() }
    }

    @Test func minimumVersionIsEnforced() throws {
        var s = serverConfig()
        s.minimumVersion = .tls13
        let server = try TLSContext.server(s)
        let client = try TLSContext.client(clientConfig())
        // A client that stops at TLS 1.2 cannot reach a TLS 1.3-only listener.
        #expect(client.capMaximumVersion(at: .tls12))
        let pair = try Pair(server: server, client: client)
        #expect(throws: TransportError.self) { try pair.handshake() }
    }

    @Test func sniChoosesTheCertificateThatCoversTheName() throws {
        let server = try TLSContext.server(serverConfig(["server", "other"]))
        let pair = try Pair(server: server, client: try .client(clientConfig()), serverName: "api.other.test")
        try pair.handshake()
        #expect(pair.server.requestedServerName == "api.other.test")
        // The default certificate still answers names no certificate covers; the client refuses it.
        let unknown = try Pair(server: server, client: try .client(clientConfig()), serverName: "nobody.test")
        #expect(throws: TransportError.self) { try unknown.handshake() }
    }

    @Test func clientCertificateRequiredAndReported() throws {
        var s = serverConfig()
        s.clientCAPath = pki.path("ca.pem")
        let server = try TLSContext.server(s)
        let anonymous = try Pair(server: server, client: try .client(clientConfig()))
        var refused = false
        do {
            try anonymous.handshake()
            // TLS 1.3: the client learns of the refusal on its first read.
            _ = try Pair.send("x", from: anonymous.client, to: anonymous.server)
        } catch { refused = true }
        #expect(refused)

        var c = clientConfig()
        c.certificate = CertificateFiles(chainPath: pki.path("client.pem"), keyPath: pki.path("client.key"))
        let pair = try Pair(server: server, client: try .client(c))
        try pair.handshake()
        #expect(try Pair.send("hello", from: pair.client, to: pair.server) == "hello")
        let cert = try #require(pair.server.verifiedPeerCertificate)
        #expect(cert.subject == "CN=client-1,O=Example")
        #expect(cert.sha256.count == 64)
    }

    @Test func badFilesAreNamedAtContextCreation() throws {
        #expect(throws: TLSError.self) {
            _ = try TLSContext.server(
                TLSServerConfiguration(certificates: [CertificateFiles(chainPath: "/nonexistent.pem", keyPath: "/x")]))
        }
        let mismatch = TLSServerConfiguration(certificates: [
            CertificateFiles(chainPath: pki.path("server.pem"), keyPath: pki.path("other.key"))
        ])
        do {
            _ = try TLSContext.server(mismatch)
            Issue.record("a key of another certificate was accepted")
        } catch {
            #expect(error == .keyMismatch(chain: pki.path("server.pem"), key: pki.path("other.key")))
        }
    }

    @Test func clientResumesTheLastSession() throws {
        let server = try TLSContext.server(serverConfig())
        let client = try TLSContext.client(clientConfig())
        do {
            let first = try Pair(server: server, client: client)
            try first.handshake()
            #expect(!first.client.resumedSession)
            // TLS 1.3 tickets come after the handshake: the client takes them with its next read.
            #expect(try Pair.send("hello", from: first.server, to: first.client) == "hello")
            first.client.close()
            first.server.close()
        }  // freed without a TLS shutdown, as pooled upstream connections are: still resumable
        let second = try Pair(server: server, client: client)
        try second.handshake()
        #expect(second.client.resumedSession)
        #expect(try Pair.send("again", from: second.client, to: second.server) == "again")
    }
}
