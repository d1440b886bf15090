import EventLoop
import Testing

@testable import GatewayCore

@Suite("Trusted proxies: CIDR matching")
struct TrustedProxiesTests {
    private func trusted(_ blocks: [String]) -> TrustedProxies {
        TrustedProxies(blocks.map { CIDRBlock(parsing: $0)! })
    }

    private func addr(_ text: String) -> SocketAddress { SocketAddress(numericHost: text, port: 1234)! }

    @Test("IPv4 blocks match their addresses and nothing else")
    func ipv4() {
        let t = trusted(["10.0.0.0/8", "192.168.1.7"])
        #expect(t.contains(addr("10.0.0.1")))
        #expect(t.contains(addr("10.255.255.255")))
        #expect(!t.contains(addr("11.0.0.1")))
        #expect(!t.contains(addr("9.255.255.255")))
        #expect(t.contains(addr("192.168.1.7")))
        #expect(!t.contains(addr("192.168.1.8")))
    }

    @Test("an IPv4 block matches the IPv4-mapped IPv6 spelling of its addresses")
    func mapped() {
        let t = trusted(["127.0.0.0/8"])
        #expect(t.contains(addr("::ffff:127.0.0.1")))
        #expect(!t.contains(addr("::ffff:128.0.0.1")))
        #expect(!t.contains(addr("::1")))
        // And a mapped block matches plain IPv4.
        #expect(trusted(["::ffff:10.0.0.0/104"]).contains(addr("10.1.2.3")))
    }

    @Test("IPv6 blocks, including prefixes that cross the 64-bit halves")
    func ipv6() {
        let t = trusted(["2001:db8::/32", "fd00:1:2:3:4::/80", "::1"])
        #expect(t.contains(addr("2001:db8::1")))
        #expect(t.contains(addr("2001:db8:ffff::1")))
        #expect(!t.contains(addr("2001:db9::1")))
        #expect(t.contains(addr("fd00:1:2:3:4:0:ffff:1")))
        #expect(!t.contains(addr("fd00:1:2:3:5::1")))
        #expect(t.contains(addr("::1")))
        #expect(!t.contains(addr("::2")))
        #expect(!t.contains(addr("10.0.0.1")))
    }

    @Test("/0 trusts everyone of its family; nobody is trusted by default")
    func extremes() {
        #expect(trusted(["0.0.0.0/0"]).contains(addr("203.0.113.9")))
        #expect(!trusted(["0.0.0.0/0"]).contains(addr("2001:db8::1")))
        #expect(trusted(["::/0"]).contains(addr("2001:db8::1")))
        #expect(!TrustedProxies().contains(addr("127.0.0.1")))
        #expect(!trusted(["127.0.0.1"]).contains(nil))
    }

    @Test(
        "malformed blocks are refused",
        arguments: [
            "", "10.0.0.0/", "10.0.0.0/33", "10.0.0.1/8", "10.0.0/8", "::1/129", "2001:db8::1/32", "example.com",
            "10.0.0.0/8/8", "10.0.0.0/-1", "fe80::1%eth0", "10.0.0.0/08x", " 10.0.0.1",
        ])
    func malformed(_ text: String) {
        #expect(CIDRBlock(parsing: text) == nil)
    }

    @Test("config: trusted_proxies and proxy_protocol are read and checked")
    func config() throws {
        let base = #""routes":[{"path":"/","upstream":"http://127.0.0.1:9001","auth":"none"}]"#
        let c = try parseConfig(#"{"trusted_proxies":["10.0.0.0/8","::1"],"proxy_protocol":true,\#(base)}"#)
        #expect(c.edge.trustedProxies.blocks.count == 2)
        #expect(c.edge.proxyProtocol)
        #expect(c.edge.proxyProtocolTimeout == 5000)
        #expect(throws: ConfigError.self) { try parseConfig(#"{"proxy_protocol":true,\#(base)}"#) }
        #expect(throws: ConfigError.self) { try parseConfig(#"{"trusted_proxies":["10.0.0.1/8"],\#(base)}"#) }
        #expect(throws: ConfigError.self) {
            try parseConfig(#"{"trusted_proxies":["::1"],"proxy_protocol_timeout":"10ms",\#(base)}"#)
        }
        let d = try parseConfig("{\(base)}")
        #expect(d.edge.trustedProxies.isEmpty && !d.edge.proxyProtocol && d.auth.verifyPath == nil)
        #expect(throws: ConfigError.self) {
            try parseConfig(#"{"auth":{"verify_path":"/auth/login"},\#(base)}"#)
        }
    }
}
