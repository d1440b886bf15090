/// The request side of an HTTP/1.1 server connection, without I/O: bytes in, events out,
/// actions back (NIO's `HTTPServerProtocolErrorHandler` + `HTTPDecoder`, Hummingbird's
/// `HTTPConnectionStateHandler.StateMachine`, folded into one value type).
///
/// The driver owns the input buffer and the socket. It calls `next(_:into:)` with every byte
/// buffered so far, consumes what the answer says, and acts on its event: `.needInput`
/// (read more), `.head`, `.body`, `.bodyEnd`, `.paused` (stop reading: the current response
/// has not ended, so pipelined bytes wait in the buffer), `.error` (answer with its status,
/// then close). It reports the response side with `responseStarted()` / `responseEnded()`,
/// the timers with `timerFired()`, end of input with `inputEnded()`, and carries out the
/// `Action`s these return. Clock, sockets and policy stay with the driver and the exchange.
public struct HTTPServerStateMachine: Sendable {
    /// What the machine enforces; taken from the gateway's limits.
    public struct Configuration: Sendable, Equatable {
        public var limits: HTTPLimits
        /// Requests on one connection; the last is answered with `Connection: close`.
        public var maxRequestsPerConnection: Int
        public var chunked: ChunkedDecoder.Limits

        public init(
            limits: HTTPLimits = HTTPLimits(), maxRequestsPerConnection: Int = 1000,
            chunked: ChunkedDecoder.Limits = ChunkedDecoder.Limits()
        ) {
            self.limits = limits
            self.maxRequestsPerConnection = maxRequestsPerConnection
            self.chunked = chunked
        }
    }

    /// What `next(_:into:)` found in the buffered bytes.
    public enum Event: Equatable, Sendable {
        /// Nothing complete yet: read more input (if the socket has any).
        case needInput
        /// A request head, parsed into the caller's `RequestHead`.
        case head
        /// Body bytes at this range of the buffer given (chunk framing removed).
        case body(Range<Int>)
        /// The request body is complete (also right after a head without a body).
        case bodyEnd
        /// Stop reading: the request is complete and its response has not ended (pipelined
        /// bytes wait), or the connection is closing.
        case paused
        /// The request cannot be served: answer with `error.status` and close.
        case error(HTTPServerError)
    }

    /// What the driver does next.
    public enum Action: Equatable, Sendable {
        case none
        /// Keep-alive: go on with the next request; its bytes may be buffered already.
        case readNext
        /// Write what is queued, shut the write side, discard input briefly (lingering), close.
        case closeAfterFlush
        /// Close at once.
        case close
        /// Answer with this error (its status, `Connection: close`), then close after flush.
        case respond(HTTPServerError)
    }

    /// Which timer the driver should run now (the durations are the driver's).
    public enum Timer: Equatable, Sendable {
        case none
        /// Between requests.
        case idle
        /// Part of a head has arrived.
        case header
        /// Reading the body.
        case body
    }

    public enum State: Equatable, Sendable {
        /// Between requests, nothing buffered.
        case idle
        /// Part of a head has arrived.
        case head
        /// The head was delivered; body events follow.
        case body
        /// The request is complete; its response has not ended.
        case awaitingResponseEnd
        /// An error or a close decision: nothing more is parsed.
        case closing
        case closed
    }

    private enum Framing: Equatable, Sendable {
        case none
        case length
        case chunked
    }

    /// Read at each decision, so a reload applies from the next request on.
    public var configuration: Configuration
    public private(set) var state: State = .idle {
        didSet { refreshComplete() }
    }
    /// Requests whose head arrived on this connection.
    public private(set) var requestCount = 0
    /// Body bytes delivered for the current request.
    public private(set) var bodyBytes: Int64 = 0
    /// Whether `100 Continue` went out for the current request.
    public private(set) var continueSent = false
    /// The response to the current request has started (its head is written or queued).
    public private(set) var responseInProgress = false

