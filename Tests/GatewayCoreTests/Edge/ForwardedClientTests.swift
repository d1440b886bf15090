import EventLoop
import HTTP1
import Testing

@testable import GatewayCore

/// Parses a request head given as header lines.
func edgeHead(_ lines: [String], requestLine: String = "GET /x HTTP/1.1") throws -> RequestHead {
    let text = Array((([requestLine, "Host: app.example.com"] + lines).joined(separator: "\r\n") + "\r\n\r\n").utf8)
    var head = RequestHead()
    let failure: HTTPParseError? = text.withUnsafeBytes { b in
        do throws(HTTPParseError) {
            try RequestHeadParser.parse(b, into: &head)
            return nil
        } catch {
            return error
        }
    }
    if let failure { throw failure }
    return head
}

@Suite("Client address behind trusted proxies")
struct ForwardedClientTests {
    let trusted = TrustedProxies(["10.0.0.0/8", "2001:db8::/32"].map { CIDRBlock(parsing: $0)! })
    let proxy = SocketAddress(numericHost: "10.0.0.2", port: 40000)!
    let stranger = SocketAddress(numericHost: "203.0.113.50", port: 40000)!

    private func client(_ lines: [String], peer: SocketAddress?) throws -> ClientAddress {
        var c = ClientAddress()
        var head = try edgeHead(lines)
        c.update(head: &head, peer: peer, trusted: trusted)
        return c
    }

    @Test("from a trusted proxy: the right-most untrusted X-Forwarded-For entry")
    func rightMostUntrusted() throws {
        #expect(try client(["X-Forwarded-For: 198.51.100.7"], peer: proxy).text == "198.51.100.7")
        // A forged left part is skipped: the proxy appended what it saw on the right.
        #expect(try client(["X-Forwarded-For: 1.2.3.4, 198.51.100.7"], peer: proxy).text == "198.51.100.7")
        // Trusted hops on the right are walked over.
        #expect(try client(["X-Forwarded-For: 1.2.3.4, 198.51.100.7, 10.1.1.1"], peer: proxy).text == "198.51.100.7")
        // Several fields are one list, in order.
        #expect(
            try client(["X-Forwarded-For: 1.2.3.4", "X-Forwarded-For: 198.51.100.7 , 10.9.9.9"], peer: proxy).text
                == "198.51.100.7")
        #expect(try client(["X-Forwarded-For: 2001:db8::5, 2001:db9::1"], peer: proxy).text == "2001:db9::1")
        let c = try client(["X-Forwarded-For: 198.51.100.7"], peer: proxy)
        #expect(c.trustedPeer && c.peerText == "10.0.0.2")
    }

    @Test("all entries trusted: the left-most; none: the proxy itself")
    func allTrusted() throws {
        #expect(try client(["X-Forwarded-For: 10.3.3.3, 10.4.4.4"], peer: proxy).text == "10.3.3.3")
        #expect(try client([], peer: proxy).text == "10.0.0.2")
    }

    @Test("an entry that is no address ends the walk at the last address seen")
    func garbage() throws {
        #expect(try client(["X-Forwarded-For: 198.51.100.7, unknown, 10.1.1.1"], peer: proxy).text == "10.1.1.1")
        #expect(try client(["X-Forwarded-For: example.com"], peer: proxy).text == "10.0.0.2")
        #expect(try client(["X-Forwarded-For: 198.51.100.7:443"], peer: proxy).text == "10.0.0.2")
        #expect(try client(["X-Forwarded-For: fe80::1%eth0"], peer: proxy).text == "10.0.0.2")
        #expect(try client(["X-Forwarded-For: ,, 198.51.100.7,"], peer: proxy).text == "198.51.100.7")
    }

    @Test("from an untrusted peer the headers change nothing")
    func untrusted() throws {
        let c = try client(["X-Forwarded-For: 1.2.3.4", "Forwarded: for=1.2.3.4"], peer: stranger)
        #expect(c.text == "203.0.113.50" && !c.trustedPeer)
        #expect(try client(["X-Forwarded-For: 1.2.3.4"], peer: nil).text == "unknown")
    }

    @Test("RFC 7239 Forwarded, when there is no X-Forwarded-For")
    func forwarded() throws {
        #expect(try client(["Forwarded: for=198.51.100.7;proto=https"], peer: proxy).text == "198.51.100.7")
        #expect(
            try client([#"Forwarded: for=1.2.3.4, For="[2001:db9::17]:4711";by=10.0.0.2"#], peer: proxy).text
                == "2001:db9::17")
        #expect(try client([#"Forwarded: proto=https;for="198.51.100.7:8080""#], peer: proxy).text == "198.51.100.7")
        #expect(try client(["Forwarded: for=198.51.100.7, for=10.5.5.5"], peer: proxy).text == "198.51.100.7")
        #expect(try client(["Forwarded: for=unknown"], peer: proxy).text == "10.0.0.2")
        #expect(try client(["Forwarded: for=_hidden, for=10.5.5.5"], peer: proxy).text == "10.5.5.5")
        #expect(try client(["Forwarded: by=10.1.1.1"], peer: proxy).text == "10.0.0.2")
        // X-Forwarded-For wins when both are present.
        #expect(
            try client(["Forwarded: for=198.51.100.9", "X-Forwarded-For: 198.51.100.7"], peer: proxy).text
                == "198.51.100.7")
    }

    @Test("trust is decided per request (a reload may change trusted_proxies)")
    func perRequest() throws {
        var c = ClientAddress()
        var head = try edgeHead(["X-Forwarded-For: 198.51.100.7"])
        c.update(head: &head, peer: proxy, trusted: trusted)
        #expect(c.text == "198.51.100.7")
        c.update(head: &head, peer: proxy, trusted: TrustedProxies())
        #expect(c.text == "10.0.0.2" && !c.trustedPeer)
    }
}

@Suite("Client address before the first head")
struct ClientAddressInitTests {
    @Test("a connection's client is its peer until a head says otherwise")
    func initial() {
        let c = ClientAddress(peer: SocketAddress(numericHost: "192.0.2.9", port: 1))
        #expect(c.text == "192.0.2.9" && c.peerText == "192.0.2.9" && !c.trustedPeer)
        #expect(ClientAddress(peer: nil).text == "unknown")
    }
}
