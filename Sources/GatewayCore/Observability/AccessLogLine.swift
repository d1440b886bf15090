import HTTP1

/// Formats one access-log line. Never a token, a password, a query string (it may carry
/// credentials) or a header value other than the request id: `sub`, `sid` and `jti` only.
enum AccessLogLine {
    static func append(_ c: ClientConnection, status: Int, now: Int64, into out: inout [UInt8]) {
        HeadWriter.append("{\"time\":", to: &out)
        WallClock.appendSeconds(WallClock.millis(), to: &out)
        HeadWriter.append(",\"request_id\":\"", to: &out)
        out.append(contentsOf: c.requestID)
        HeadWriter.append("\",\"client\":", to: &out)
        JSONWriter.appendString(c.client.text, to: &out)
        HeadWriter.append(",\"method\":", to: &out)
        JSONWriter.appendString(c.head.method.name, to: &out)
        HeadWriter.append(",\"path\":", to: &out)
        JSONWriter.appendString(c.head.path, to: &out)
        HeadWriter.append(",\"route\":", to: &out)
        JSONWriter.appendString(c.routeLabel, to: &out)
        HeadWriter.append(",\"status\":", to: &out)
        HeadWriter.appendDecimal(Int64(status), to: &out)
        HeadWriter.append(",\"duration_ms\":", to: &out)
        HeadWriter.appendDecimal(max(0, now - c.requestStart), to: &out)
        if let u = c.exchange.upstreamMillis {
            HeadWriter.append(",\"upstream_ms\":", to: &out)
            HeadWriter.appendDecimal(u, to: &out)
        }
        if let grant = c.grant {
            field("sub", grant.subject, into: &out)
            field("sid", grant.sid, into: &out)
            field("jti", grant.jti, into: &out)
        }
        field("auth_failure", c.authFailure, into: &out)
        HeadWriter.append("}\n", to: &out)
    }

    /// `,"name":"value"`, or nothing when the value is absent.
    private static func field(_ name: StaticString, _ value: String?, into out: inout [UInt8]) {
        guard let value else { return }
        HeadWriter.append(",\"", to: &out)
        out.append(contentsOf: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        HeadWriter.append("\":", to: &out)
        JSONWriter.appendString(value, to: &out)
    }
}
