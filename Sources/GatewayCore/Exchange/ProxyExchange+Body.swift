import EventLoop
import HTTP1

/// The response body, upstream → client, re-framed when the framings differ: a chunked or
/// close-delimited body goes to an HTTP/1.1 client in the gateway's own chunks (no
/// extensions, no trailers), to an HTTP/1.0 client raw until the connection closes.
extension ProxyExchange {
    mutating func relayBody<S: ExchangeResponseSink>(
        _ body: Body, _ buf: UnsafeRawBufferPointer, _ sink: S
    ) -> (Int, ProxyAction) {
        switch body {
        case .length(let remaining):
            let n = Int(min(remaining, Int64(buf.count)))
            sink.responseBodyPart(UnsafeRawBufferPointer(rebasing: buf[..<n]))
            if remaining == Int64(n) { return (n, finish(sink)) }
            state = .body(.length(remaining: remaining - Int64(n)))
            return (n, .readMore)
        case .chunked(var decoder):
            var consumed = 0
            while consumed < buf.count {
                let r: (consumed: Int, step: ChunkedDecoder.Step)
                do {
                    r = try decoder.decode(UnsafeRawBufferPointer(rebasing: buf[consumed...]))
                } catch {
                    // Mid-body: the client can only learn of it by the connection closing.
                    return (consumed, fail(.malformedResponse))
                }
                switch r.step {
                case .data(let range):
                    let data = UnsafeRawBufferPointer(
                        rebasing: buf[(consumed + range.lowerBound)..<(consumed + range.upperBound)])
                    sendChunk(data, sink)
                case .end:
                    consumed += r.consumed
                    if clientFraming == .chunked { sink.responseBodyPart(ChunkedEncoder.lastChunk) }
                    return (consumed, finish(sink))
                case .needMore:
                    break
                }
                consumed += r.consumed
            }
            state = .body(.chunked(decoder))
            return (consumed, .readMore)
        case .untilClose:
            sendChunk(buf, sink)
            return (buf.count, .readMore)
        }
    }

    @inline(__always)
    private func sendChunk<S: ExchangeResponseSink>(_ data: UnsafeRawBufferPointer, _ sink: S) {
        guard data.count > 0 else { return }
        if clientFraming == .chunked {
            withChunkHeader(data.count) { sink.responseBodyPart($0) }
            sink.responseBodyPart(data)
            sink.responseBodyPart(ChunkedEncoder.chunkEnd)
        } else {
            sink.responseBodyPart(data)
        }
    }

    // MARK: The upstream's end

    /// The upstream closed its side. `reused`: the connection had served an earlier request.
    mutating func upstreamEOF<S: ExchangeResponseSink>(reused: Bool, to sink: S) -> ProxyAction {
        switch state {
        case .head:
            if !responseBytesSeen && mayRetry(reused: reused) { return retry() }
            return fail(.closedWithoutAnswer)
        case .body(.untilClose):
            closeDelimited = true
            if clientFraming == .chunked { sink.responseBodyPart(ChunkedEncoder.lastChunk) }
            return finish(sink)
        case .body:
            // Truncated: the client must not mistake it for a complete body.
            return fail(.closedWithoutAnswer)
        case .tunnel, .done:
            return .readMore
        }
    }

    /// Connecting, writing or reading failed.
    mutating func upstreamFailed(_ failure: UpstreamFailure, reused: Bool) -> ProxyAction {
        if !responseBytesSeen && mayRetry(reused: reused) { return retry() }
        return fail(.unavailable(failure))
    }

    /// One retry, on a fresh connection, of a replayable request whose pooled connection
    /// failed before any byte of the answer (SPEC §3): the upstream may have closed it idle.
    func mayRetry(reused: Bool) -> Bool {
        reused && attempts == 1 && request.replayable && !requestBodySent
    }

    private mutating func retry() -> ProxyAction {
        attempts += 1
        scanner.reset()
        return .retry
    }

    /// The exchange's timer fired. `connecting`: the upstream connection is not established
    /// yet; `requestComplete`: the client's body has all arrived; `upstreamBackedUp`: the
    /// upstream is not taking the body, so the wait is its fault, not the client's.
    mutating func timedOut(connecting: Bool, requestComplete: Bool, upstreamBackedUp: Bool) -> ProxyAction {
        if connecting { return fail(.unavailable(.connectTimedOut)) }
        if !requestComplete && !upstreamBackedUp { return fail(.requestBodyTimeout) }
        return fail(.responseTimeout)
    }

    /// Whether the upstream connection may be pooled now that the answer is complete: the
    /// exchange knows the protocol side, the driver the I/O side (see `UpstreamReuse`).
    /// `mutating` though it changes nothing: called on the connection's stored exchange, a
    /// non-mutating call would copy the struct out (each of its arrays retained and released).
    mutating func reuseRefusal(
        requestBodyDone: Bool, leftoverBytes: Int, unsentBytes: Int, pending: Syscall.Pending = .nothing
    ) -> UpstreamReuse.Refusal? {
        UpstreamReuse.refusal(
            UpstreamReuse.AnswerEnd(
                upstreamKeepAlive: response.keepAlive, closeDelimited: closeDelimited,
                requestBodyDone: requestBodyDone, upgraded: request.upgrade, leftoverBytes: leftoverBytes,
                unsentBytes: unsentBytes, pending: pending))
    }
}
