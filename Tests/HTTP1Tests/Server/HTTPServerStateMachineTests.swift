import HTTP1
import XCTest

final class HTTPServerStateMachineTests: XCTestCase {
    typealias Config = HTTPServerStateMachine.Configuration

    // MARK: Framing

    func testGetWithoutBodyIsHeadThenBodyEndThenPaused() {
        var s = EmbeddedServer()
        XCTAssertEqual(s.feed("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"), [.head("GET", "/a"), .bodyEnd, .paused])
        XCTAssertTrue(s.machine.requestComplete)
        XCTAssertEqual(s.machine.requestCount, 1)
    }

    func testHeadArrivingByteByByte() {
        var s = EmbeddedServer()
        let text = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        var all: [EmbeddedServer.Output] = []
        for byte in text.utf8 {
            all += s.feed(String(decoding: [byte], as: UTF8.self))
        }
        XCTAssertEqual(all.filter { $0 != .needInput }, [.head("GET", "/a"), .bodyEnd, .paused])
        XCTAssertEqual(all.filter { $0 == .needInput }.count, text.utf8.count - 1)
    }

    func testContentLengthBodyInPieces() {
        var s = EmbeddedServer()
        XCTAssertEqual(
            s.feed("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello"),
            [.head("POST", "/p"), .body("hello"), .needInput])
        XCTAssertEqual(s.machine.timer, .body)
        XCTAssertEqual(s.feed("worldGET"), [.body("world"), .bodyEnd, .paused])
        XCTAssertEqual(s.buffered, Array("GET".utf8), "the next request's bytes stay buffered")
        XCTAssertEqual(s.machine.bodyBytes, 10)
    }

