import EventLoop
import Glibc
import Synchronization
import TestSupport
import Testing

@testable import TLS

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let now = Atomic<Int64>(1_000_000)
    func advance(_ ms: Int64) { now.wrappingAdd(ms, ordering: .relaxed) }
    var read: @Sendable () -> Int64 { { [self] in now.load(ordering: .relaxed) } }
}

@Suite("Session ticket keys")
struct TicketKeyRingTests {
    let pki: CertificateFixture

    init() throws { pki = try CertificateFixture() }

    func server(_ ring: TicketKeyRing) throws -> TLSContext {
        var c = TLSServerConfiguration(
            certificates: [CertificateFiles(chainPath: pki.path("server.pem"), keyPath: pki.path("server.key"))])
        c.minimumVersion = .tls12
        return try TLSContext.server(c, ticketKeys: ring)
    }

    func client(tls12: Bool) throws -> TLSContext {
        var c = TLSClientConfiguration()
        c.caPath = pki.path("ca.pem")
        let ctx = try TLSContext.client(c)
        if tls12 { #expect(ctx.capMaximumVersion(at: .tls12)) }
        return ctx
    }

    /// One full connection (handshake, a byte each way, closed): whether it resumed.
    func connect(_ server: TLSContext, _ client: TLSContext) throws -> Bool {
        let pair = try Pair(server: server, client: client)
        try pair.handshake()
        #expect(try Pair.send("x", from: pair.server, to: pair.client) == "x")
        #expect(try Pair.send("y", from: pair.client, to: pair.server) == "y")
        return pair.client.resumedSession
    }

    @Test(arguments: [true, false])
    func resumesAcrossAReloadWithTheSameRing(tls12: Bool) throws {
        let clock = ManualClock()
        let ring = TicketKeyRing(rotateEvery: 60_000, keep: 2, clock: clock.read)
        let client = try client(tls12: tls12)
        #expect(try !connect(try server(ring), client))
        // A new certificate generation (a reload) with the same ring still opens the ticket.
        #expect(try connect(try server(ring), client))
    }

    @Test(arguments: [true, false])
    func rotatedKeysOpenOldTicketsUntilTheyAreDropped(tls12: Bool) throws {
        let clock = ManualClock()
        let ring = TicketKeyRing(rotateEvery: 60_000, keep: 2, clock: clock.read)
        let server = try server(ring)
        let client = try client(tls12: tls12)
        #expect(try !connect(server, client))
        let first = ring.sealingKey()
        clock.advance(61_000)  // one rotation: the first key is a previous one now
        #expect(try connect(server, client))
        #expect(ring.sealingKey().name != first.name)
        // Without any new ticket sealed, three rotation periods later every old key is gone.
        let stale = try self.client(tls12: tls12)
        #expect(try !connect(server, stale))
        clock.advance(3 * 61_000)
        #expect(try !connect(server, stale))
    }

    /// Every TLS 1.3 resumption gets a new ticket (RFC 8446 has a client use a ticket once):
    /// without it, OpenSSL's client (wrk, curl, Python) makes every other connection a full
    /// handshake. A TLS 1.2 ticket from the current key stays as it is (RFC 5077 reuses it).
    @Test(arguments: [true, false])
    func aResumedConnectionGetsANewTicketUnderTLS13(tls12: Bool) throws {
        let clock = ManualClock()
        let ring = TicketKeyRing(rotateEvery: 60_000, keep: 2, clock: clock.read)
        let server = try server(ring)
        let client = try client(tls12: tls12)
        #expect(try !connect(server, client))
        for _ in 0..<3 {
            let before = client.sessionsReceived.load(ordering: .relaxed)
            #expect(try connect(server, client))
            let received = client.sessionsReceived.load(ordering: .relaxed) - before
            if tls12 {
                #expect(received == 0)
            } else {
                #expect(received >= 1)
            }
        }
    }

    @Test func lookupRules() {
        let clock = ManualClock()
        let ring = TicketKeyRing(rotateEvery: 1_000, keep: 1, clock: clock.read)
        let k0 = ring.sealingKey()
        let name0 = k0.name
        #expect(name0.withUnsafeBytes { ring.lookup(name: $0) } == .current(k0))
        clock.advance(1_000)
        let k1 = ring.sealingKey()
        #expect(k1.name != k0.name)
        #expect(name0.withUnsafeBytes { ring.lookup(name: $0) } == .previous(k0))
        clock.advance(1_000)
        _ = ring.sealingKey()  // k0 falls out (keep 1)
        #expect(name0.withUnsafeBytes { ring.lookup(name: $0) } == .unknown)
        #expect([UInt8](repeating: 7, count: 16).withUnsafeBytes { ring.lookup(name: $0) } == .unknown)
    }
}
