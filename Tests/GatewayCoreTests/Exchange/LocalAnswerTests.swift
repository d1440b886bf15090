import HTTP1
import Testing

@testable import GatewayCore

/// The response side of a gateway-answered exchange, without sockets: the server state
/// machine decides keep-alive, `LocalAnswerWriter` renders the bytes the driver queues.
@Suite("Local answers")
struct LocalAnswerTests {
    /// Feeds `request` to a fresh state machine up to its head, as the driver does.
    private func received(_ request: String) -> (HTTPServerStateMachine, RequestHead) {
        var machine = HTTPServerStateMachine()
        var head = RequestHead()
        let bytes = Array(request.utf8)
        let (_, event) = bytes.withUnsafeBytes { machine.next($0, into: &head) }
        #expect(event == .head)
        return (machine, head)
    }

    private func render(
        _ response: LocalResponse, _ request: String, cors: [(String, String)] = [], requestID: String = "r1"
    ) -> String {
        var (machine, head) = received(request)
        let keepAlive = machine.responseStarted()
        var out: [UInt8] = []
        LocalAnswerWriter(
            response: response, date: Array("Tue, 01 Dec 2026 00:00:00 GMT".utf8), corsHeaders: cors,
            requestID: Array(requestID.utf8), keepAlive: keepAlive, requestMethod: head.method,
            requestVersion: head.version
        ).write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func anErrorAnswerHasLengthRequestIDAndBody() {
        let text = render(.error(404, "not_found", "No route"), "GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(text.hasPrefix("HTTP/1.1 404 "))
        #expect(text.contains("\r\nDate: Tue, 01 Dec 2026 00:00:00 GMT\r\n"))
        #expect(text.contains("\r\nContent-Type: application/json\r\n"))
        #expect(text.contains("\r\nX-Request-Id: r1\r\n"))
        let body = #"{"error":"not_found","error_description":"No route"}"#
        #expect(text.contains("\r\nContent-Length: \(body.utf8.count)\r\n"))
        #expect(text.hasSuffix("\r\n\r\n" + body))
        #expect(!text.contains("Connection:"), "HTTP/1.1 keep-alive needs no Connection field")
    }

    @Test func anUnreadBodyMakesTheAnswerClose() {
        let text = render(
            .error(404, "not_found", "No route"), "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n")
        #expect(text.contains("\r\nConnection: close\r\n"))
    }

    @Test func http10KeepAliveIsStated() {
        let kept = render(.json(200, Array("{}".utf8)), "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(kept.contains("\r\nConnection: keep-alive\r\n"))
        let closed = render(.json(200, Array("{}".utf8)), "GET / HTTP/1.0\r\n\r\n")
        #expect(closed.contains("\r\nConnection: close\r\n"))
    }

    @Test func headGetsNoBodyAnd204NoLength() {
        let head = render(.json(200, Array("{\"a\":1}".utf8)), "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(head.contains("\r\nContent-Length: 7\r\n"))
        #expect(head.hasSuffix("\r\n\r\n"))
        let empty = render(LocalResponse(status: 204), "DELETE / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(!empty.contains("Content-Length"))
        #expect(empty.hasSuffix("\r\n\r\n"))
    }

    @Test func corsHeadersFollowTheAnswersOwn() {
        let text = render(
            .json(200, []), "GET / HTTP/1.1\r\nHost: a\r\n\r\n", cors: [("Access-Control-Allow-Origin", "https://o")])
        let own = text.range(of: "Content-Type:")!.lowerBound
        let cors = text.range(of: "Access-Control-Allow-Origin: https://o\r\n")!.lowerBound
        #expect(own < cors)
    }

    @Test func anAnswerThatMustCloseSaysSo() {
        var (machine, head) = received("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        machine.requestClose()
        var out: [UInt8] = []
        LocalAnswerWriter(
            response: .error(400, "invalid_request", "x"), date: [], corsHeaders: [], requestID: [],
            keepAlive: machine.responseStarted(), requestMethod: head.method, requestVersion: head.version
        ).write(into: &out)
        #expect(String(decoding: out, as: UTF8.self).contains("\r\nConnection: close\r\n"))
        #expect(machine.responseEnded() == .closeAfterFlush)
    }
}
