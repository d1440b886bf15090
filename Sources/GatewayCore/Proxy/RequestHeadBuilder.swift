import HTTP1

/// Writes the head the upstream receives (SPEC §3 "Forwarded requests"):
/// - the normalised, checked path (never the raw one), prefix-stripped if the route says so;
/// - no hop-by-hop fields (RFC 9110 §7.6.1), including those named in `Connection`;
/// - no incoming identity headers, in any case and any number, on every route;
/// - `X-Forwarded-For` appended, `-Proto`, `-Host` and `X-Request-Id` set;
/// - framing re-declared by the gateway (Content-Length, or chunked as re-encoded).
struct RequestHeadBuilder {
    let head: RequestHead
    let route: Route
    let target: UpstreamURL
    /// Names removed from the request: identity headers plus the route's `remove` list
    /// and the names it sets itself.
    let dropped: HeaderNameSet
    let clientAddress: String
    let requestID: [UInt8]
    /// Identity header lines (`Name: value\r\n`…) made by the auth policy, or empty.
    let identityBlock: [UInt8]
    /// A WebSocket upgrade the route allows.
    let upgrade: Bool

    func write(normalizedPath: [UInt8], into out: inout [UInt8]) {
        head.bytes.withUnsafeBytes { b in
            HeadWriter.append(head.method.name, to: &out)
            out.append(0x20)
            normalizedPath.withUnsafeBytes { p in
                route.upstreamPath(p, base: target.basePath, into: &out)
            }
            if head.hasQuery {
                out.append(UInt8(ascii: "?"))
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[Int(head.queryStart)..<Int(head.queryEnd)]))
            }
            HeadWriter.append(" HTTP/1.1\r\nHost: ", to: &out)
            let clientHost = originalHost.map { UnsafeRawBufferPointer(rebasing: b[$0]) }
            if route.config.preserveHost, let clientHost {
                out.append(contentsOf: clientHost)
            } else {
                out.append(contentsOf: target.authority.utf8)
            }
            HeadWriter.append("\r\n", to: &out)

            var forwardedFor: [Range<Int>] = []
            for f in head.fields {
                let ns = Int(f.nameStart)
                let ne = Int(f.nameEnd)
                switch f.known {
                case .host, .contentLength, .transferEncoding, .connection, .keepAlive, .proxyConnection, .te,
                    .trailer, .upgrade, .expect, .proxyAuthorization, .proxyAuthenticate, .xForwardedProto,
                    .xForwardedHost, .xRequestId, .forwarded:
                    continue
                case .xForwardedFor:
                    if f.valueEnd > f.valueStart { forwardedFor.append(Int(f.valueStart)..<Int(f.valueEnd)) }
                    continue
                case .authorization:
                    if !route.config.forwardAuthorization { continue }
                default:
                    if dropped.contains(b, ns, ne) { continue }
                    if rangesContainName(head.connectionOptions, b, ns, ne) { continue }
                }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[ns..<ne]))
                HeadWriter.append(": ", to: &out)
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[Int(f.valueStart)..<Int(f.valueEnd)]))
                HeadWriter.append("\r\n", to: &out)
            }
            HeadWriter.append("X-Forwarded-For: ", to: &out)
            for r in forwardedFor {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[r]))
                HeadWriter.append(", ", to: &out)
            }
            out.append(contentsOf: clientAddress.utf8)
            HeadWriter.append("\r\nX-Forwarded-Proto: http\r\n", to: &out)
            if let clientHost {
                HeadWriter.append("X-Forwarded-Host: ", to: &out)
                out.append(contentsOf: clientHost)
                HeadWriter.append("\r\n", to: &out)
            }
            HeadWriter.append("X-Request-Id: ", to: &out)
            out.append(contentsOf: requestID)
            HeadWriter.append("\r\n", to: &out)
        }
        out.append(contentsOf: identityBlock)
        for (name, value) in route.config.setRequestHeaders {
            HeadWriter.append(name, to: &out)
            HeadWriter.append(": ", to: &out)
            HeadWriter.append(value, to: &out)
            HeadWriter.append("\r\n", to: &out)
        }
        if head.isChunked {
            HeadWriter.append("Transfer-Encoding: chunked\r\n", to: &out)
        } else if head.contentLength >= 0 {
            HeadWriter.append("Content-Length: ", to: &out)
            HeadWriter.appendDecimal(head.contentLength, to: &out)
            HeadWriter.append("\r\n", to: &out)
        }
        if upgrade, let f = head.first(.upgrade) {
            HeadWriter.append("Connection: upgrade\r\nUpgrade: ", to: &out)
            out.append(contentsOf: head.bytes[Int(f.valueStart)..<Int(f.valueEnd)])
            HeadWriter.append("\r\n", to: &out)
        }
        HeadWriter.append("\r\n", to: &out)
    }

    private var originalHost: Range<Int>? {
        if head.targetAuthorityStart >= 0 { return Int(head.targetAuthorityStart)..<Int(head.targetAuthorityEnd) }
        guard head.hostIndex >= 0 else { return nil }
        let f = head.fields[Int(head.hostIndex)]
        return Int(f.valueStart)..<Int(f.valueEnd)
    }
}
