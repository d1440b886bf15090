/// Header names the gateway acts on, recognised once while parsing so that later stages
/// switch on a byte instead of comparing strings.
public enum KnownHeader: UInt8, Sendable {
    case other = 0
    case host
    case contentLength
    case transferEncoding
    case connection
    case keepAlive
    case proxyConnection
    case te
    case trailer
    case upgrade
    case expect
    case authorization
    case proxyAuthorization
    case proxyAuthenticate
    case cookie
    case forwarded
    case xForwardedFor
    case xForwardedProto
    case xForwardedHost
    case xRequestId
    case contentType
    case origin

    /// Hop-by-hop fields (RFC 9110 §7.6.1), never forwarded; `Upgrade` is handled apart.
    public var isHopByHop: Bool {
        switch self {
        case .connection, .keepAlive, .proxyConnection, .te, .trailer, .transferEncoding, .upgrade,
            .proxyAuthorization, .proxyAuthenticate:
            return true
        default:
            return false
        }
    }

    static func classify(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> KnownHeader {
        switch e - s {
        case 2: if b.equalsLowercase(s, e, "te") { return .te }
        case 4: if b.equalsLowercase(s, e, "host") { return .host }
        case 6:
            if b.equalsLowercase(s, e, "cookie") { return .cookie }
            if b.equalsLowercase(s, e, "expect") { return .expect }
            if b.equalsLowercase(s, e, "origin") { return .origin }
        case 7:
            if b.equalsLowercase(s, e, "trailer") { return .trailer }
            if b.equalsLowercase(s, e, "upgrade") { return .upgrade }
        case 9: if b.equalsLowercase(s, e, "forwarded") { return .forwarded }
        case 10:
            if b.equalsLowercase(s, e, "connection") { return .connection }
            if b.equalsLowercase(s, e, "keep-alive") { return .keepAlive }
        case 12:
            if b.equalsLowercase(s, e, "content-type") { return .contentType }
            if b.equalsLowercase(s, e, "x-request-id") { return .xRequestId }
        case 13: if b.equalsLowercase(s, e, "authorization") { return .authorization }
        case 14: if b.equalsLowercase(s, e, "content-length") { return .contentLength }
        case 15: if b.equalsLowercase(s, e, "x-forwarded-for") { return .xForwardedFor }
        case 16:
            if b.equalsLowercase(s, e, "proxy-connection") { return .proxyConnection }
            if b.equalsLowercase(s, e, "x-forwarded-host") { return .xForwardedHost }
        case 17:
            if b.equalsLowercase(s, e, "transfer-encoding") { return .transferEncoding }
            if b.equalsLowercase(s, e, "x-forwarded-proto") { return .xForwardedProto }
        case 18: if b.equalsLowercase(s, e, "proxy-authenticate") { return .proxyAuthenticate }
        case 19: if b.equalsLowercase(s, e, "proxy-authorization") { return .proxyAuthorization }
        default: break
        }
        return .other
    }
}

/// One header line, as offsets into the bytes of the head that holds it.
public struct HeaderField: Sendable, Equatable {
    public var nameStart: Int32
    public var nameEnd: Int32
    /// The value without leading and trailing whitespace (RFC 9112 §5.1).
    public var valueStart: Int32
    public var valueEnd: Int32
    public var known: KnownHeader
}
