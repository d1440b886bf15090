import HTTP1
import XCTest

@testable import HTTPClient

final class ResponseReaderTests: XCTestCase {
    private func read(_ parts: [String], max: Int = 1024, close: Bool = false) throws -> HTTPResponse? {
        var r = ResponseReader(maxBodyBytes: max)
        for p in parts {
            if case .complete(let resp) = try r.feed(Array(p.utf8)) { return resp }
        }
        if close, case .complete(let resp) = try r.closed() { return resp }
        return nil
    }

    func testContentLengthSplitAnywhere() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"keys\":[]}"
        for cut in 1..<text.utf8.count {
            let bytes = Array(text.utf8)
            var r = ResponseReader(maxBodyBytes: 100)
            XCTAssertEqual(try r.feed(Array(bytes[..<cut])), .needMore, "cut \(cut)")
            guard case .complete(let resp) = try r.feed(Array(bytes[cut...])) else { return XCTFail("cut \(cut)") }
            XCTAssertEqual(resp.status, 200)
            XCTAssertEqual(String(decoding: resp.body, as: UTF8.self), "{\"keys\":[]}")
            XCTAssertEqual(resp.header("Content-Type"), "application/json")
        }
    }

    func testChunkedBody() throws {
        let resp = try read([
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n", "2\r\nef\r\n0\r\n\r\n",
        ])
        XCTAssertEqual(resp.map { String(decoding: $0.body, as: UTF8.self) }, "abcdef")
    }

    func testInterimAnswerSkipped() throws {
        let resp = try read(["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"])
        XCTAssertEqual(resp?.status, 204)
    }

    func testBodyUntilClose() throws {
        XCTAssertNil(try read(["HTTP/1.1 200 OK\r\n\r\nabc"]))
        let resp = try read(["HTTP/1.1 200 OK\r\n\r\nabc"], close: true)
        XCTAssertEqual(resp?.body, Array("abc".utf8))
    }

    func testTruncatedLengthIsAnError() {
        XCTAssertThrowsError(try read(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"], close: true)) {
            XCTAssertEqual($0 as? HTTPClientError, .truncatedResponse)
        }
        XCTAssertThrowsError(try read(["HTTP/1.1 200 OK\r\nContent-Le"], close: true)) {
            XCTAssertEqual($0 as? HTTPClientError, .truncatedResponse)
        }
    }

    func testSizeLimits() {
        XCTAssertThrowsError(try read(["HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n"], max: 1000)) {
            XCTAssertEqual($0 as? HTTPClientError, .responseTooLarge)
        }
        let big = String(repeating: "a", count: 600)
        XCTAssertThrowsError(
            try read(
                ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n\(big)\r\n258\r\n\(big)\r\n"], max: 1000)
        ) { XCTAssertEqual($0 as? HTTPClientError, .responseTooLarge) }
        XCTAssertThrowsError(try read(["HTTP/1.1 200 OK\r\n\r\n", big, big], max: 1000)) {
            XCTAssertEqual($0 as? HTTPClientError, .responseTooLarge)
        }
        // An endless head is refused once past the head limits, not buffered forever.
        let header = "X-A: " + String(repeating: "b", count: 1000) + "\r\n"
        XCTAssertThrowsError(try read(["HTTP/1.1 200 OK\r\n"] + Array(repeating: header, count: 40))) {
            XCTAssertEqual($0 as? HTTPClientError, .responseTooLarge)
        }
    }

    func testMalformedAnswers() {
        for bad in [
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 101 Switching Protocols\r\n\r\n",
            "NOT HTTP\r\n\r\n",
        ] {
            XCTAssertThrowsError(try read([bad], close: true), bad) { e in
                guard case .malformedResponse = e as? HTTPClientError else { return XCTFail("\(bad): \(e)") }
            }
        }
    }
}

final class HTTPClientURLTests: XCTestCase {
    func testParsing() {
        let u = HTTPClientURL("https://IdP.example.com/realms/x/.well-known/openid-configuration")
        XCTAssertEqual(u?.isTLS, true)
        XCTAssertEqual(u?.host, "idp.example.com")
        XCTAssertEqual(u?.port, 443)
        XCTAssertEqual(u?.target, "/realms/x/.well-known/openid-configuration")
        XCTAssertEqual(u?.authority, "idp.example.com")
        let v = HTTPClientURL("http://127.0.0.1:8081?x=1")
        XCTAssertEqual(v?.target, "/?x=1")
        XCTAssertEqual(v?.authority, "127.0.0.1:8081")
        XCTAssertEqual(HTTPClientURL("http://[::1]:9000/k")?.host, "::1")
        for bad in [
            "ftp://x/", "https://", "https://user@host/", "https://host:0/", "https://host:99999/", "https://h/a b",
            "https://h/#f", "https://host:/",
        ] {
            XCTAssertNil(HTTPClientURL(bad), bad)
        }
    }

    func testRedirectOrigin() {
        let u = HTTPClientURL("https://idp.example.com/a")!
        XCTAssertTrue(u.resolving("/b")!.sameOrigin(as: u))
        XCTAssertTrue(u.resolving("https://IDP.example.com:443/c")!.sameOrigin(as: u))
        XCTAssertFalse(u.resolving("http://idp.example.com/c")!.sameOrigin(as: u))
        XCTAssertFalse(u.resolving("https://evil.example/c")!.sameOrigin(as: u))
        XCTAssertFalse(u.resolving("https://idp.example.com:8443/c")!.sameOrigin(as: u))
        XCTAssertNil(u.resolving("//evil.example/c"))
    }
}
