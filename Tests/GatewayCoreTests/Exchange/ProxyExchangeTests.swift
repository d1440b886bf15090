import EventLoop
import HTTP1
import Testing

@testable import GatewayCore

/// The proxy exchange without sockets: a scripted upstream (`ScriptedExchange`) and a
/// recording client sink. Each test names the rule it holds.
@Suite("Proxy exchange")
struct ProxyExchangeTests {
    static let okFive = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Up: 1\r\n\r\nhello"

    // MARK: Framing

    @Test func aContentLengthBodyIsRelayedAsItIsAtEverySplit() {
        for pieces in splits(Self.okFive) {
            var s = ScriptedExchange()
            #expect(s.feed(pieces) == .complete)
            #expect(s.sink.started == [200])
            #expect(s.sink.headText.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(s.sink.headText.contains("\r\nContent-Length: 5\r\n"))
            #expect(s.sink.headText.contains("\r\nX-Up: 1\r\n"))
            #expect(s.sink.headText.contains("\r\nX-Request-Id: r1\r\n"))
            #expect(s.sink.headText.hasSuffix("\r\n\r\n"))
            #expect(!s.sink.headText.contains("Transfer-Encoding"))
            #expect(s.sink.bodyText == "hello")
            #expect(s.sink.ends == 1 && s.sink.outOfOrder == 0)
            #expect(s.buffered.isEmpty)
            #expect(s.refusal == nil)
        }
    }

    @Test func bytesPastTheContentLengthAreNotRelayedAndStopPooling() {
        var s = ScriptedExchange()
        #expect(s.feed(Self.okFive + "HTTP/1.1 200 OK\r\n") == .complete)
        #expect(s.sink.bodyText == "hello")
        #expect(s.buffered.count == 17)
        #expect(s.refusal == .leftoverBytes)
    }

    @Test func aChunkedBodyIsReframedInTheGatewaysOwnChunksAtEverySplit() {
        let upstream =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=v\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        for pieces in splits(upstream) {
            var s = ScriptedExchange()
            #expect(s.feed(pieces) == .complete)
            #expect(s.sink.headText.contains("\r\nTransfer-Encoding: chunked\r\n"))
            #expect(!s.sink.headText.contains("Content-Length"))
            // Extensions and trailers are the upstream's framing, not the client's.
            #expect(!s.sink.bodyText.contains("name=v") && !s.sink.bodyText.contains("X-Trailer"))
            #expect(dechunk(s.sink.body) == "hello world")
            #expect(s.sink.ends == 1 && s.sink.outOfOrder == 0)
            #expect(s.refusal == nil)
        }
        var whole = ScriptedExchange()
        whole.feed(upstream)
        #expect(whole.sink.bodyText == "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    }

    @Test func aChunkedBodyGoesRawToAnHTTP10ClientWhichIsClosedAfter() {
        var s = ScriptedExchange(version: .http10)
        #expect(s.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n") == .complete)
        #expect(!s.sink.headText.contains("Transfer-Encoding"))
        #expect(s.sink.headText.contains("\r\nConnection: close\r\n"))
        #expect(s.sink.closeAfter)
        #expect(s.sink.bodyText == "abc")
    }

    @Test func aCloseDelimitedBodyEndsAtTheUpstreamsCloseAndIsNotPooled() {
        for pieces in splits("HTTP/1.1 200 OK\r\nX-A: b\r\n\r\nabcdef") {
            var s = ScriptedExchange()
            #expect(s.feed(pieces) == .readMore)
            #expect(s.sink.ends == 0)
            #expect(s.eof() == .complete)
            #expect(s.sink.headText.contains("\r\nTransfer-Encoding: chunked\r\n"))
            #expect(dechunk(s.sink.body) == "abcdef")
            #expect(s.sink.ends == 1 && s.sink.outOfOrder == 0)
            #expect(s.refusal == .closeDelimited)
        }
    }

    @Test func aHeadRequestAnswerHasNoBodyButKeepsItsLength() {
        var s = ScriptedExchange(method: .head)
        #expect(s.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n") == .complete)
        #expect(s.sink.headText.contains("\r\nContent-Length: 10\r\n"))
        #expect(s.sink.body.isEmpty && s.sink.ends == 1)
        #expect(s.refusal == nil)
    }

    @Test(arguments: [204, 304])
    func noBodyStatusesEndAtTheHeadAndABodyAfterIsLeftover(status: Int) {
        var s = ScriptedExchange()
        #expect(s.feed("HTTP/1.1 \(status) X\r\nContent-Length: 3\r\n\r\nabc") == .complete)
        #expect(s.sink.started == [status])
        #expect(s.sink.body.isEmpty && s.sink.ends == 1)
        #expect(s.buffered == Array("abc".utf8))
        #expect(s.refusal == .leftoverBytes)
        #expect(!s.sink.headText.contains("Transfer-Encoding"))
    }

    @Test func informationalAnswersAreSkippedAtEverySplit() {
        let upstream =
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
        for pieces in splits(upstream) {
            var s = ScriptedExchange()
            #expect(s.feed(pieces) == .complete)
            #expect(s.sink.started == [201])
            #expect(s.sink.headText.hasPrefix("HTTP/1.1 201 Created\r\n"))
            #expect(!s.sink.headText.contains("Link"))
            #expect(s.sink.bodyText == "ok")
        }
    }

    // MARK: Keep-alive, both sides

    @Test func theUpstreamsConnectionCloseStopsPooling() {
        var close = ScriptedExchange()
        close.feed("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        #expect(close.refusal == .upstreamClosing)
        // Hop-by-hop: the client's keep-alive is the server side's, not the upstream's.
        #expect(!close.sink.headText.contains("Connection: close"))
        var http10 = ScriptedExchange()
        http10.feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(http10.refusal == .upstreamClosing)
        var keep = ScriptedExchange()
        keep.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(keep.refusal == nil)
        #expect(
            keep.exchange.reuseRefusal(requestBodyDone: false, leftoverBytes: 0, unsentBytes: 0) == .requestUnfinished)
        #expect(keep.exchange.reuseRefusal(requestBodyDone: true, leftoverBytes: 0, unsentBytes: 1) == .unsentOutput)
        #expect(
            keep.exchange.reuseRefusal(requestBodyDone: true, leftoverBytes: 0, unsentBytes: 0, pending: .endOfStream)
                == .unreadInput)
    }

