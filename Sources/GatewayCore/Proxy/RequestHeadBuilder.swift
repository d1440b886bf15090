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

    func write(normalizedPath: [UInt8], into out: inout HeadBuffer) {
        head.bytes.withUnsafeBytes { b in
            head.method.write(into: &out)
            out.append(0x20)
            normalizedPath.withUnsafeBytes { p in
                route.upstreamPath(p, base: target.basePath, into: &out)
            }
            if head.hasQuery {
                out.append(UInt8(ascii: "?"))
                out.append(b, Int(head.queryStart), Int(head.queryEnd))
            }
            out.append(" HTTP/1.1\r\nHost: ")
            if route.config.preserveHost && head.hasHost {
                head.appendCanonicalAuthority(to: &out)
            } else {
                out.append(target.authority)
            }
            out.append("\r\n")

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
                out.append(b, ns, ne)
                out.append(": ")
                out.append(b, Int(f.valueStart), Int(f.valueEnd))
                out.append("\r\n")
            }
            out.append("X-Forwarded-For: ")
            for r in forwardedFor {
                out.append(b, r.lowerBound, r.upperBound)
                out.append(", ")
            }
            out.append(clientAddress)
            if let keptProto {
                out.append("\r\nX-Forwarded-Proto: ")
                out.append(b, keptProto.lowerBound, keptProto.upperBound)
                out.append("\r\n")
            } else {
                out.append(secure ? "\r\nX-Forwarded-Proto: https\r\n" : "\r\nX-Forwarded-Proto: http\r\n")
            }
            if !keptPort && listenPort > 0 {
                out.append("X-Forwarded-Port: ")
                out.appendDecimal(Int64(listenPort))
                out.append("\r\n")
            }
            if let keptHost {
                out.append("X-Forwarded-Host: ")
                out.append(b, keptHost.lowerBound, keptHost.upperBound)
                out.append("\r\n")
            } else if head.hasHost {
                out.append("X-Forwarded-Host: ")
                head.appendCanonicalAuthority(to: &out)
                out.append("\r\n")
            }
            out.append("X-Request-Id: ")
            out.append(requestID)
            out.append("\r\n")
        }
        out.append(identityBlock)
        for (name, value) in route.config.setRequestHeaders {
            out.append(name)
            out.append(": ")
            out.append(value)
            out.append("\r\n")
        }
        if head.isChunked {
            out.append("Transfer-Encoding: chunked\r\n")
        } else if head.contentLength >= 0 {
            out.append("Content-Length: ")
            out.appendDecimal(head.contentLength)
            out.append("\r\n")
        }
        if upgrade, let f = head.first(.upgrade) {
            out.append("Connection: upgrade\r\nUpgrade: ")
            head.bytes.withUnsafeBytes { out.append($0, Int(f.valueStart), Int(f.valueEnd)) }
            out.append("\r\n")
        }
        out.append("\r\n")
    }

    /// One `Cookie` field without the gateway's cookies; copied as it is when it holds none
    /// of them, left out when nothing else is left.
    private func writeCookie(_ b: UnsafeRawBufferPointer, _ f: HeaderField, into out: inout HeadBuffer) {
        let vs = Int(f.valueStart)
        let ve = Int(f.valueEnd)
        let mark = out.count
        out.append(b, Int(f.nameStart), Int(f.nameEnd))
        out.append(": ")
        if CookieFilter.containsAny(b, vs, ve, names: route.gatewayCookies) {
            guard CookieFilter.appendKept(b, vs, ve, removing: route.gatewayCookies, to: &out) else {
                out.truncate(to: mark)
                return
            }
        } else {
            out.append(b, vs, ve)
        }
        out.append("\r\n")
    }
}
