import EventLoop
import HTTP1

/// The proxy half of one exchange, without I/O: the upstream's response parsed, its head
/// rewritten, its body relayed in the client's framing, and every decision a proxy makes on
/// the way (retry, 502/504, pool or close the upstream connection, switch to a tunnel). The
/// driver feeds it events (upstream bytes, upstream EOF or failure, client body bytes, its
/// timer) and carries out the `ProxyAction`s it returns; the response goes to an
/// `ExchangeResponseSink`. One per HTTP/1.1 request, kept by the connection and reset with
/// `start` so its buffers keep their capacity.
struct ProxyExchange {
    /// What the exchange needs to know of the request it relays.
    struct Request {
        var method: HTTPMethod = .get
        var version: HTTPVersion = .http11
        /// Safe to send again on a fresh connection: idempotent and without a body (SPEC §3).
        var replayable = false
        /// The request body is chunked: the upstream gets the gateway's own chunks.
        var chunkedBody = false
        /// A WebSocket handshake the route passes through, and the accept value its 101 must carry.
        var upgrade = false
        var webSocketAccept: [UInt8] = []
    }

    /// How the client's response head differs from the upstream's (route rules, CORS).
    struct Rewrite {
        var requestID: [UInt8] = []
        var removed = HeaderNameSet([])
        /// The route's `set_response_headers`.
        var routeHeaders: [(String, String)] = []
        /// CORS headers every answer to this request carries (not a 101).
        var corsHeaders: [(String, String)] = []
        /// The gateway answers CORS itself: the upstream's `Access-Control-*` fields go.
        var dropCORS = false
    }

    enum State {
        /// Waiting for the (final) response head.
        case head
        case body(Body)
        /// Switched (101): bytes are relayed unchanged by the driver.
        case tunnel
        /// The response ended, or the exchange failed.
        case done
    }

    enum Body {
        case length(remaining: Int64)
        case chunked(ChunkedDecoder)
        case untilClose
    }

    /// Limits for the upstream's head: larger is a malformed answer (502).
    static let headLimits = HTTPLimits(maxRequestLine: 8192, maxHeaderBytes: 65536, maxHeaderCount: 200)

    private(set) var request = Request()
    private(set) var rewrite = Rewrite()
    internal(set) var state = State.head
    /// Connections the request was sent on (a retry makes it 2).
    internal(set) var attempts = 0
    /// Any byte of the request body went to the upstream: no retry any more.
    internal(set) var requestBodySent = false
    /// Any byte of the answer arrived: no retry any more.
    private(set) var responseBytesSeen = false
    private(set) var responseHeadSent = false
    /// The body ended with the upstream's close: nothing can follow on that connection.
    internal(set) var closeDelimited = false
    private(set) var clientFraming = ClientFraming.asIs
    /// The upstream's (last parsed) head; kept across exchanges for its buffers.
    private(set) var response = ResponseHead()
    var scanner = HeadScanner()

    init() {}

    /// Begins an exchange: the request head is about to go to a first upstream connection.
    mutating func start(_ request: Request, rewrite: Rewrite) {
        self.request = request
        self.rewrite = rewrite
        state = .head
        attempts = 1
        requestBodySent = false
        responseBytesSeen = false
        responseHeadSent = false
        closeDelimited = false
        clientFraming = .asIs
        scanner.reset()
    }

    /// Drops what the last exchange held on to (route headers, request id), keeping buffers.
    mutating func end() {
        request = Request()
        rewrite = Rewrite()
        state = .done
    }

    // MARK: Upstream bytes

    /// Takes bytes the upstream sent (the whole unconsumed buffer). Returns how many were
    /// used: an incomplete head is left in place (`.readMore`, call again with more), and
    /// bytes past a complete answer or a 101 head are not part of this response.
    /// `scratch` is where the client's head is rendered (the worker's, shared by its connections).
    mutating func upstreamBytes<S: ExchangeResponseSink>(
        _ buf: UnsafeRawBufferPointer, scratch: inout HeadBuffer, to sink: S
    ) -> (consumed: Int, action: ProxyAction) {
        if buf.count > 0 { responseBytesSeen = true }
        var consumed = 0
        while true {
            let rest = UnsafeRawBufferPointer(rebasing: buf[consumed...])
            switch state {
            case .head:
                let (n, action) = takeHead(rest, &scratch, sink)
                consumed += n
                // `nil`: a 1xx was skipped, or the head went out; go on with what follows.
                guard let action else { continue }
                return (consumed, action)
            case .body(let body):
                let (n, action) = relayBody(body, rest, sink)
                return (consumed + n, action)
            case .tunnel, .done:
                return (consumed, .readMore)
            }
        }
    }

