import EventLoop
import Testing

@testable import GatewayCore

@Suite("Live upstreams: passive health and re-resolved addresses")
struct LiveUpstreamsTests {
    private func url(_ text: String) -> UpstreamURL {
        try! GatewayConfig.parseUpstreamURL(text).get()
    }

    private func addr(_ ip: String, _ port: UInt16 = 9001) -> SocketAddress {
        SocketAddress(numericHost: ip, port: port)!
    }

    private var settings: UpstreamHealthSettings {
        var s = UpstreamHealthSettings()
        s.ejectAfter = 3
        s.ejectFor = 1000
        return s
    }

    @Test("N consecutive failures eject for eject_for; an answer in between resets the count")
    func ejection() {
        var h = AddressHealth()
        #expect(h.handle(.connectFailed, now: 0, ejectAfter: 3, ejectFor: 1000) == .none)
        #expect(h.handle(.timedOut, now: 1, ejectAfter: 3, ejectFor: 1000) == .none)
        #expect(h.handle(.responded, now: 2, ejectAfter: 3, ejectFor: 1000) == .none)
        #expect(h.handle(.connectFailed, now: 3, ejectAfter: 3, ejectFor: 1000) == .none)
        #expect(h.handle(.connectFailed, now: 4, ejectAfter: 3, ejectFor: 1000) == .none)
        #expect(h.available(now: 5))
        #expect(h.handle(.connectFailed, now: 5, ejectAfter: 3, ejectFor: 1000) == .ejected(until: 1005))
        #expect(!h.available(now: 1004))
        // Failures of requests already under way change nothing while ejected.
        #expect(h.handle(.connectFailed, now: 10, ejectAfter: 3, ejectFor: 1000) == .none)
        #expect(h.available(now: 1005))
        // Half-open: one more failure ejects again; an answer makes it whole.
        #expect(h.handle(.connectFailed, now: 1006, ejectAfter: 3, ejectFor: 1000) == .ejected(until: 2006))
        #expect(h.handle(.responded, now: 2100, ejectAfter: 3, ejectFor: 1000) == .none)
        #expect(h.isPristine)
    }

    @Test("eject_after 0 turns passive ejection off")
    func off() {
        var h = AddressHealth()
        for t in 0..<10 { #expect(h.handle(.connectFailed, now: Int64(t), ejectAfter: 0, ejectFor: 1000) == .none) }
        #expect(h.available(now: 10))
    }

    @Test("active checks take an address out until one passes")
    func active() {
        var h = AddressHealth()
        #expect(h.handle(.activeCheck(ok: false), now: 0, ejectAfter: 3, ejectFor: 1000) == .none)
        #expect(!h.available(now: 100_000))
        #expect(h.handle(.activeCheck(ok: true), now: 1, ejectAfter: 3, ejectFor: 1000) == .restored)
        #expect(h.available(now: 2))
    }

    @Test("round-robin skips an ejected upstream, and comes back to it after eject_for")
    func skipEjected() {
        let live = LiveUpstreams()
        let ups = [url("http://127.0.0.1:9001"), url("http://127.0.0.1:9002")]
        for t in 0..<3 { _ = live.report(ups[1], .connectFailed, now: Int64(t), settings: settings) }
        for i in 0..<6 { #expect(live.choose(ups, start: i, now: 10).address == ups[0].address) }
        #expect(live.choose(ups, start: 1, now: 1002).address == ups[1].address)
    }

    @Test("with every upstream ejected, the one in turn is still tried")
    func allEjected() {
        let live = LiveUpstreams()
        let ups = [url("http://127.0.0.1:9001"), url("http://127.0.0.1:9002")]
        for u in ups { for t in 0..<3 { _ = live.report(u, .connectFailed, now: Int64(t), settings: settings) } }
        #expect(live.choose(ups, start: 0, now: 10).address == ups[0].address)
        #expect(live.choose(ups, start: 1, now: 10).address == ups[1].address)
    }

    @Test("re-resolved addresses replace the start-up one and rotate, skipping ejected ones")
    func resolved() {
        let live = LiveUpstreams()
        let start = url("http://127.0.0.1:9001")
        let u = UpstreamURL(
            host: "app.internal", port: 9001, basePath: "", address: start.address, authority: "app.internal:9001",
            tls: nil)
        #expect(live.choose([u], start: 0, now: 0).address == addr("127.0.0.1"))
        live.update(LiveUpstreams.HostPort(host: "app.internal", port: 9001), [addr("10.0.0.5"), addr("10.0.0.6")])
        let picks = (0..<4).map { _ in live.choose([u], start: 0, now: 0).address }
        #expect(Set(picks) == [addr("10.0.0.5"), addr("10.0.0.6")])
        var used = u
        used.address = addr("10.0.0.5")
        for t in 0..<3 { _ = live.report(used, .connectFailed, now: Int64(t), settings: settings) }
        for _ in 0..<4 { #expect(live.choose([u], start: 0, now: 10).address == addr("10.0.0.6")) }
        // An empty answer (a failed lookup) keeps the last good addresses.
        live.update(LiveUpstreams.HostPort(host: "app.internal", port: 9001), [])
        #expect(live.addresses(of: u) == [addr("10.0.0.5"), addr("10.0.0.6")])
    }

    @Test("health-check replies: 2xx and 3xx status lines only")
    func healthReplies() {
        #expect(UpstreamWatcher.isHealthy(Array("HTTP/1.1 200 OK\r\n".utf8)))
        #expect(UpstreamWatcher.isHealthy(Array("HTTP/1.0 302 Found\r\n".utf8)))
        #expect(!UpstreamWatcher.isHealthy(Array("HTTP/1.1 503 Unavailable\r\n".utf8)))
        #expect(!UpstreamWatcher.isHealthy(Array("SSH-2.0-OpenSSH\r\n".utf8)))
        #expect(!UpstreamWatcher.isHealthy([]))
    }

    @Test("config: upstream_health is read and checked")
    func config() throws {
        let base = #""routes":[{"path":"/","upstream":"http://127.0.0.1:9001","auth":"none"}]"#
        let c = try parseConfig(
            #"{"upstream_health":{"resolve_interval":"5s","eject_after":2,"eject_for":"30s","health_path":"/healthz","health_interval":"2s","health_timeout":"500ms"},\#(base)}"#
        )
        let h = c.edge.upstreamHealth
        #expect(h.resolveInterval == 5000 && h.ejectAfter == 2 && h.ejectFor == 30_000)
        #expect(h.healthPath == "/healthz" && h.healthInterval == 2000 && h.healthTimeout == 500)
        let d = try parseConfig("{\(base)}").edge.upstreamHealth
        #expect(d.resolveInterval == 30_000 && d.ejectAfter == 3 && d.healthPath == nil)
        for bad in [
            #""resolve_interval":"500ms""#, #""health_path":"healthz""#, #""health_path":"/a b""#,
            #""health_interval":"1s","health_timeout":"2s""#, #""eject_after":-1"#, #""bogus":1"#,
        ] {
            #expect(throws: ConfigError.self) { try parseConfig("{\"upstream_health\":{\(bad)},\(base)}") }
        }
    }
}
