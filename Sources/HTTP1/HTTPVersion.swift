/// HTTP/1.0 or HTTP/1.1; anything else is refused with 505 before it gets this far.
public enum HTTPVersion: Equatable, Sendable {
    case http10
    case http11

    public var text: StaticString {
        switch self {
        case .http10: return "HTTP/1.0"
        case .http11: return "HTTP/1.1"
        }
    }
}
