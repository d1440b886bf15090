import HTTP1

/// Turns the bytes of one HTTP/1.1 answer into an ``HTTPResponse``, without sockets: feed
/// it what the transport read, then `closed()` at end of stream. Interim (1xx) answers are
/// skipped; the body is delimited by Content-Length, chunked coding or the close, and is
/// bounded by `maxBodyBytes` (the head by `limits`), so a hostile server cannot make it grow.
public struct ResponseReader: Sendable {
    public enum Step: Equatable, Sendable {
        case needMore
        case complete(HTTPResponse)
    }

    private enum State: Sendable {
        case head
        case body(BodyFraming)
        case done
    }

    private let limits: HTTPLimits
    private let maxBodyBytes: Int
    private let requestMethod: HTTPMethod
    private var state = State.head
    private var pending: [UInt8] = []
    private var scanner = HeadScanner()
    private var head = ResponseHead()
    private var chunked = ChunkedDecoder()
    private var body: [UInt8] = []

    public init(maxBodyBytes: Int, requestMethod: HTTPMethod = .get, limits: HTTPLimits = HTTPLimits()) {
        self.maxBodyBytes = maxBodyBytes
        self.requestMethod = requestMethod
        self.limits = limits
    }

    /// Consumes `bytes`; bytes after a complete answer are ignored (the client sends
    /// `Connection: close` and one request per connection).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(HTTPClientError) -> Step {
        pending.append(contentsOf: bytes)
        return try advance()
    }

    public mutating func feed(_ bytes: [UInt8]) throws(HTTPClientError) -> Step {
        pending.append(contentsOf: bytes)
        return try advance()
    }

    /// The peer closed: completes an answer delimited by the close, else it was truncated.
    public mutating func closed() throws(HTTPClientError) -> Step {
        if case .body(.untilClose) = state {
            state = .done
            return .complete(response())
        }
        if case .done = state { return .complete(response()) }
        throw .truncatedResponse
    }

    private mutating func advance() throws(HTTPClientError) -> Step {
        while true {
            switch state {
            case .done:
                return .complete(response())
            case .head:
                guard try parseHead() else { return .needMore }
            case .body(.none):
                state = .done
            case .body(.length(let n)):
                guard n <= Int64(maxBodyBytes) else { throw .responseTooLarge }
                let need = Int(n) - body.count
                let take = min(need, pending.count)
                body += pending[0..<take]
                pending.removeFirst(take)
                if body.count < Int(n) { return .needMore }
                state = .done
            case .body(.untilClose):
                body += pending
                pending.removeAll()
                if body.count > maxBodyBytes { throw .responseTooLarge }
                return .needMore
            case .body(.chunked):
                guard try decodeChunks() else { return .needMore }
                state = .done
            }
        }
    }

    /// Parses a head from `pending`; false when more bytes are needed.
    private mutating func parseHead() throws(HTTPClientError) -> Bool {
        let limits = self.limits
        var scanner = self.scanner
        var head = self.head
        let result: Result<Int?, HTTPParseError> = pending.withUnsafeBytes { b in
            do throws(HTTPParseError) {
                guard let end = try scanner.scan(b, limits: limits) else { return .success(nil) }
                try ResponseHeadParser.parse(
                    UnsafeRawBufferPointer(rebasing: b[..<end]), skip: scanner.skipped, limits: limits, into: &head)
                return .success(end)
            } catch {
                return .failure(error)
            }
        }
        self.scanner = scanner
        self.head = head
        let end: Int
        switch result {
        case .failure(let e):
            if e == .headersTooLarge || e == .requestLineTooLong || e == .tooManyHeaders { throw .responseTooLarge }
            throw .malformedResponse(e.reason)
        case .success(nil):
            if pending.count > limits.maxHeaderBytes + limits.maxRequestLine { throw .responseTooLarge }
            return false
        case .success(let e?):
            end = e
        }
        pending.removeFirst(end)
        self.scanner.reset()
        if head.isInformational {
            if head.status == 101 { throw .malformedResponse("unexpected protocol switch") }
            return true  // skip it: the final answer follows
        }
        state = .body(head.framing(requestMethod: requestMethod))
        return true
    }

    /// Decodes chunks from `pending`; true once the last chunk and trailers are in.
    private mutating func decodeChunks() throws(HTTPClientError) -> Bool {
        var offset = 0
        defer { pending.removeFirst(offset) }
        while offset < pending.count {
            var decoder = chunked
            let r: Result<(consumed: Int, step: ChunkedDecoder.Step), HTTPParseError> = pending.withUnsafeBytes { b in
                do throws(HTTPParseError) {
                    return .success(try decoder.decode(UnsafeRawBufferPointer(rebasing: b[offset...])))
                } catch {
                    return .failure(error)
                }
            }
            chunked = decoder
            switch r {
            case .failure(let e): throw .malformedResponse("chunked body: \(e.reason)")
            case .success(let s):
                if case .data(let range) = s.step {
                    guard body.count + range.count <= maxBodyBytes else { throw .responseTooLarge }
                    body += pending[(offset + range.lowerBound)..<(offset + range.upperBound)]
                }
                offset += s.consumed
                if s.step == .end { return true }
                if s.step == .needMore { return false }
            }
        }
        return false
    }

    private func response() -> HTTPResponse {
        HTTPResponse(
            status: head.status,
            headers: head.fields.map { (head.name($0).lowercased(), head.value($0)) },
            body: body)
    }
}
