import Glibc
import HTTP1

/// Formats one access-log line. Never a token, a password, a query string (it may carry
/// credentials) or a header value other than the request id: `sub`, `sid` and `jti` only.
enum AccessLogLine {
    static func append(_ c: ClientConnection, status: Int, now: Int64, into out: inout [UInt8]) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        HeadWriter.append(
            "{\"time\":\(ts.tv_sec).\(String(ts.tv_nsec / 1_000_000).leftPad(3)),\"request_id\":\"", to: &out)
        out.append(contentsOf: c.requestID)
        HeadWriter.append("\",\"client\":", to: &out)
        JSONWriter.appendString(c.peer?.hostText ?? "-", to: &out)
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
        if let p = c.principal {
            if let sub = p.subject {
                HeadWriter.append(",\"sub\":", to: &out)
                JSONWriter.appendString(sub, to: &out)
            }
            if let sid = p.sid {
                HeadWriter.append(",\"sid\":", to: &out)
                JSONWriter.appendString(sid, to: &out)
            }
            if let jti = p.jti {
                HeadWriter.append(",\"jti\":", to: &out)
                JSONWriter.appendString(jti, to: &out)
            }
        }
        if let reason = c.authFailure {
            HeadWriter.append(",\"auth_failure\":", to: &out)
            JSONWriter.appendString(reason, to: &out)
        }
        HeadWriter.append("}\n", to: &out)
    }
}
