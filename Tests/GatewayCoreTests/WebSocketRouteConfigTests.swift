import Testing

@testable import GatewayCore

@Suite("WebSocket route settings")
struct WebSocketRouteConfigTests {
    private func route(_ fields: String) -> String {
        #"{"routes":[{"path":"/ws","upstream":"http://127.0.0.1:9001","auth":"none"\#(fields)}]}"#
    }

    @Test("tunnels close at token expiry unless the route says otherwise")
    func closeAtExpiry() throws {
        #expect(try parseConfig(route(#","websocket":true"#)).routes[0].websocketCloseAtExpiry)
        let kept = try parseConfig(route(#","websocket":true,"websocket_close_at_expiry":false"#))
        #expect(!kept.routes[0].websocketCloseAtExpiry)
    }

    @Test("the setting is refused where it could not apply, or when not a boolean")
    func refused() {
        #expect(
            has(
                configIssues(route(#","websocket_close_at_expiry":false"#)), "routes[0].websocket_close_at_expiry",
                "websocket"))
        #expect(
            has(
                configIssues(route(#","websocket":true,"websocket_close_at_expiry":"yes""#)),
                "routes[0].websocket_close_at_expiry", "true or false"))
    }
}