    private var scanner = HeadScanner()
    private var framing = Framing.none {
        didSet { refreshComplete() }
    }
    private var remaining: Int64 = 0
    private var decoder: ChunkedDecoder
    private var bodyLimit: Int64 = .max
    private var headKeepAlive = true
    private var expectContinue = false
    private var draining = false
    private var closeRequested = false

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.decoder = ChunkedDecoder(limits: configuration.chunked)
    }

    // MARK: Input

    /// Looks at `buf`, every byte buffered and not yet consumed, and returns how many of its
    /// leading bytes to consume and what they were. Call again after consuming until the
    /// event is `.needInput` (then read) or `.paused` (then wait for `responseEnded()`).
    public mutating func next(
        _ buf: UnsafeRawBufferPointer, into head: inout RequestHead
    ) -> (consumed: Int, event: Event) {
        switch state {
        case .idle, .head:
            return nextHead(buf, into: &head)
        case .body:
            return nextBody(buf)
        case .awaitingResponseEnd, .closing, .closed:
            return (0, .paused)
        }
    }

    private mutating func nextHead(
        _ buf: UnsafeRawBufferPointer, into head: inout RequestHead
    ) -> (consumed: Int, event: Event) {
        guard buf.count > 0 else { return (0, .needInput) }
        state = .head
        let end: Int
        do throws(HTTPParseError) {
            guard let e = try scanner.scan(buf, limits: configuration.limits) else { return (0, .needInput) }
            end = e
            try RequestHeadParser.parse(
                UnsafeRawBufferPointer(rebasing: buf[..<end]), skip: scanner.skipped, limits: configuration.limits,
                into: &head)
        } catch {
            scanner.reset()
            state = .closing
            return (0, .error(.parse(error)))
        }
        scanner.reset()
        requestCount += 1
        headKeepAlive = head.keepAlive
        expectContinue = head.expectContinue
        expectationFailed = head.expectUnsupported
        continueSent = false
        closeRequested = false
        responseInProgress = false
        bodyBytes = 0
        bodyLimit = .max
        if head.isChunked {
            framing = .chunked
            decoder = ChunkedDecoder(limits: configuration.chunked)
        } else if head.contentLength > 0 {
            framing = .length
            remaining = head.contentLength
        } else {
            framing = .none
        }
        state = .body
        return (end, .head)
    }

    private mutating func nextBody(_ buf: UnsafeRawBufferPointer) -> (consumed: Int, event: Event) {
        switch framing {
        case .none:
            state = .awaitingResponseEnd
            return (0, .bodyEnd)
        case .length:
            if remaining == 0 {
                framing = .none
                state = .awaitingResponseEnd
                return (0, .bodyEnd)
            }
            guard buf.count > 0 else { return (0, .needInput) }
            let n = Int(min(remaining, Int64(buf.count)))
            remaining -= Int64(n)
            if remaining == 0 { refreshComplete() }
            bodyBytes += Int64(n)
            return (n, .body(0..<n))
        case .chunked:
            guard buf.count > 0 else { return (0, .needInput) }
            let r: (consumed: Int, step: ChunkedDecoder.Step)
            do throws(HTTPParseError) {
                r = try decoder.decode(buf)
            } catch {
                state = .closing
                return (0, .error(.parse(error)))
            }
            switch r.step {
            case .data(let range):
                bodyBytes += Int64(range.count)
                if bodyBytes > bodyLimit {
                    state = .closing
                    return (0, .error(.bodyTooLarge))
                }
                return (r.consumed, .body(range))
            case .end:
                framing = .none
                state = .awaitingResponseEnd
                return (r.consumed, .bodyEnd)
            case .needMore:
                return (r.consumed, .needInput)
            }
        }
    }

    /// Sets the largest body the exchange accepts. A declared `Content-Length` above it is
    /// `.bodyTooLarge` now (answer 413 without reading); a chunked body that grows past it
    /// becomes an `.error(.bodyTooLarge)` event.
    public mutating func setBodyLimit(_ limit: Int64, contentLength: Int64) -> HTTPServerError? {
        bodyLimit = limit
        return contentLength > limit ? .bodyTooLarge : nil
    }

    /// The exchange wants the body: whether `100 Continue` must be sent now (asked for, not
    /// sent yet, and the client has not started sending the body anyway). Marks it sent.
    public mutating func bodyWanted(buffered: Int) -> Bool {
        guard expectContinue, state == .body, framing != .none, !continueSent, bodyBytes == 0, buffered == 0
        else { return false }
        continueSent = true
        return true
    }

    /// The request carries an `Expect` other than `100-continue`: the exchange answers 417
    /// (after its path checks, before reading any body).
    public private(set) var expectationFailed = false

    /// The request body has been fully read (or there was none). A Content-Length body
    /// counts as complete once its last byte was delivered; a chunked one once its last chunk
    /// and trailers were (`.bodyEnd`). Stored, not computed: the driver asks often, and a
    /// stored property is read across modules without a call.
    public private(set) var requestComplete = false

    private mutating func refreshComplete() {
        requestComplete =
            state == .awaitingResponseEnd
            || (state == .body && (framing == .none || (framing == .length && remaining == 0)))
    }

    // MARK: Output

    /// Whether the connection stays open after the current response: the request asked for
    /// it (version, `Connection`), the request limit is not reached, the gateway is not
    /// draining and nothing forced a close.
    public var keepAlive: Bool {
        headKeepAlive && !closeRequested && !draining && requestCount < configuration.maxRequestsPerConnection
            && state != .closing && state != .closed
    }

    /// The response head is about to be written; returns whether it says keep-alive. A body
    /// not read to its end cannot be told from the next request, so it forces a close.
    public mutating func responseStarted() -> Bool {
        responseInProgress = true
        if !requestComplete { closeRequested = true }
        return keepAlive
    }

    /// The exchange decided the connection closes after this response (`Connection: close`
    /// from the upstream's framing, a protocol switch, an answer that must close).
    public mutating func requestClose() {
        closeRequested = true
    }

    /// The response has been written to its end (queued to the transport). Next request,
    /// or close.
    public mutating func responseEnded() -> Action {
        responseInProgress = false
        switch state {
        case .closed:
            return .none
        case .awaitingResponseEnd, .body:
            if keepAlive && requestComplete {
                state = .idle
                return .readNext
            }
            state = .closing
            return .closeAfterFlush
        case .idle, .head, .closing:
            state = .closing
            return .closeAfterFlush
        }
    }

    // MARK: Timers, end of input, draining

    /// The timer currently relevant to the server side.
    public var timer: Timer {
        switch state {
        case .idle: return .idle
        case .head: return .header
        case .body: return requestComplete ? .none : .body
        case .awaitingResponseEnd, .closing, .closed: return .none
        }
    }

    /// The driver's timer for `timer` fired.
    public mutating func timerFired() -> Action {
        switch state {
        case .idle:
            state = .closed
            return .close
        case .head:
            state = .closing
            return .respond(.headerTimeout)
        case .body:
            if requestComplete { return .none }
            state = .closing
            return .respond(.bodyTimeout)
        case .awaitingResponseEnd:
            return .none
        case .closing:
            state = .closed
            return .close
        case .closed:
            return .none
        }
    }

    /// The client closed its write side (a read returned end of input).
    public mutating func inputEnded() -> Action {
        switch state {
        case .idle, .head, .closing:
            // Between requests that is normal; mid-head the client gave up.
            state = .closed
            return .close
        case .body:
            if requestComplete {
                closeRequested = true
                return .none
            }
            // A truncated body: nothing sensible can be answered.
            state = .closed
            return .close
        case .awaitingResponseEnd:
            // Half-close: the response still goes out, then the connection closes.
            closeRequested = true
            return .none
        case .closed:
            return .none
        }
    }

    /// The gateway is shutting down: an idle connection closes now, others after their response.
    public mutating func drain() -> Action {
        draining = true
        if state == .idle {
            state = .closed
            return .close
        }
        return .none
    }

    /// The driver closed the connection (an abort, a write error).
    public mutating func closed() {
        state = .closed
    }
}
