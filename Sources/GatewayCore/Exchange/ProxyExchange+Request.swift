import HTTP1

/// The request body, client → upstream. The server state machine removes the client's
/// framing; a chunked body goes on in the gateway's own chunks (no extensions, no
/// trailers), a Content-Length body as it is.
extension ProxyExchange {
    /// Body bytes of the request (client framing removed).
    mutating func requestBody<U: ExchangeUpstreamWriter>(_ bytes: UnsafeRawBufferPointer, to upstream: U) {
        guard bytes.count > 0 else { return }
        requestBodySent = true
        if request.chunkedBody {
            withChunkHeader(bytes.count) { upstream.queue($0) }
            upstream.queue(bytes)
            upstream.queue(ChunkedEncoder.chunkEnd)
        } else {
            upstream.queue(bytes)
        }
    }

    /// The request body ended (chunked: the last chunk follows). `mutating` for the same
    /// reason as `reuseRefusal`: no copy of the stored exchange.
    mutating func requestBodyEnd<U: ExchangeUpstreamWriter>(to upstream: U) {
        if request.chunkedBody { upstream.queue(ChunkedEncoder.lastChunk) }
    }

    /// The server state machine refused the rest of the body (over the limit, malformed).
    mutating func requestBodyFailed(_ error: HTTPServerError) -> ProxyAction {
        fail(.requestBody(error))
    }
}
