import HTTP1
import Testing

@Suite("Response head parsing and framing")
struct ResponseHeadParserTests {
    @Test func framingRules() throws {
        let ok = try parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        #expect(ok.framing(requestMethod: .get) == .length(5))
        #expect(ok.framing(requestMethod: .head) == .none)
        let chunked = try parseResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(chunked.framing(requestMethod: .get) == .chunked)
        let close = try parseResponse("HTTP/1.1 200 OK\r\n\r\n")
        #expect(close.framing(requestMethod: .get) == .untilClose)
        let noContent = try parseResponse("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n")
        #expect(noContent.framing(requestMethod: .get) == .none)
        let notModified = try parseResponse("HTTP/1.1 304 Not Modified\r\n\r\n")
        #expect(notModified.framing(requestMethod: .get) == .none)
        let cont = try parseResponse("HTTP/1.1 100 Continue\r\n\r\n")
        #expect(cont.isInformational)
        #expect(cont.framing(requestMethod: .post) == .none)
    }

    @Test func versionsAndKeepAlive() throws {
        #expect(try parseResponse("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").keepAlive == false)
        #expect(try parseResponse("HTTP/1.0 200 OK\r\n\r\n").keepAlive == false)
        #expect(try parseResponse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n").keepAlive == true)
        #expect(try parseResponse("HTTP/1.1 200\r\n\r\n").status == 200)
        #expect(try parseResponse("HTTP/1.1 404 \r\n\r\n").status == 404)
    }

    @Test(arguments: [
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
    ])
    func refused(_ text: String) {
        var failed = false
        do { _ = try parseResponse(text) } catch { failed = true }
        #expect(failed, "\(text.debugDescription)")
    }
}
