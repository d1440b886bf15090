/// Why the server side of a connection refuses a request. Each case maps to the one status
/// the gateway answers with before closing (the framing can no longer be trusted).
public enum HTTPServerError: Error, Equatable, Sendable {
    /// The head or a chunked body is malformed (400, 414, 431, 501, 505: `HTTPParseError.status`).
    case parse(HTTPParseError)
    /// A body larger than the limit the exchange set (413).
    case bodyTooLarge
    /// The head did not arrive before the header timeout (408).
    case headerTimeout
    /// The body stalled past the body timeout (408).
    case bodyTimeout

    /// The status code of the answer.
    public var status: Int {
        switch self {
        case .parse(let e): return e.status
        case .bodyTooLarge: return 413
        case .headerTimeout, .bodyTimeout: return 408
        }
    }
}
