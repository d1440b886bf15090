import EventLoop
import Glibc
import Synchronization
import TestSupport
import Testing
import TokenStore

@testable import RedisStore

/// `rediss://` against a real TLS-only `redis-server` (`--port 0 --tls-port N`) that asks
/// for client certificates (`--tls-auth-clients yes`).
@Suite("Redis over TLS")
struct RedisTLSTests {
    /// A PKI and a TLS server whose clients must present a certificate signed by its CA.
    static func server(_ pki: CertificateFixture, authClients: Bool = true) async throws -> RedisServer {
        try await RedisServer.start(
            tls: .init(
                certFile: pki.path("server.pem"), keyFile: pki.path("server.key"), caFile: pki.path("ca.pem"),
                authClients: authClients))
    }

    static func trusted(_ pki: CertificateFixture, serverName: String? = nil) -> RedisTLSSettings {
        RedisTLSSettings(
            caFile: pki.path("ca.pem"), certFile: pki.path("client.pem"), keyFile: pki.path("client.key"),
            serverName: serverName)
    }

    /// What the client logs (never tokens or the password).
    final class LogLines: Sendable {
        private let lines = Mutex<[String]>([])
        var logger: StoreLogger { { [self] _, message in lines.withLock { $0.append(message) } } }
        var all: [String] { lines.withLock { $0 } }
    }

    /// Options that give up quickly, for the refusals; their log goes to `log`.
    static func quick(_ url: String, _ tls: RedisTLSSettings?, log: LogLines = LogLines()) throws -> RedisOptions {
        try RedisOptions(
            url: url, tls: tls, connectTimeout: 500, commandTimeout: 1_000, reconnectBaseDelay: 100,
            reconnectMaxDelay: 200, logger: log.logger)
    }

    /// Why the first connection attempt failed, as the client logged it (bounded wait).
    static func refusal(_ log: LogLines) async -> String {
        _ = await eventually(seconds: 10) { log.all.contains { $0.contains("cannot connect") } }
        return log.all.first { $0.contains("cannot connect") } ?? "no refusal logged: \(log.all)"
    }

