import Testing

@testable import HTTP1

@Suite("WebSocket handshake (RFC 6455 §4.1)")
struct WebSocketHandshakeTests {
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    private func request(
        method: String = "GET", version: String = "HTTP/1.1", connection: String? = "Upgrade",
        upgrade: [String] = ["websocket"], key: [String] = [key], wsVersion: [String] = ["13"]
    ) throws -> RequestHead {
        var text = "\(method) /ws \(version)\r\nHost: h\r\n"
        if let connection { text += "Connection: \(connection)\r\n" }
        for u in upgrade { text += "Upgrade: \(u)\r\n" }
        for k in key { text += "Sec-WebSocket-Key: \(k)\r\n" }
        for v in wsVersion { text += "Sec-WebSocket-Version: \(v)\r\n" }
        return try parseRequest(text + "\r\n")
    }

    @Test("a valid handshake, in any letter case")
    func valid() throws {
        #expect(WebSocketHandshake.classify(try request()) == .webSocket)
        #expect(
            WebSocketHandshake.classify(try request(connection: "keep-alive, UPGRADE", upgrade: ["WebSocket"]))
                == .webSocket)
        #expect(WebSocketHandshake.key(try request()) == Array(Self.key.utf8))
    }

    @Test("no Upgrade field is an ordinary request")
    func none() throws {
        #expect(WebSocketHandshake.classify(try request(upgrade: [])) == .none)
    }

    @Test("other protocols are not WebSocket", arguments: ["h2c", "foo/1", "websocket2", "TLS/1.2"])
    func other(_ proto: String) throws {
        #expect(WebSocketHandshake.classify(try request(upgrade: [proto])) == .otherProtocol)
    }

    @Test("invalid handshakes name what is wrong")
    func invalid() throws {
        func check(_ head: RequestHead, _ error: WebSocketHandshakeError) {
            #expect(WebSocketHandshake.classify(head) == .invalidWebSocket(error))
        }
        check(try request(method: "POST"), .methodNotGet)
        check(try request(version: "HTTP/1.0"), .versionNotHTTP11)
        check(try request(connection: nil), .connectionLacksUpgrade)
        check(try request(connection: "keep-alive"), .connectionLacksUpgrade)
        check(try request(upgrade: ["websocket, h2c"]), .upgradeNotAlone)
        check(try request(upgrade: ["websocket", "websocket"]), .upgradeNotAlone)
        check(try request(key: []), .keyMissing)
        check(try request(key: [Self.key, Self.key]), .keyMissing)
        check(try request(key: ["dGhlIHNhbXBsZSBub25jZQ"]), .keyInvalid)  // unpadded
        check(try request(key: ["dGhlIHNhbXBsZSBub25jZR=="]), .keyInvalid)  // non-canonical last char
        check(try request(key: ["dGhlIHNhbXBsZSBub25j!Q=="]), .keyInvalid)
        check(try request(key: ["YWJjZGVmZ2hpamtsbW5vcHFy"]), .keyInvalid)  // 18 bytes
        check(try request(wsVersion: []), .versionUnsupported)
        check(try request(wsVersion: ["8"]), .versionUnsupported)
        check(try request(wsVersion: ["13", "13"]), .versionUnsupported)
        check(try request(wsVersion: ["130"]), .versionUnsupported)
    }

    @Test("a 101 answer must switch to websocket alone, with the expected accept value")
    func answer() throws {
        let accept = Array("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".utf8)
        func switches(_ fields: String) throws -> Bool {
            WebSocketHandshake.answerSwitches(
                try parseResponse("HTTP/1.1 101 Switching Protocols\r\n\(fields)\r\n"), accept: accept)
        }
        #expect(
            try switches(
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
        #expect(
            try !switches(
                "Upgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
        #expect(
            try !switches(
                "Upgrade: websocket, h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            ))
        #expect(try !switches("Upgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
        #expect(try !switches("Upgrade: websocket\r\nConnection: Upgrade\r\n"))
        #expect(
            try !switches(
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOp=\r\n"))
        #expect(
            try !switches(
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            ))
    }
}
