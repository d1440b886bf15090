import HTTP1
import Testing

@testable import GatewayCore

private func routeJSON(_ extra: String) -> String {
    #"{"routes":[{"path":"/","upstream":"http://127.0.0.1:9001","auth":"none"\#(extra)}]}"#
}

@Suite("Header and host configuration")
struct HeaderConfigTests {
    @Test("route hosts are canonicalised at load like request hosts")
    func routeHostsCanonical() throws {
        let c = try parseConfig(routeJSON(#","host":"Admin.Example.COM.""#))
        #expect(c.routes[0].host == "admin.example.com")
        let w = try parseConfig(routeJSON(#","host":"*.Public.Example.com.""#))
        #expect(w.routes[0].host == "*.public.example.com")
        let t = RouteTable(c.routes, identityHeaders: [])
        let host = Array("admin.example.com".utf8)
        let matched = Array("/".utf8).withUnsafeBytes { p in
            host.withUnsafeBytes { h in t.match(path: p, host: h, method: .get) }
        }
        guard case .route = matched else {
            Issue.record("canonical request host does not match the canonical route host")
            return
        }
    }

    @Test(
        "invalid route hosts are load errors",
        arguments: ["a b", "a..b", "host:80", "", "*.", "[::1", "b\u{00fc}cher.de"])
    func badRouteHosts(host: String) {
        #expect(has(configIssues(routeJSON(#","host":"\#(host)""#)), "routes[0].host"))
    }

    @Test("underscores: off by default, a top-level setting with a per-route override")
    func underscoreSetting() throws {
        #expect(try parseConfig(routeJSON("")).routes[0].allowUnderscoresInHeaders == false)
        let top =
            #"{"allow_underscores_in_headers":true,"routes":[{"path":"/","upstream":"http://127.0.0.1:9001","auth":"none"},{"path":"/b","upstream":"http://127.0.0.1:9001","auth":"none","allow_underscores_in_headers":false}]}"#
        let c = try parseConfig(top)
        #expect(c.routes[0].allowUnderscoresInHeaders && !c.routes[1].allowUnderscoresInHeaders)
        #expect(
            has(
                configIssues(routeJSON(#","allow_underscores_in_headers":"yes""#)),
                "routes[0].allow_underscores_in_headers"))
    }

    @Test("names that collide once _ is read as - are refused")
    func collisions() {
        #expect(
            has(
                configIssues(routeJSON(#","request_headers":{"set":{"X_Auth_Subject":"alice"}}"#)),
                "routes[0].request_headers.set", "identity header"))
        #expect(
            has(
                configIssues(routeJSON(#","request_headers":{"set":{"X-Tenant":"a","X_Tenant":"b"}}"#)),
                "routes[0].request_headers.set", "differ"))
        #expect(
            has(
                configIssues(
                    #"{"identity_headers":{"subject":"X-User","claims":{"email":"X_User"}},"routes":[\#(routeJSON("").dropFirst(11).dropLast(2))]}"#
                ), "identity_headers", "differ"))
    }

    @Test("request_headers.forward only lists the override headers dropped by default")
    func forwardList() throws {
        let c = try parseConfig(routeJSON(#","request_headers":{"forward":["x-http-method-override"]}"#))
        #expect(c.routes[0].forwardRequestHeaders == ["x-http-method-override"])
        #expect(
            has(
                configIssues(routeJSON(#","request_headers":{"forward":["X-Auth-Subject"]}"#)),
                "routes[0].request_headers.forward", "not dropped by default"))
    }
}