    @Test func commandsPipelineAndLargeValuesCrossTheTLSConnection() async throws {
        let pki = try CertificateFixture()
        let server = try await Self.server(pki)
        defer { server.stop() }
        let raw = try await RawRedis.open(try RedisOptions(url: server.url, tls: Self.trusted(pki)))
        defer { raw.close() }
        let results = await withTaskGroup(of: Int64?.self) { group in
            for _ in 0..<300 { group.addTask { try? await raw.send("INCRBY", "counter", 1).get().int64 } }
            var out: [Int64?] = []
            for await r in group { out.append(r) }
            return out
        }
        #expect(Set(results.compactMap { $0 }) == Set(1...300))
        // 2 MiB each way: many TLS records, partial writes, and reads that libssl buffers.
        let big = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 131) }
        #expect(try await raw.value("SET", "big", big) == .simpleString("OK"))
        #expect(try await raw.value("GET", "big") == .bulkString(big))
    }

    @Test func theTokenStoreWorksOverRediss() async throws {
        let pki = try CertificateFixture()
        let server = try await Self.server(pki)
        defer { server.stop() }
        let options = try RedisOptions(
            url: server.url, tls: Self.trusted(pki), keyPrefix: "tls:", reconnectBaseDelay: 50, reconnectMaxDelay: 250,
            healthCheckInterval: 200, instanceID: "a", clock: { t0 })
        let a = RedisTokenStore(options: options)
        defer { a.close() }
        var bOptions = options
        bOptions.instanceID = "b"
        let b = RedisTokenStore(options: bOptions)
        defer { b.close() }
        #expect(await eventually(seconds: 10) { a.isAvailable && b.isAvailable })
        // A revocation made through one store reaches the other over the TLS subscriber.
        let log = ListenerLog()
        b.setRevocationListener(log.listener)
        let stored = await withCheckedContinuation { c in
            a.revokeToken(jti: "j-1", expiresAt: t0 + 60_000, now: t0) { c.resume(returning: $0) }
        }
        let revocation = try stored.get()
        #expect(await eventually(seconds: 5) { log.contains(revocation) })
    }

    @Test func aClientWithoutACertificateIsRefused() async throws {
        let pki = try CertificateFixture()
        let server = try await Self.server(pki)
        defer { server.stop() }
        let log = LogLines()
        let raw = try await RawRedis.open(
            try Self.quick(server.url, RedisTLSSettings(caFile: pki.path("ca.pem")), log: log), waitForConnection: false
        )
        defer { raw.close() }
        let why = await Self.refusal(log)
        #expect(why.contains("redis unavailable"), "\(why)")
        #expect(!raw.client.isUp)
        #expect(!log.all.contains { $0.contains("connected to") }, "\(log.all)")
        #expect(await raw.send("PING").failure != nil)
        // The same server, with the certificate: accepted (the refusal was the certificate).
        let good = try await RawRedis.open(try Self.quick(server.url, Self.trusted(pki)))
        defer { good.close() }
        #expect(try await good.value("PING") == .simpleString("PONG"))
    }

    @Test func aServerSignedByAnotherCAIsRefused() async throws {
        let pki = try CertificateFixture()
        let server = try await Self.server(pki, authClients: false)
        defer { server.stop() }
        var settings = Self.trusted(pki)
        settings.caFile = pki.path("other-ca.pem")
        let log = LogLines()
        let raw = try await RawRedis.open(try Self.quick(server.url, settings, log: log), waitForConnection: false)
        defer { raw.close() }
        let why = await Self.refusal(log)
        #expect(why.contains("TLS handshake failed: certificate"), "\(why)")
        #expect(!raw.client.isUp)
    }

    @Test func theHostNameIsChecked() async throws {
        let pki = try CertificateFixture()
        let server = try await Self.server(pki, authClients: false)
        defer { server.stop() }
        // The certificate covers localhost and 127.0.0.1, not the name the client expects.
        let log = LogLines()
        let wrong = try await RawRedis.open(
            try Self.quick(server.url, Self.trusted(pki, serverName: "redis.example.com"), log: log),
            waitForConnection: false)
        defer { wrong.close() }
        let why = await Self.refusal(log)
        #expect(why.contains("TLS handshake failed: certificate"), "\(why)")
        // server_name replaces the URL's host (here an IP literal) for SNI and the check.
        let named = try await RawRedis.open(try Self.quick(server.url, Self.trusted(pki, serverName: "localhost")))
        defer { named.close() }
        #expect(try await named.value("PING") == .simpleString("PONG"))
    }

    @Test func theTLSHandshakeIsBoundedByTheConnectTimeout() async throws {
        // The kernel completes TCP (the backlog); no one ever answers the ClientHello.
        let fd = try Socket.listen(on: SocketAddress(numericHost: "127.0.0.1", port: 0)!, reusePort: false)
        defer { Syscall.close(fd) }
        let pki = try CertificateFixture()
        let options = try RedisOptions(
            url: "rediss://127.0.0.1:\(Socket.localPort(fd))", tls: Self.trusted(pki), connectTimeout: 300,
            commandTimeout: 30_000)
        let raw = try await RawRedis.open(options, waitForConnection: false)
        defer { raw.close() }
        let (result, elapsed) = await raw.timedSend("PING")
        guard case .failure(.unavailable(let reason)) = result else {
            Issue.record("expected unavailable, got \(result)")
            return
        }
        #expect(reason.contains("connect timed out") || reason.contains("not connected"), "\(reason)")
        // Bounded by the 300 ms connect timeout, not by the 30 s command timeout; the margin is for
        // a loaded machine.
        #expect(elapsed < 5_000, "\(elapsed) ms")
    }

    @Test func badTLSFilesAreRefusedWhenTheOptionsAreMade() throws {
        let pki = try CertificateFixture()
        let url = "rediss://127.0.0.1:6380"
        func refusal(_ tls: RedisTLSSettings) -> String {
            do {
                _ = try RedisOptions(url: url, tls: tls)
                return "accepted"
            } catch {
                return error.description
            }
        }
        let missing = pki.path("missing-ca.pem")
        #expect(refusal(RedisTLSSettings(caFile: missing)).contains("CA file \(missing)"))
        let mismatched = RedisTLSSettings(
            caFile: pki.path("ca.pem"), certFile: pki.path("client.pem"), keyFile: pki.path("server.key"))
        #expect(refusal(mismatched).contains("does not match"), "\(refusal(mismatched))")
        let noCert = RedisTLSSettings(
            caFile: pki.path("ca.pem"), certFile: pki.path("missing.pem"), keyFile: pki.path("client.key"))
        #expect(refusal(noCert).contains("certificate chain \(pki.path("missing.pem"))"), "\(refusal(noCert))")
        #expect(refusal(RedisTLSSettings(certFile: pki.path("client.pem"))).contains("need"))
    }

    @Test func settingsThatCannotHoldAreRefused() {
        #expect(throws: RedisOptionsError.tlsNeedsRediss) {
            try RedisOptions(url: "redis://127.0.0.1", tls: RedisTLSSettings())
        }
        #expect(throws: RedisOptionsError.incompleteClientCertificate) {
            try RedisOptions(url: "rediss://127.0.0.1", tls: RedisTLSSettings(certFile: "/c.pem"))
        }
        #expect(throws: RedisOptionsError.incompleteClientCertificate) {
            try RedisOptions(url: "rediss://127.0.0.1", tls: RedisTLSSettings(keyFile: "/k.pem"))
        }
        for name in ["", "bad name", "a/b", "x@y"] {
            #expect(throws: RedisOptionsError.badServerName) {
                try RedisOptions(url: "rediss://127.0.0.1", tls: RedisTLSSettings(serverName: name))
            }
        }
        #expect(throws: RedisOptionsError.url(.unsupportedScheme("http"))) { try RedisOptions(url: "http://h") }
        // rediss:// alone: verified against the system store, the URL's host as the name.
        #expect(throws: Never.self) { try RedisOptions(url: "rediss://cache.example.com") }
    }
}
