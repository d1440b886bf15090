import EventLoop
import Testing

@testable import GatewayCore

@Suite("PROXY protocol header parser")
struct ProxyProtocolTests {
    private func parse(_ bytes: [UInt8]) throws(ProxyProtocolError) -> ProxyProtocolParser.Result {
        let r: Result<ProxyProtocolParser.Result, ProxyProtocolError> = bytes.withUnsafeBytes { b in
            do throws(ProxyProtocolError) { return .success(try ProxyProtocolParser.parse(b)) } catch {
                return .failure(error)
            }
        }
        return try r.get()
    }

    private func v2(command: UInt8 = 1, family: UInt8 = 0x11, body: [UInt8]) -> [UInt8] {
        ProxyProtocolParser.v2Signature + [0x20 | command, family, UInt8(body.count >> 8), UInt8(body.count & 0xFF)]
            + body
    }

    private let v4Body: [UInt8] = [198, 51, 100, 7, 10, 0, 0, 1, 0xC3, 0x50, 0x1F, 0x90]

    @Test("v1 TCP4 and TCP6, with what follows left alone")
    func v1() throws {
        let line = Array("PROXY TCP4 198.51.100.7 10.0.0.1 50000 8080\r\n".utf8)
        let r = try parse(line + Array("GET / HTTP/1.1\r\n".utf8))
        #expect(
            r
                == .header(
                    ProxyHeader(
                        source: SocketAddress(numericHost: "198.51.100.7", port: 50000),
                        destination: SocketAddress(numericHost: "10.0.0.1", port: 8080)), length: line.count))
        let six = Array("PROXY TCP6 2001:db8::7 ::1 1 65535\r\n".utf8)
        guard case .header(let h, let n) = try parse(six) else {
            Issue.record("no header")
            return
        }
        #expect(h.source == SocketAddress(numericHost: "2001:db8::7", port: 1) && n == six.count)
        #expect(try parse(Array("PROXY UNKNOWN whatever\r\n".utf8)) == .header(ProxyHeader(), length: 24))
        #expect(try parse(Array("PROXY UNKNOWN\r\n".utf8)) == .header(ProxyHeader(), length: 15))
    }

    @Test("v1 truncated input waits for more")
    func v1Truncated() throws {
        let line = Array("PROXY TCP4 198.51.100.7 10.0.0.1 50000 8080\r\n".utf8)
        for n in 0..<line.count {
            #expect(try parse(Array(line[..<n])) == .needMore, "\(n) bytes")
        }
    }

    @Test(
        "v1 malformed lines are refused",
        arguments: [
            "PROXY TCP4 198.51.100.7 10.0.0.1 50000\r\n", "PROXY TCP4 198.51.100.7 10.0.0.1 50000 8080 9\r\n",
            "PROXY TCP4 198.51.100.7  10.0.0.1 50000 8080\r\n", "PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n",
            "PROXY TCP6 198.51.100.7 10.0.0.1 1 2\r\n", "PROXY TCP4 198.51.100.7 10.0.0.1 65536 1\r\n",
            "PROXY TCP4 198.51.100.7 10.0.0.1 080 1\r\n", "PROXY TCP4 host.example 10.0.0.1 1 2\r\n",
            "PROXY UDP4 198.51.100.7 10.0.0.1 1 2\r\n", "PROXY TCP4 198.51.100.7 10.0.0.1 1 2\n",
        ])
    func v1Malformed(_ text: String) {
        #expect(throws: ProxyProtocolError.malformedV1) { try parse(Array(text.utf8)) }
    }

    @Test("v1 longer than 107 bytes is refused")
    func v1TooLong() {
        let long = Array(("PROXY UNKNOWN " + String(repeating: "x", count: 120)).utf8)
        #expect(throws: ProxyProtocolError.tooLong) { try parse(long) }
    }

    @Test("bad signatures are refused at the first wrong byte")
    func badSignature() {
        for text in ["GET / HTTP/1.1\r\n", "PROXX", "proxy TCP4", "\u{16}\u{03}\u{01}"] {
            #expect(throws: ProxyProtocolError.badSignature) { try parse(Array(text.utf8)) }
        }
        var sig = ProxyProtocolParser.v2Signature
        sig[11] = 0x0B
        #expect(throws: ProxyProtocolError.badSignature) { try parse(sig + [0x21, 0x11, 0, 12] + v4Body) }
        #expect(throws: ProxyProtocolError.badSignature) { try parse([0x0D, 0x0A, 0x0D, 0x0B]) }
    }

    @Test("v2 PROXY over IPv4 and IPv6, TLVs skipped")
    func v2Proxy() throws {
        let tlv: [UInt8] = [0x04, 0x00, 0x03, 0x61, 0x62, 0x63, 0x01, 0x00, 0x02, 0x68, 0x32]
        let bytes = v2(body: v4Body + tlv)
        let r = try parse(bytes + Array("\u{16}\u{03}\u{01}".utf8))
        #expect(
            r
                == .header(
                    ProxyHeader(
                        source: SocketAddress(numericHost: "198.51.100.7", port: 50000),
                        destination: SocketAddress(numericHost: "10.0.0.1", port: 8080)), length: bytes.count))
        var six: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [7]
        six += [UInt8](repeating: 0, count: 15) + [1]
        six += [0x01, 0xBB, 0x00, 0x50]
        guard case .header(let h, let n) = try parse(v2(family: 0x21, body: six)) else {
            Issue.record("no header")
            return
        }
        #expect(h.source == SocketAddress(numericHost: "2001:db8::7", port: 443))
        #expect(h.destination == SocketAddress(numericHost: "::1", port: 80))
        #expect(n == 16 + 36)
    }

    @Test("v2 LOCAL, UNSPEC and AF_UNIX keep the connection's own peer")
    func v2Local() throws {
        #expect(try parse(v2(command: 0, family: 0x00, body: [])) == .header(ProxyHeader(), length: 16))
        // LOCAL ignores whatever addresses come with it.
        #expect(try parse(v2(command: 0, family: 0x11, body: v4Body)) == .header(ProxyHeader(), length: 28))
        #expect(try parse(v2(family: 0x00, body: [])) == .header(ProxyHeader(), length: 16))
        #expect(
            try parse(v2(family: 0x31, body: [UInt8](repeating: 0, count: 216)))
                == .header(ProxyHeader(), length: 232))
    }

    @Test("v2 truncated input waits for more, at every length")
    func v2Truncated() throws {
        let bytes = v2(body: v4Body)
        for n in 0..<bytes.count {
            #expect(try parse(Array(bytes[..<n])) == .needMore, "\(n) bytes")
        }
    }

    @Test("v2 refusals: version, command, datagram, short addresses, too long")
    func v2Refused() {
        var bad = v2(body: v4Body)
        bad[12] = 0x11
        #expect(throws: ProxyProtocolError.unsupportedVersion) { try parse(bad) }
        bad[12] = 0x22
        #expect(throws: ProxyProtocolError.unsupportedCommand) { try parse(bad) }
        #expect(throws: ProxyProtocolError.unsupportedFamily) { try parse(v2(family: 0x12, body: v4Body)) }
        #expect(throws: ProxyProtocolError.unsupportedFamily) { try parse(v2(family: 0x41, body: v4Body)) }
        #expect(throws: ProxyProtocolError.truncatedAddresses) { try parse(v2(body: Array(v4Body[..<8]))) }
        #expect(throws: ProxyProtocolError.truncatedAddresses) { try parse(v2(family: 0x21, body: v4Body)) }
        #expect(throws: ProxyProtocolError.tooLong) {
            try parse(ProxyProtocolParser.v2Signature + [0x21, 0x11, 0xFF, 0xFF])
        }
    }

    @Test("the pending-connection state machine")
    func stateMachine() throws {
        var s = ProxyHeaderState()
        #expect(s.accepted(trustedPeer: false) == .reject(.untrustedPeer))
        #expect(s.received(UnsafeRawBufferPointer(start: nil, count: 0)) == .wait)  // finished: nothing more happens
        s = ProxyHeaderState()
        #expect(s.accepted(trustedPeer: true) == .wait)
        let line = Array("PROXY TCP4 198.51.100.7 10.0.0.1 50000 8080\r\n".utf8)
        #expect(line[..<10].withUnsafeBytes { s.received($0) } == .wait)
        guard case .accept(let h, 45) = line.withUnsafeBytes({ s.received($0) }) else {
            Issue.record("not accepted")
            return
        }
        #expect(h.source == SocketAddress(numericHost: "198.51.100.7", port: 50000))
        #expect(s.timedOut() == .wait)
        s = ProxyHeaderState()
        _ = s.accepted(trustedPeer: true)
        #expect(s.timedOut() == .reject(.timedOut))
        s = ProxyHeaderState()
        _ = s.accepted(trustedPeer: true)
        #expect(s.endOfStream() == .reject(.peerClosed))
        s = ProxyHeaderState()
        _ = s.accepted(trustedPeer: true)
        #expect(Array("GET /".utf8).withUnsafeBytes { s.received($0) } == .reject(.invalid(.badSignature)))
    }
}
