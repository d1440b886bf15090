import EventLoop
import Testing

@testable import GatewayCore

@Suite("Upstream URL")
struct UpstreamURLTests {
    private func url(_ text: String) -> UpstreamURL { try! GatewayConfig.parseUpstreamURL(text).get() }

    @Test("copies share one origin (one retain per copy on the request path); only the address varies")
    func copiesShareTheOrigin() {
        let u = url("http://127.0.0.1:9001/base")
        var v = u
        v.address = SocketAddress(numericHost: "127.0.0.2", port: 9001)!
        #expect(v.origin === u.origin)
        #expect(v.serial == u.serial)
        #expect(v != u)
        #expect(v.host == "127.0.0.1" && v.port == 9001 && v.basePath == "/base" && v.authority == "127.0.0.1:9001")
    }

    @Test("equal by value across parses, each parse its own serial; setting tls makes a new origin")
    func equalityAndSerials() {
        let a = url("http://127.0.0.1:9001"), b = url("http://127.0.0.1:9001")
        #expect(a == b)
        #expect(a.serial != b.serial)
        var c = a
        c.tls = UpstreamTLS(serverName: "api.internal")
        #expect(c.serial != a.serial)
        #expect(c != a)
        #expect(a.tls == nil && c.tls?.serverName == "api.internal")
        #expect(c.description == "https://127.0.0.1:9001")
    }
}
