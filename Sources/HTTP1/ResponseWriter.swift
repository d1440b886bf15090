/// Appends HTTP/1.1 message heads to a byte buffer, with no intermediate `String`s.
public enum HeadWriter {
    @inline(__always)
    public static func append(_ s: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    @inline(__always)
    public static func append(_ s: String, to out: inout [UInt8]) {
        out.append(contentsOf: s.utf8)
    }

    public static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value == 0 {
            out.append(0x30)
            return
        }
        var v = value.magnitude
        var tmp:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &tmp) { p in
            while v > 0 {
                p[count] = UInt8(0x30 + v % 10)
                v /= 10
                count += 1
            }
        }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        withUnsafeBytes(of: &tmp) { p in
            var i = count - 1
            while i >= 0 {
                out.append(p[i])
                i -= 1
            }
        }
    }

    /// `HTTP/1.1 <status> <reason>\r\n`
    public static func appendStatusLine(_ status: Int, to out: inout [UInt8]) {
        append("HTTP/1.1 ", to: &out)
        appendDecimal(Int64(status), to: &out)
        out.append(0x20)
        append(reasonPhrase(status), to: &out)
        append("\r\n", to: &out)
    }

    /// `<name>: <value>\r\n`; the caller guarantees both are valid field syntax.
    public static func appendField(_ name: StaticString, _ value: String, to out: inout [UInt8]) {
        append(name, to: &out)
        append(": ", to: &out)
        out.append(contentsOf: value.utf8)
        append("\r\n", to: &out)
    }

    public static func reasonPhrase(_ status: Int) -> StaticString {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 206: return "Partial Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 411: return "Length Required"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Status"
        }
    }
}
