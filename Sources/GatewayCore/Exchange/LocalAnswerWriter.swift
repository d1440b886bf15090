import HTTP1

/// Renders a gateway-made answer (`LocalResponse`) for an HTTP/1.1 client, without I/O: the
/// response side of an exchange that the gateway answers itself. The driver queues the bytes;
/// an HTTP/2 stream would render the same answer as frames.
struct LocalAnswerWriter {
    /// The answer.
    var response: LocalResponse
    /// The cached `Date` value (the worker's, updated once a second).
    var date: [UInt8]
    /// CORS headers every response to the request carries (empty without `Origin`).
    var corsHeaders: [(String, String)]
    /// The request's `X-Request-Id` (empty: none).
    var requestID: [UInt8]
    /// The server state machine's keep-alive decision for this response.
    var keepAlive: Bool
    var requestMethod: HTTPMethod
    var requestVersion: HTTPVersion

    /// Appends status line, headers, the empty line and (unless the request was HEAD or the
    /// status has no body) the body to `out`.
    func write(into out: inout [UInt8]) {
        HeadWriter.appendStatusLine(response.status, to: &out)
        HeadWriter.append("Date: ", to: &out)
        out.append(contentsOf: date)
        HeadWriter.append("\r\n", to: &out)
        for (name, value) in response.headers {
            appendField(name, value, to: &out)
        }
        for (name, value) in corsHeaders {
            appendField(name, value, to: &out)
        }
        if !requestID.isEmpty {
            HeadWriter.append("X-Request-Id: ", to: &out)
            out.append(contentsOf: requestID)
            HeadWriter.append("\r\n", to: &out)
        }
        let bodyless = response.status == 204 || response.status == 304
        if !bodyless {
            HeadWriter.append("Content-Length: ", to: &out)
            HeadWriter.appendDecimal(Int64(response.body.count), to: &out)
            HeadWriter.append("\r\n", to: &out)
        }
        if !keepAlive {
            HeadWriter.append("Connection: close\r\n", to: &out)
        } else if requestVersion == .http10 {
            HeadWriter.append("Connection: keep-alive\r\n", to: &out)
        }
        HeadWriter.append("\r\n", to: &out)
        if requestMethod != .head && !bodyless {
            out.append(contentsOf: response.body)
        }
    }

    private func appendField(_ name: String, _ value: String, to out: inout [UInt8]) {
        HeadWriter.append(name, to: &out)
        HeadWriter.append(": ", to: &out)
        HeadWriter.append(value, to: &out)
        HeadWriter.append("\r\n", to: &out)
    }
}
