/// Where an exchange sends its response: the client side of the connection. The HTTP/1.1
/// driver queues the bytes for its transport; an HTTP/2 stream would frame them. Exchanges
/// are generic over it (no existential, no closure per request); the calls come in order:
/// `responseStarting`, `responseHead`, any number of `responseBodyPart`, `responseEnd`.
protocol ExchangeResponseSink {
    /// A final (non-1xx) response head with `status` is about to go out: returns the server
    /// side's keep-alive decision, which the head must state.
    func responseStarting(status: Int) -> Bool

    /// The rendered head. `closeAfter`: the body is delimited by closing the connection, or
    /// the connection is switched (101), so it cannot serve another request.
    func responseHead(_ bytes: UnsafeRawBufferPointer, closeAfter: Bool)

    /// Body bytes, already in the client's framing.
    func responseBodyPart(_ bytes: UnsafeRawBufferPointer)

    /// The response is complete (its last byte was passed to `responseBodyPart`).
    func responseEnd()
}

/// Where an exchange sends bytes for the upstream (`UpstreamConnection` queues them).
protocol ExchangeUpstreamWriter {
    func queue(_ bytes: UnsafeRawBufferPointer)
}

extension UpstreamConnection: ExchangeUpstreamWriter {}

extension ExchangeResponseSink {
    @inline(__always)
    func responseBodyPart(_ s: StaticString) {
        responseBodyPart(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}

extension ExchangeUpstreamWriter {
    @inline(__always)
    func queue(_ s: StaticString) {
        queue(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}