    @Test func theServerSidesCloseDecisionIsStatedInTheHead() {
        var s = ScriptedExchange()
        s.sink.keepAlive = false
        s.feed(Self.okFive)
        #expect(s.sink.headText.contains("\r\nConnection: close\r\n"))
        #expect(!s.sink.closeAfter, "the body is framed: the server side, not the framing, closes")
    }

    @Test func routeRulesAndCORSRewriteTheHead() {
        var rewrite = ProxyExchange.Rewrite(requestID: Array("id9".utf8))
        rewrite.removed = HeaderNameSet(["x-secret"])
        rewrite.routeHeaders = [("X-Route", "r")]
        rewrite.corsHeaders = [("Access-Control-Allow-Origin", "https://a.example")]
        rewrite.dropCORS = true
        var s = ScriptedExchange(rewrite: rewrite)
        s.feed("HTTP/1.1 200 OK\r\nX-Secret: s\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 0\r\n\r\n")
        #expect(!s.sink.headText.contains("X-Secret"))
        #expect(!s.sink.headText.contains("Origin: *"))
        #expect(s.sink.headText.contains("\r\nX-Route: r\r\n"))
        #expect(s.sink.headText.contains("\r\nAccess-Control-Allow-Origin: https://a.example\r\n"))
        #expect(s.sink.headText.contains("\r\nX-Request-Id: id9\r\n"))
    }

    // MARK: Early EOF, failures, retry

    @Test func anEOFBeforeAnyByteRetriesOnceAReplayableRequestOnAReusedConnection() {
        var s = ScriptedExchange()
        #expect(s.eof(reused: true) == .retry)
        #expect(s.exchange.attempts == 2)
        // The fresh connection is not reused, and one retry is all there is anyway.
        #expect(s.eof(reused: true) == .fail(.closedWithoutAnswer))
        #expect(s.sink.started.isEmpty && s.sink.head.isEmpty)
    }

    @Test func anEOFIsA502WhenARetryIsNotSafe() {
        var fresh = ScriptedExchange()
        #expect(fresh.eof(reused: false) == .fail(.closedWithoutAnswer))
        var post = ScriptedExchange(method: .post, replayable: false)
        #expect(post.eof(reused: true) == .fail(.closedWithoutAnswer))
        var partial = ScriptedExchange()
        #expect(partial.feed("HTTP/1.1 200") == .readMore)
        #expect(partial.eof(reused: true) == .fail(.closedWithoutAnswer))
        var bodySent = ScriptedExchange()
        bodySent.exchange.requestBody(UnsafeRawBufferPointer(start: nil, count: 0), to: FakeUpstream())
        #expect(!bodySent.exchange.requestBodySent, "an empty part is no body")
        Array("x".utf8).withUnsafeBytes { bodySent.exchange.requestBody($0, to: FakeUpstream()) }
        #expect(bodySent.eof(reused: true) == .fail(.closedWithoutAnswer))
        #expect(ProxyFailure.closedWithoutAnswer.status == 502)
    }

