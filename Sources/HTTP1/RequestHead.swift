/// A parsed request head: a private copy of its bytes plus offsets into them, so that
/// nothing is turned into a `String` unless a later stage asks for it.
public struct RequestHead: Sendable {
    /// The head as received, request line through the final empty line.
    public internal(set) var bytes: [UInt8] = []
    public internal(set) var method: HTTPMethod = .get
    public internal(set) var version: HTTPVersion = .http11
    /// The path of the request target (origin-form, or the path of an absolute-form target).
    public internal(set) var pathStart: Int32 = 0
    public internal(set) var pathEnd: Int32 = 0
    /// The query without its `?`, empty when there is none; `hasQuery` tells `?` from nothing.
    public internal(set) var queryStart: Int32 = 0
    public internal(set) var queryEnd: Int32 = 0
    public internal(set) var hasQuery = false
    /// The authority of an absolute-form target, which overrides `Host` (RFC 9112 §3.2.2).
    public internal(set) var targetAuthorityStart: Int32 = -1
    public internal(set) var targetAuthorityEnd: Int32 = -1
    /// The addressed host in canonical form (`HostCanonicalizer`: lower case, no trailing
    /// dot, IPv6 in brackets), from the absolute-form target if there is one, else from
    /// `Host`; empty when neither was sent. Routing and forwarding both read this.
    public internal(set) var canonicalHost: [UInt8] = []
    /// The port that came with the host, or -1.
    public internal(set) var hostPort: Int32 = -1
    public internal(set) var fields: [HeaderField] = []
    /// Index into `fields` of the single `Host` field, or -1.
    public internal(set) var hostIndex: Int32 = -1
    /// Declared body length, or -1 when there is no Content-Length.
    public internal(set) var contentLength: Int64 = -1
    public internal(set) var isChunked = false
    /// Whether the connection may stay open after this exchange (version and `Connection`).
    public internal(set) var keepAlive = true
    /// `Connection: upgrade` was sent (with an `Upgrade` field, a protocol switch is asked for).
    public internal(set) var connectionUpgrade = false
    public internal(set) var hasUpgradeField = false
    /// `Expect: 100-continue`.
    public internal(set) var expectContinue = false
    /// An `Expect` value other than 100-continue (answered with 417).
    public internal(set) var expectUnsupported = false
    /// Names listed in `Connection` besides close/keep-alive/upgrade: hop-by-hop for this
    /// message only (RFC 9110 §7.6.1), as offsets into `bytes`.
    public internal(set) var connectionOptions: [Range<Int32>] = []

    public init() {}

    mutating func clear() {
        bytes.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true)
        connectionOptions.removeAll(keepingCapacity: true)
        canonicalHost.removeAll(keepingCapacity: true)
        hostPort = -1
        method = .get
        version = .http11
        pathStart = 0
        pathEnd = 0
        queryStart = 0
        queryEnd = 0
        hasQuery = false
        targetAuthorityStart = -1
        targetAuthorityEnd = -1
        hostIndex = -1
        contentLength = -1
        isChunked = false
        keepAlive = true
        connectionUpgrade = false
        hasUpgradeField = false
        expectContinue = false
        expectUnsupported = false
    }

    /// Whether the request carries a body (RFC 9112 §6.3).
    public var hasBody: Bool { isChunked || contentLength > 0 }

    public func string(_ start: Int32, _ end: Int32) -> String {
        bytes.withUnsafeBufferPointer { b in
            String(decoding: UnsafeBufferPointer(rebasing: b[Int(start)..<Int(end)]), as: UTF8.self)
        }
    }

    public func name(_ field: HeaderField) -> String { string(field.nameStart, field.nameEnd) }
    public func value(_ field: HeaderField) -> String { string(field.valueStart, field.valueEnd) }
    public var path: String { string(pathStart, pathEnd) }
    public var query: String? { hasQuery ? string(queryStart, queryEnd) : nil }

    /// Whether the client named a host (absolute-form target or `Host`).
    public var hasHost: Bool { targetAuthorityStart >= 0 || hostIndex >= 0 }

    /// Appends the canonical host and, if one was sent, `:port` (what `Host` and
    /// `X-Forwarded-Host` carry upstream).
    public func appendCanonicalAuthority(to out: inout HeadBuffer) {
        out.append(canonicalHost)
        if hostPort >= 0 {
            out.append(UInt8(ascii: ":"))
            out.appendDecimal(Int64(hostPort))
        }
    }

    /// The host the client addressed as sent, from an absolute-form target or the `Host` field.
    public var host: String? {
        if targetAuthorityStart >= 0 { return string(targetAuthorityStart, targetAuthorityEnd) }
        guard hostIndex >= 0 else { return nil }
        return value(fields[Int(hostIndex)])
    }

    /// The first field of a kind, if any.
    public func first(_ known: KnownHeader) -> HeaderField? {
        fields.first { $0.known == known }
    }

    /// The value of the first field named `name` (ASCII case-insensitive), for tests and
    /// cold paths; hot paths use `known`.
    public func value(named name: String) -> String? {
        let lower = Array(name.lowercased().utf8)
        for f in fields where Int(f.nameEnd - f.nameStart) == lower.count {
            var same = true
            for i in 0..<lower.count {
                var c = bytes[Int(f.nameStart) + i]
                if c >= 0x41 && c <= 0x5A { c |= 0x20 }
                if c != lower[i] {
                    same = false
                    break
                }
            }
            if same { return value(f) }
        }
        return nil
    }
}
