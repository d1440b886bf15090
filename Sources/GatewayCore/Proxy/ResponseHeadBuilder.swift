import HTTP1

/// How the gateway frames a relayed body for its client.
enum ClientFraming: Equatable {
    /// As the upstream framed it (Content-Length, or no body).
    case asIs
    /// Re-encoded as chunked (upstream chunked or close-delimited, client HTTP/1.1).
    case chunked
    /// Raw until the connection closes (client HTTP/1.0).
    case untilClose
}

/// Writes the head the client receives for an upstream response: hop-by-hop fields
/// dropped, framing re-declared, `X-Request-Id` added, route response rules applied.
struct ResponseHeadBuilder {
    let response: ResponseHead
    let requestMethod: HTTPMethod
    let clientVersion: HTTPVersion
    let keepAlive: Bool
    let requestID: [UInt8]
    let removed: HeaderNameSet
    let setHeaders: [(String, String)]
    /// A protocol switch (101) is being relayed.
    let upgrade: Bool
    /// The gateway answers CORS itself: the upstream's `Access-Control-*` fields would
    /// duplicate or contradict its own.
    var dropCORS = false

    private static func isCORSField(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Bool {
        let prefix: StaticString = "access-control-"
        let n = prefix.utf8CodeUnitCount
        guard e - s > n else { return false }
        for k in 0..<n where b[s + k] | 0x20 != prefix.utf8Start[k] | 0x20 { return false }
        return true
    }

    /// Writes the head and returns how the body must be framed for the client.
    func write(into out: inout HeadBuffer) -> ClientFraming {
        let framing = response.framing(requestMethod: requestMethod)
        var clientFraming = ClientFraming.asIs
        switch framing {
        case .chunked, .untilClose:
            clientFraming = clientVersion == .http11 ? .chunked : .untilClose
        case .none, .length:
            break
        }
        var sawRequestID = false
        response.bytes.withUnsafeBytes { b in
            out.append("HTTP/1.1 ")
            out.appendDecimal(Int64(response.status))
            out.append(0x20)
            if response.reasonEnd > response.reasonStart {
                out.append(b, Int(response.reasonStart), Int(response.reasonEnd))
            } else {
                out.append(HeadWriter.reasonPhrase(response.status))
            }
            out.append("\r\n")
            for f in response.fields {
                let ns = Int(f.nameStart)
                let ne = Int(f.nameEnd)
                if f.known.isHopByHop || f.known == .contentLength { continue }
                if removed.contains(b, ns, ne) || rangesContainName(response.connectionOptions, b, ns, ne) { continue }
                if dropCORS && Self.isCORSField(b, ns, ne) { continue }
                if f.known == .xRequestId { sawRequestID = true }
                out.append(b, ns, ne)
                out.append(": ")
                out.append(b, Int(f.valueStart), Int(f.valueEnd))
                out.append("\r\n")
            }
        }
        for (name, value) in setHeaders {
            out.append(name)
            out.append(": ")
            out.append(value)
            out.append("\r\n")
        }
        if !sawRequestID {
            out.append("X-Request-Id: ")
            out.append(requestID)
            out.append("\r\n")
        }
        switch clientFraming {
        case .chunked:
            out.append("Transfer-Encoding: chunked\r\n")
        case .asIs:
            // HEAD and 304 answers keep the length they declare for the representation.
            if response.contentLength >= 0 && !response.isInformational && response.status != 204 {
                out.append("Content-Length: ")
                out.appendDecimal(response.contentLength)
                out.append("\r\n")
            }
        case .untilClose:
            break
        }
        if upgrade, let up = response.value(named: "upgrade") {
            out.append("Connection: upgrade\r\nUpgrade: ")
            out.append(up)
            out.append("\r\n")
        } else if !keepAlive || clientFraming == .untilClose {
            out.append("Connection: close\r\n")
        } else if clientVersion == .http10 {
            out.append("Connection: keep-alive\r\n")
        }
        out.append("\r\n")
        return clientFraming
    }
}