    /// Parses a complete head and sends the client's. Returns the bytes used and nil to go
    /// on (with a body, or after a skipped 1xx), or the action that ends this call.
    private mutating func takeHead<S: ExchangeResponseSink>(
        _ buf: UnsafeRawBufferPointer, _ scratch: inout HeadBuffer, _ sink: S
    ) -> (Int, ProxyAction?) {
        let end: Int
        do {
            guard let e = try scanner.scan(buf, limits: Self.headLimits) else { return (0, .readMore) }
            end = e
            try ResponseHeadParser.parse(
                UnsafeRawBufferPointer(rebasing: buf[..<end]), skip: scanner.skipped, limits: Self.headLimits,
                into: &response)
        } catch {
            return (0, fail(.malformedResponse))
        }
        scanner.reset()
        if response.isInformational {
            if response.status == 101 {
                // A switch nobody asked for (or to something else) would turn the client's
                // connection into a raw pipe to the upstream.
                guard request.upgrade else { return (end, fail(.unaskedSwitch)) }
                guard WebSocketHandshake.answerSwitches(response, accept: request.webSocketAccept) else {
                    return (end, fail(.badSwitch))
                }
                state = .tunnel
                return (end, .tunnel)
            }
            // 100/103 answers are the gateway's business (it handled Expect): skip them.
            if buf.count == end { return (end, .readMore) }
            return (end, nil)
        }
        // A request body still arriving cannot be told from the next request: the server
        // side decides (and closes after, then).
        let keepAlive = sink.responseStarting(status: response.status)
        scratch.removeAll()
        clientFraming = ResponseHeadBuilder(
            requestMethod: request.method, clientVersion: request.version, keepAlive: keepAlive,
            requestID: rewrite.requestID, removed: rewrite.removed,
            setHeaders: rewrite.corsHeaders.isEmpty ? rewrite.routeHeaders : rewrite.routeHeaders + rewrite.corsHeaders,
            upgrade: false, dropCORS: rewrite.dropCORS
        ).write(&response, into: &scratch)
        responseHeadSent = true
        sink.responseHead(scratch.bytes, closeAfter: clientFraming == .untilClose)
        switch response.framing(requestMethod: request.method) {
        case .none:
            return (end, finish(sink))
        case .length(let n):
            state = .body(.length(remaining: n))
        case .chunked:
            state = .body(.chunked(ChunkedDecoder()))
        case .untilClose:
            state = .body(.untilClose)
        }
        return (end, nil)
    }

    /// Sends the client the head of an accepted 101 (after `.tunnel`; the driver checks the
    /// grant first). The route's response rules apply; CORS does not (not an HTTP answer).
    mutating func sendSwitchHead<S: ExchangeResponseSink>(scratch: inout HeadBuffer, to sink: S) {
        scratch.removeAll()
        _ = ResponseHeadBuilder(
            requestMethod: request.method, clientVersion: request.version, keepAlive: false,
            requestID: rewrite.requestID, removed: rewrite.removed, setHeaders: rewrite.routeHeaders, upgrade: true
        ).write(&response, into: &scratch)
        responseHeadSent = true
        sink.responseHead(scratch.bytes, closeAfter: true)
    }

    /// The response is complete: tells the sink, and the driver pools or closes.
    mutating func finish<S: ExchangeResponseSink>(_ sink: S) -> ProxyAction {
        state = .done
        sink.responseEnd()
        return .complete
    }

    mutating func fail(_ failure: ProxyFailure) -> ProxyAction {
        state = .done
        return responseHeadSent ? .abort : .fail(failure)
    }
}