    @Test func anUpstreamFailureRetriesByTheSameRule() {
        var s = ScriptedExchange()
        #expect(s.exchange.upstreamFailed(.io(errno: 104), reused: true) == .retry)
        #expect(s.exchange.upstreamFailed(.io(errno: 104), reused: false) == .fail(.unavailable(.io(errno: 104))))
        var fresh = ScriptedExchange()
        #expect(
            fresh.exchange.upstreamFailed(.connectFailed(errno: 111), reused: false)
                == .fail(.unavailable(.connectFailed(errno: 111))))
        #expect(ProxyFailure.unavailable(.connectFailed(errno: 111)).status == 502)
        var seen = ScriptedExchange()
        seen.feed("HTTP/1.1 2")
        #expect(seen.exchange.upstreamFailed(.io(errno: 104), reused: true) == .fail(.unavailable(.io(errno: 104))))
        var relaying = ScriptedExchange()
        relaying.feed("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc")
        #expect(relaying.exchange.upstreamFailed(.io(errno: 104), reused: true) == .abort)
    }

    @Test func anEOFInsideAFramedBodyAbortsTheClient() {
        var length = ScriptedExchange()
        #expect(length.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc") == .readMore)
        #expect(length.eof(reused: true) == .abort)
        #expect(length.sink.ends == 0)
        var chunked = ScriptedExchange()
        #expect(chunked.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab") == .readMore)
        #expect(chunked.eof() == .abort)
        #expect(chunked.sink.ends == 0)
    }

    @Test func aMalformedHeadIsA502WithNothingSent() {
        for bad in [
            "HTTP/1.1 2x0 OK\r\n\r\n", "SMTP ready\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        ] {
            var s = ScriptedExchange()
            #expect(s.feed(bad) == .fail(.malformedResponse), "\(bad)")
            #expect(s.sink.started.isEmpty && s.sink.head.isEmpty)
        }
        #expect(ProxyFailure.malformedResponse.status == 502)
    }

    @Test func anOversizedHeadIsA502() {
        var s = ScriptedExchange()
        var action = s.feed("HTTP/1.1 200 OK\r\nX-Big: ")
        var sent = 0
        while action == .readMore && sent < 100_000 {
            action = s.feed([[UInt8](repeating: UInt8(ascii: "a"), count: 4096)])
            sent += 4096
        }
        #expect(action == .fail(.malformedResponse))
        #expect(sent > 8192, "a head is taken up to the limits")
        #expect(sent <= 65536 + 4096)
        #expect(s.sink.head.isEmpty)
    }

    @Test func aBrokenChunkAfterTheHeadAborts() {
        var s = ScriptedExchange()
        #expect(s.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") == .abort)
        #expect(s.sink.ends == 0)
    }

    // MARK: Timeouts

    @Test func theTimerAnswers504Or408OrAborts() {
        var s = ScriptedExchange()
        #expect(
            s.exchange.timedOut(connecting: true, requestComplete: true, upstreamBackedUp: false)
                == .fail(.unavailable(.connectTimedOut)))
        #expect(ProxyFailure.unavailable(.connectTimedOut).status == 504)
        #expect(
            s.exchange.timedOut(connecting: false, requestComplete: false, upstreamBackedUp: false)
                == .fail(.requestBodyTimeout))
        #expect(ProxyFailure.requestBodyTimeout.status == 408)
        // The upstream not taking the body is the upstream's slowness, not the client's.
        #expect(
            s.exchange.timedOut(connecting: false, requestComplete: false, upstreamBackedUp: true)
                == .fail(.responseTimeout))
        #expect(
            s.exchange.timedOut(connecting: false, requestComplete: true, upstreamBackedUp: false)
                == .fail(.responseTimeout))
        #expect(ProxyFailure.responseTimeout.status == 504)
        var relaying = ScriptedExchange()
        relaying.feed("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc")
        #expect(relaying.exchange.timedOut(connecting: false, requestComplete: true, upstreamBackedUp: false) == .abort)
        #expect(
            relaying.exchange.timedOut(connecting: false, requestComplete: false, upstreamBackedUp: false) == .abort)
    }

    // MARK: Protocol switch

    static let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    static let switching =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n\r\n"

    @Test func aValid101ToAnAskedUpgradeSwitchesToATunnel() {
        #expect(
            String(decoding: WebSocketAccept.value(forKey: Array("dGhlIHNhbXBsZSBub25jZQ==".utf8)), as: UTF8.self)
                == Self.accept)
        var s = ScriptedExchange(upgrade: true, accept: Self.accept)
        #expect(s.feed(Self.switching + "\u{81}\u{01}x") == .tunnel)
        // The frame after the head is the tunnel's, left for the driver to pass on.
        #expect(s.buffered == Array("\u{81}\u{01}x".utf8))
        #expect(s.sink.head.isEmpty, "the driver checks the grant before the head goes out")
        s.exchange.sendSwitchHead(scratch: &s.scratch.buffer, to: s.sink)
        #expect(s.sink.headText.hasPrefix("HTTP/1.1 101 "))
        #expect(s.sink.headText.contains("\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"))
        #expect(s.sink.closeAfter)
        #expect(s.sink.started.isEmpty)
        #expect(s.refusal == .upgraded)
    }

    @Test func a101NotAskedForOrNotAHandshakeAnswerIsA502() {
        var unasked = ScriptedExchange()
        #expect(unasked.feed(Self.switching) == .fail(.unaskedSwitch))
        var wrong = ScriptedExchange(upgrade: true, accept: "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        #expect(wrong.feed(Self.switching) == .fail(.badSwitch))
        #expect(ProxyFailure.badSwitch.status == 502 && ProxyFailure.unaskedSwitch.status == 502)
        #expect(unasked.sink.head.isEmpty && wrong.sink.head.isEmpty)
    }

    // MARK: Request body

    /// A chunked request through the server state machine into the exchange, as the
    /// driver relays it; returns the action of a refused body, if any.
    private func relayRequest(
        _ exchange: inout ProxyExchange, _ upstream: FakeUpstream, limit: Int64, _ text: String
    ) -> ProxyAction? {
        var machine = HTTPServerStateMachine()
        var head = RequestHead()
        var bytes = Array(text.utf8)
        while true {
            let (consumed, event) = bytes.withUnsafeBytes { machine.next($0, into: &head) }
            switch event {
            case .head:
                #expect(machine.setBodyLimit(limit, contentLength: head.contentLength) == nil)
            case .body(let range):
                bytes.withUnsafeBytes {
                    exchange.requestBody(UnsafeRawBufferPointer(rebasing: $0[range]), to: upstream)
                }
            case .bodyEnd:
                exchange.requestBodyEnd(to: upstream)
                return nil
            case .error(let e):
                return exchange.requestBodyFailed(e)
            case .needInput, .paused:
                return nil
            }
            bytes.removeFirst(consumed)
        }
    }

    private func chunkedExchange() -> ProxyExchange {
        var e = ProxyExchange()
        e.start(ProxyExchange.Request(method: .post, chunkedBody: true), rewrite: ProxyExchange.Rewrite())
        return e
    }

    static let chunkedPost =
        "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n8\r\nefghijkl\r\n0\r\n\r\n"

    @Test func aChunkedRequestBodyIsReframedForTheUpstream() {
        var e = chunkedExchange()
        let up = FakeUpstream()
        #expect(relayRequest(&e, up, limit: 100, Self.chunkedPost) == nil)
        #expect(!up.text.contains("x=y"))
        #expect(dechunk(up.bytes) == "abcdefghijkl")
        #expect(e.requestBodySent)
    }

    @Test func aRequestBodyOverTheLimitIs413BeforeTheAnswerAndAnAbortAfter() {
        var e = chunkedExchange()
        let up = FakeUpstream()
        let action = relayRequest(&e, up, limit: 10, Self.chunkedPost)
        #expect(action == .fail(.requestBody(.bodyTooLarge)))
        #expect(ProxyFailure.requestBody(.bodyTooLarge).status == 413)
        #expect(up.text.hasPrefix("4\r\nabcd\r\n"))
        #expect(!up.text.hasSuffix("0\r\n\r\n"), "a refused body is not ended for the upstream")

        // The upstream answered before reading the body: the head is out, so only closing is left.
        var answered = chunkedExchange()
        let sink = RecordingSink()
        let head = Array("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n".utf8)
        let scratch = Scratch()
        let headAction = head.withUnsafeBytes { answered.upstreamBytes($0, scratch: &scratch.buffer, to: sink).action }
        #expect(headAction == .readMore)
        #expect(relayRequest(&answered, FakeUpstream(), limit: 10, Self.chunkedPost) == .abort)
    }

    @Test func aContentLengthRequestBodyGoesAsItIs() {
        var e = ProxyExchange()
        e.start(ProxyExchange.Request(method: .put), rewrite: ProxyExchange.Rewrite())
        let up = FakeUpstream()
        #expect(relayRequest(&e, up, limit: 100, "PUT /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello") == nil)
        #expect(up.text == "hello")
    }
}