    func testChunkedBodyIsDecoded() {
        var s = EmbeddedServer()
        let out = s.feed(
            "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        XCTAssertEqual(out, [.head("POST", "/p"), .body("hello"), .body(" world"), .bodyEnd, .paused])
    }

    func testChunkedBodySplitEverywhere() {
        let text =
            "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n1\r\n!\r\n0\r\nT: v\r\n\r\n"
        for cut in 1..<text.utf8.count {
            var s = EmbeddedServer()
            let bytes = Array(text.utf8)
            var out = s.feed(String(decoding: bytes[..<cut], as: UTF8.self))
            out += s.feed(String(decoding: bytes[cut...], as: UTF8.self))
            let body = out.compactMap { if case .body(let b) = $0 { return b } else { return nil } }.joined()
            XCTAssertEqual(body, "hello!", "cut at \(cut)")
            XCTAssertEqual(out.last, .paused, "cut at \(cut)")
            XCTAssertTrue(out.contains(.bodyEnd), "cut at \(cut)")
        }
    }

    func testContentLengthWithChunkedIs400AndNothingFollows() {
        var s = EmbeddedServer()
        let out = s.feed(
            "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello")
        XCTAssertEqual(out, [.error(400)])
        XCTAssertEqual(s.machine.state, .closing)
        XCTAssertEqual(s.run(), [.paused], "no event after the error")
        XCTAssertFalse(s.machine.keepAlive)
        XCTAssertEqual(s.machine.responseEnded(), .closeAfterFlush)
    }

    func testBadContentLengthIs400() {
        for value in ["abc", "-1", "1,2", "12 34", "+5"] {
            var s = EmbeddedServer()
            XCTAssertEqual(
                s.feed("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: \(value)\r\n\r\n"), [.error(400)], value)
        }
    }

    func testBadChunkSizeIs400() {
        var s = EmbeddedServer()
        let out = s.feed("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        XCTAssertEqual(out, [.head("POST", "/p"), .error(400)])
        XCTAssertEqual(s.machine.responseEnded(), .closeAfterFlush)
    }

    func testUnsupportedTransferCodingIs501() {
        var s = EmbeddedServer()
        XCTAssertEqual(s.feed("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"), [.error(501)])
    }

    // MARK: Keep-alive

    func testHTTP11KeepsAliveAndReadsTheNextRequest() {
        var s = EmbeddedServer()
        _ = s.feed("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(s.machine.responseStarted())
        XCTAssertEqual(s.machine.responseEnded(), .readNext)
        XCTAssertEqual(s.machine.state, .idle)
        XCTAssertEqual(s.machine.timer, .idle)
    }

    func testHTTP10ClosesUnlessKeepAlive() {
        var s = EmbeddedServer()
        _ = s.feed("GET /a HTTP/1.0\r\n\r\n")
        XCTAssertFalse(s.machine.responseStarted())
        XCTAssertEqual(s.machine.responseEnded(), .closeAfterFlush)

        var k = EmbeddedServer()
        _ = k.feed("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertTrue(k.machine.responseStarted())
        XCTAssertEqual(k.machine.responseEnded(), .readNext)
    }

    func testConnectionCloseCloses() {
        var s = EmbeddedServer()
        _ = s.feed("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertFalse(s.machine.keepAlive)
        XCTAssertEqual(s.machine.responseEnded(), .closeAfterFlush)
        XCTAssertEqual(s.run(), [.paused])
    }

    func testMaxRequestsPerConnection() {
        var s = EmbeddedServer(Config(maxRequestsPerConnection: 3))
        for i in 1...3 {
            XCTAssertEqual(s.feed("GET /\(i) HTTP/1.1\r\nHost: x\r\n\r\n").first, .head("GET", "/\(i)"))
            let keep = s.machine.responseStarted()
            XCTAssertEqual(keep, i < 3, "request \(i)")
            XCTAssertEqual(s.machine.responseEnded(), i < 3 ? .readNext : .closeAfterFlush)
        }
    }

    func testDrainingClosesIdleNowAndBusyAfterTheResponse() {
        var idle = EmbeddedServer()
        XCTAssertEqual(idle.machine.drain(), .close)

        var busy = EmbeddedServer()
        _ = busy.feed("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(busy.machine.drain(), .none)
        XCTAssertFalse(busy.machine.responseStarted(), "the answer says Connection: close")
        XCTAssertEqual(busy.machine.responseEnded(), .closeAfterFlush)
    }

    func testAnswerBeforeTheBodyWasReadForcesClose() {
        var s = EmbeddedServer()
        _ = s.feed("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        XCTAssertFalse(s.machine.responseStarted(), "unread body bytes cannot be told from the next request")
        XCTAssertEqual(s.machine.responseEnded(), .closeAfterFlush)
    }

    func testRequestCloseFromTheExchange() {
        var s = EmbeddedServer()
        _ = s.feed("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        s.machine.requestClose()
        XCTAssertFalse(s.machine.responseStarted())
        XCTAssertEqual(s.machine.responseEnded(), .closeAfterFlush)
    }

    // MARK: Pipelining

    func testTwoPipelinedRequestsAreAnsweredInOrder() {
        var s = EmbeddedServer()
        let out = s.feed("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(out, [.head("GET", "/1"), .bodyEnd, .paused], "the second waits for the first's response")
        XCTAssertEqual(s.run(), [.paused], "still waiting while the first response is being written")
        XCTAssertTrue(s.machine.responseStarted())
        XCTAssertEqual(s.run(), [.paused])
        XCTAssertEqual(s.machine.responseEnded(), .readNext)
        XCTAssertEqual(s.run(), [.head("GET", "/2"), .bodyEnd, .paused])
        XCTAssertEqual(s.machine.requestCount, 2)
    }

    func testPipelinedAfterABody() {
        var s = EmbeddedServer()
        let out = s.feed("POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nokGET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(out, [.head("POST", "/1"), .body("ok"), .bodyEnd, .paused])
        _ = s.machine.responseStarted()
        XCTAssertEqual(s.machine.responseEnded(), .readNext)
        XCTAssertEqual(s.run(), [.head("GET", "/2"), .bodyEnd, .paused])
    }

    // MARK: Expect

    func testContinueOnlyWhenTheBodyIsWanted() {
        var s = EmbeddedServer()
        _ = s.feed("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertFalse(s.machine.continueSent, "not before the exchange asks for the body")
        XCTAssertTrue(s.machine.bodyWanted(buffered: 0))
        XCTAssertFalse(s.machine.bodyWanted(buffered: 0), "only once")
        XCTAssertEqual(s.feed("abcd"), [.body("abcd"), .bodyEnd, .paused])
    }

    func testNoContinueWhenRefusedOrAlreadySending() {
        var refused = EmbeddedServer()
        _ = refused.feed("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        // The exchange answers (401, 413...) without asking for the body.
        XCTAssertFalse(refused.machine.responseStarted())
        XCTAssertFalse(refused.machine.continueSent)
        XCTAssertEqual(refused.machine.responseEnded(), .closeAfterFlush)

        var eager = EmbeddedServer()
        _ = eager.feed("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nab")
        XCTAssertFalse(eager.machine.bodyWanted(buffered: 0), "the client is sending already")

        var noBody = EmbeddedServer()
        _ = noBody.feed("GET /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertFalse(noBody.machine.bodyWanted(buffered: 0))
    }

    func testUnsupportedExpectation() {
        var s = EmbeddedServer()
        _ = s.feed("GET /p HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n")
        XCTAssertTrue(s.machine.expectationFailed)
        var ok = EmbeddedServer()
        _ = ok.feed("GET /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertFalse(ok.machine.expectationFailed)
    }

    // MARK: Body limits

    func testDeclaredLengthAboveTheLimitIs413() {
        var s = EmbeddedServer()
        _ = s.feed("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n")
        XCTAssertEqual(s.machine.setBodyLimit(10, contentLength: s.head.contentLength), .bodyTooLarge)
        XCTAssertEqual(HTTPServerError.bodyTooLarge.status, 413)
        var fits = EmbeddedServer()
        _ = fits.feed("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
        XCTAssertNil(fits.machine.setBodyLimit(10, contentLength: fits.head.contentLength))
    }

    func testChunkedGrowingPastTheLimitIs413() {
        var s = EmbeddedServer()
        _ = s.feed("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        XCTAssertNil(s.machine.setBodyLimit(8, contentLength: s.head.contentLength))
        XCTAssertEqual(s.feed("5\r\nhello\r\n"), [.body("hello"), .needInput])
        XCTAssertEqual(s.feed("4\r\nmore\r\n"), [.error(413)])
        XCTAssertEqual(s.run(), [.paused])
        XCTAssertFalse(s.machine.keepAlive)
    }

    // MARK: Errors and timeouts

    func testMalformedHeadIs400ThenClose() {
        var s = EmbeddedServer()
        XCTAssertEqual(s.feed("GET / HTTP/1.1\nHost: x\n\n"), [.error(400)])
        XCTAssertEqual(s.machine.responseEnded(), .closeAfterFlush)
        XCTAssertEqual(s.machine.timer, .none)
    }

    func testHeadLimits() {
        var s = EmbeddedServer(Config(limits: HTTPLimits(maxRequestLine: 32, maxHeaderBytes: 64)))
        XCTAssertEqual(s.feed("GET /" + String(repeating: "a", count: 40)), [.error(414)])
        var h = EmbeddedServer(Config(limits: HTTPLimits(maxRequestLine: 32, maxHeaderBytes: 64)))
        XCTAssertEqual(h.feed("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 80)), [.error(431)])
    }

    func testAHeadAtTheHeaderLimitIsAcceptedHoweverItIsSplit() {
        // Field lines of exactly maxHeaderBytes (64): "Host: x\r\n" (9) + "X: " + 50 + "\r\n" (55).
        let text = "GET / HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "v", count: 50) + "\r\n\r\n"
        let config = Config(limits: HTTPLimits(maxRequestLine: 64, maxHeaderBytes: 64))
        var whole = EmbeddedServer(config)
        XCTAssertEqual(whole.feed(text).first, .head("GET", "/"))
        var split = EmbeddedServer(config)
        XCTAssertEqual(
            split.feed(String(text.utf8.dropLast())!), [.needInput], "the final CR alone is not over the limit")
        XCTAssertEqual(split.feed("\n").first, .head("GET", "/"))
        var over = EmbeddedServer(config)
        XCTAssertEqual(over.feed(String(text.utf8.dropLast(2))! + "Y"), [.error(431)], "a further field line is")
    }

    func testHeaderTimeoutIs408() {
        var s = EmbeddedServer()
        XCTAssertEqual(s.machine.timer, .idle)
        XCTAssertEqual(s.feed("GET / HT"), [.needInput])
        XCTAssertEqual(s.machine.timer, .header)
        XCTAssertEqual(s.machine.timerFired(), .respond(.headerTimeout))
        XCTAssertEqual(HTTPServerError.headerTimeout.status, 408)
        XCTAssertEqual(s.run(), [.paused])
        XCTAssertEqual(s.machine.responseEnded(), .closeAfterFlush)
    }

    func testIdleTimeoutClosesSilently() {
        var s = EmbeddedServer()
        XCTAssertEqual(s.machine.timerFired(), .close)
        XCTAssertEqual(s.machine.state, .closed)
    }

    func testBodyTimeoutIs408() {
        var s = EmbeddedServer()
        _ = s.feed("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
        XCTAssertEqual(s.machine.timerFired(), .respond(.bodyTimeout))
    }

    func testTimerWhileTheExchangeRunsIsTheExchangesBusiness() {
        var s = EmbeddedServer()
        _ = s.feed("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(s.machine.timer, .none)
        XCTAssertEqual(s.machine.timerFired(), .none)
    }

    // MARK: Half-close

    func testEndOfInputBetweenRequestsCloses() {
        var s = EmbeddedServer()
        XCTAssertEqual(s.machine.inputEnded(), .close)
    }

    func testEndOfInputMidHeadOrMidBodyCloses() {
        var head = EmbeddedServer()
        _ = head.feed("GET / HTTP/1.1\r\n")
        XCTAssertEqual(head.machine.inputEnded(), .close)

        var body = EmbeddedServer()
        _ = body.feed("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
        XCTAssertEqual(body.machine.inputEnded(), .close)
        XCTAssertEqual(body.run(), [.paused])
    }

    func testHalfCloseAfterACompleteRequestStillGetsTheAnswer() {
        var s = EmbeddedServer()
        _ = s.feed("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(s.machine.inputEnded(), .none, "the response still goes out")
        XCTAssertFalse(s.machine.responseStarted(), "and says Connection: close")
        XCTAssertEqual(s.machine.responseEnded(), .closeAfterFlush)
    }
}
