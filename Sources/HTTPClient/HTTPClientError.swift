/// Why a fetch failed. The description is safe to log: it never holds a header value or body.
public enum HTTPClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The host name did not resolve.
    case resolveFailed(host: String)
    case connectFailed(String)
    case connectTimedOut
    /// TLS handshake or record failure (certificate verification included).
    case tls(String)
    case io(String)
    /// No complete answer within the response timeout.
    case responseTimedOut
    /// The head or body is larger than the configured limit.
    case responseTooLarge
    /// The answer is not valid HTTP/1.1.
    case malformedResponse(String)
    /// The connection closed before the answer was complete.
    case truncatedResponse
    /// A redirect to another origin, or too many redirects.
    case redirectRefused(String)

    public var description: String {
        switch self {
        case .resolveFailed(let h): return "cannot resolve \(h)"
        case .connectFailed(let r): return "connect failed: \(r)"
        case .connectTimedOut: return "connect timed out"
        case .tls(let r): return "TLS: \(r)"
        case .io(let r): return "I/O error: \(r)"
        case .responseTimedOut: return "no complete answer in time"
        case .responseTooLarge: return "the answer is larger than allowed"
        case .malformedResponse(let r): return "malformed answer: \(r)"
        case .truncatedResponse: return "the connection closed before the answer was complete"
        case .redirectRefused(let r): return "redirect refused: \(r)"
        }
    }
}
