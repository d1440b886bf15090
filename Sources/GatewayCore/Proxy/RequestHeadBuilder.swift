import HTTP1

/// Writes the head the upstream receives (SPEC §3 "Forwarded requests"):
/// - the normalised, checked path (never the raw one), prefix-stripped if the route says so;
/// - no hop-by-hop fields (RFC 9110 §7.6.1), including those named in `Connection`;
/// - no incoming identity headers, in any case, any number and any `_`/`-` spelling, on
///   every route; no header names with `_` unless the route allows them;
/// - no URL/method override headers unless the route forwards them;
/// - none of the gateway's own cookies in `Cookie`;
/// - `Host` (when preserved) and `X-Forwarded-Host` as the canonical host the route was
///   matched on, with the client's port if it sent one;
/// - `X-Forwarded-For` appended, `-Proto`, `-Host` and `X-Request-Id` set;
/// - framing re-declared by the gateway (Content-Length, or chunked as re-encoded).
struct RequestHeadBuilder {
    let head: RequestHead
    let route: Route
    let target: UpstreamURL
    /// Names removed from the request (`Route.droppedRequestHeaders`).
    let dropped: HeaderNameSet
    let clientAddress: String
    /// The client came over TLS: `X-Forwarded-Proto: https`.
    let secure: Bool
    let requestID: [UInt8]
    /// Identity header lines (`Name: value\r\n`…) made by the auth policy, or empty.
    let identityBlock: [UInt8]
    /// A WebSocket upgrade the route allows.
    let upgrade: Bool
    /// The peer is a trusted proxy: its `X-Forwarded-Proto`, `-Host` and `-Port` are kept
    /// (and `X-Forwarded-For` is appended to, as from anyone).
    var trustedPeer = false
    /// The gateway's listener port, sent as `X-Forwarded-Port` unless a trusted proxy gave one.
    var listenPort = 0

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
            if route.config.preserveHost && head.hasHost {
                head.appendCanonicalAuthority(to: &out)
            } else {
                out.append(contentsOf: target.authority.utf8)
            }
            HeadWriter.append("\r\n", to: &out)

            var forwardedFor: [Range<Int>] = []
            var keptProto: Range<Int>?
            var keptHost: Range<Int>?
            var keptPort = false
            for f in head.fields {
                let ns = Int(f.nameStart)
                let ne = Int(f.nameEnd)
                switch f.known {
                case .host, .contentLength, .transferEncoding, .connection, .keepAlive, .proxyConnection, .te,
                    .trailer, .upgrade, .expect, .proxyAuthorization, .proxyAuthenticate, .xRequestId, .forwarded:
                    continue
                case .xForwardedProto:
                    if trustedPeer && keptProto == nil { keptProto = Int(f.valueStart)..<Int(f.valueEnd) }
                    continue
                case .xForwardedHost:
                    if trustedPeer && keptHost == nil { keptHost = Int(f.valueStart)..<Int(f.valueEnd) }
                    continue
                case .xForwardedFor:
                    if f.valueEnd > f.valueStart { forwardedFor.append(Int(f.valueStart)..<Int(f.valueEnd)) }
                    continue
                case .authorization:
                    if !route.config.forwardAuthorization { continue }
                default:
                    if ForwardedPort.isName(b, ns, ne) {
                        guard trustedPeer, !keptPort else { continue }
                        keptPort = true
                    }
                    if dropped.contains(b, ns, ne) { continue }
                    if !route.config.allowUnderscoresInHeaders && nameHasUnderscore(b, ns, ne) { continue }
                    if rangesContainName(head.connectionOptions, b, ns, ne) { continue }
                    if f.known == .cookie && !route.gatewayCookies.isEmpty {
                        writeCookie(b, f, into: &out)
                        continue
                    }
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
            if let keptProto {
                HeadWriter.append("\r\nX-Forwarded-Proto: ", to: &out)
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[keptProto]))
                HeadWriter.append("\r\n", to: &out)
            } else {
                HeadWriter.append(
                    secure ? "\r\nX-Forwarded-Proto: https\r\n" : "\r\nX-Forwarded-Proto: http\r\n", to: &out)
            }
            if !keptPort && listenPort > 0 {
                HeadWriter.append("X-Forwarded-Port: ", to: &out)
                HeadWriter.appendDecimal(Int64(listenPort), to: &out)
                HeadWriter.append("\r\n", to: &out)
            }
            if let keptHost {
                HeadWriter.append("X-Forwarded-Host: ", to: &out)
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[keptHost]))
                HeadWriter.append("\r\n", to: &out)
            } else if head.hasHost {
                HeadWriter.append("X-Forwarded-Host: ", to: &out)
                head.appendCanonicalAuthority(to: &out)
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

    /// One `Cookie` field without the gateway's cookies; copied as it is when it holds none
    /// of them, left out when nothing else is left.
    private func writeCookie(_ b: UnsafeRawBufferPointer, _ f: HeaderField, into out: inout [UInt8]) {
        let vs = Int(f.valueStart)
        let ve = Int(f.valueEnd)
        let mark = out.count
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[Int(f.nameStart)..<Int(f.nameEnd)]))
        HeadWriter.append(": ", to: &out)
        if CookieFilter.containsAny(b, vs, ve, names: route.gatewayCookies) {
            guard CookieFilter.appendKept(b, vs, ve, removing: route.gatewayCookies, to: &out) else {
                out.removeSubrange(mark...)
                return
            }
        } else {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[vs..<ve]))
        }
        HeadWriter.append("\r\n", to: &out)
    }
}
