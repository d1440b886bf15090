/// The one canonical form of the host a request addressed (`uri-host [":" port]`, RFC 9110
/// §7.2), used alike for routing and for what upstreams are told, so that the two can never
/// disagree:
/// - a reg-name is lower-cased and loses one trailing dot (`Admin.Example.COM.` is
///   `admin.example.com`); its labels are letters, digits, `-` and `_` (1-63 bytes, not
///   starting or ending in `-`), at most 253 bytes in all. Punycode (`xn--`) labels are ASCII
///   and pass; raw non-ASCII, percent-encoding and other sub-delims are refused;
/// - a name whose last label is numeric must be a dotted-quad IPv4 literal (four decimal
///   octets 0-255, no leading zeros), so `127.1` or `0x7f.0.0.1` never reach a resolver that
///   reads them as another address;
/// - an IPv6 literal is bracketed, hex groups with at most one `::` and an optional embedded
///   IPv4 tail, lower-cased; zone ids and IPvFuture are refused;
/// - a port is 1-5 digits with a value in 1...65535; `host:` (empty port) is refused.
/// Nothing is ever truncated: too long is an error.
public enum HostCanonicalizer {
    /// Longest host name (RFC 1123 §2.1, RFC 1035 §2.3.4), not counting one trailing dot.
    public static let maxNameLength = 253

    /// Appends the canonical host of `b[s..<e]` to `out` (brackets kept for IPv6) and returns
    /// the port, or -1 when none was given. No allocation beyond `out`'s growth.
    /// - Throws: `.hostTooLong` above `maxNameLength`, `.invalidHost` for anything else that
    ///   is not a valid host.
    public static func canonicalize(
        _ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int, into out: inout [UInt8]
    ) throws(HTTPParseError) -> Int32 {
        guard e > s else { throw .invalidHost }
        let hostEnd: Int
        if b[s] == UInt8(ascii: "[") {
            var close = s + 1
            while close < e, b[close] != UInt8(ascii: "]") { close += 1 }
            guard close < e else { throw .invalidHost }
            try validateIPv6(b, s + 1, close)
            out.append(UInt8(ascii: "["))
            for i in (s + 1)..<close { out.append(lower(b[i])) }
            out.append(UInt8(ascii: "]"))
            hostEnd = close + 1
        } else {
            var colon = s
            while colon < e, b[colon] != UInt8(ascii: ":") { colon += 1 }
            hostEnd = colon
            var nameEnd = colon
            if nameEnd > s, b[nameEnd - 1] == UInt8(ascii: ".") { nameEnd -= 1 }
            guard nameEnd - s <= maxNameLength else { throw .hostTooLong }
            try validateName(b, s, nameEnd)
            for i in s..<nameEnd { out.append(lower(b[i])) }
        }
        guard hostEnd < e else { return -1 }
        guard b[hostEnd] == UInt8(ascii: ":") else { throw .invalidHost }
        return try parsePort(b, hostEnd + 1, e)
    }

    /// Canonicalises a whole string (configuration values, tests): the host and the port.
    public static func canonicalize(_ text: String) throws(HTTPParseError) -> (host: String, port: Int32) {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        let result: Result<Int32, HTTPParseError> = bytes.withUnsafeBytes { b in
            do throws(HTTPParseError) {
                return .success(try canonicalize(b, 0, b.count, into: &out))
            } catch {
                return .failure(error)
            }
        }
        let port = try result.get()
        return (String(decoding: out, as: UTF8.self), port)
    }

    @inline(__always)
    private static func lower(_ c: UInt8) -> UInt8 { (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c }

    @inline(__always)
    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    private static func parsePort(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) throws(HTTPParseError) -> Int32 {
        guard e > s, e - s <= 5 else { throw .invalidHost }
        var v: Int32 = 0
        for i in s..<e {
            guard isDigit(b[i]) else { throw .invalidHost }
            v = v * 10 + Int32(b[i] - 0x30)
        }
        guard v >= 1, v <= 65535 else { throw .invalidHost }
        return v
    }

    /// LDH(+`_`) labels; a numeric last label makes the whole name an IPv4 literal.
    private static func validateName(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) throws(HTTPParseError) {
        guard e > s else { throw .invalidHost }
        var labelStart = s
        var lastLabelStart = s
        var i = s
        while i <= e {
            if i == e || b[i] == UInt8(ascii: ".") {
                let n = i - labelStart
                guard n >= 1, n <= 63 else { throw .invalidHost }
                guard b[labelStart] != UInt8(ascii: "-"), b[i - 1] != UInt8(ascii: "-") else { throw .invalidHost }
                lastLabelStart = labelStart
                labelStart = i + 1
            } else {
                let c = b[i]
                let ok =
                    (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || isDigit(c) || c == UInt8(ascii: "-")
                    || c == UInt8(ascii: "_")
                guard ok else { throw .invalidHost }
            }
            i += 1
        }
        // "Ends in a number" (WHATWG URL): decimal, or 0x-hex that inet_aton would accept.
        var numeric = true
        for j in lastLabelStart..<e where !isDigit(b[j]) {
            numeric = false
            break
        }
        if !numeric, e - lastLabelStart >= 2, b[lastLabelStart] == 0x30, b[lastLabelStart + 1] | 0x20 == 0x78 {
            var hex = true
            for j in (lastLabelStart + 2)..<e where CharacterClass.hexValue(b[j]) == nil {
                hex = false
                break
            }
            if hex { throw .invalidHost }
        }
        if numeric { try validateIPv4(b, s, e) }
    }

    /// Exactly four decimal octets 0-255, without leading zeros (which some parsers read as
    /// octal).
    static func validateIPv4(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) throws(HTTPParseError) {
        var parts = 0
        var i = s
        while true {
            let start = i
            var v = 0
            while i < e, isDigit(b[i]), i - start < 3 {
                v = v * 10 + Int(b[i] - 0x30)
                i += 1
            }
            let n = i - start
            guard n >= 1, v <= 255, n == 1 || b[start] != 0x30 else { throw .invalidHost }
            parts += 1
            if i == e { break }
            guard b[i] == UInt8(ascii: "."), parts < 4 else { throw .invalidHost }
            i += 1
        }
        guard parts == 4 else { throw .invalidHost }
    }

    /// RFC 4291 §2.2 text forms (the bytes between the brackets): 1-4 hex digits per group,
    /// eight groups or fewer with one `::`, an IPv4 tail counting as two.
    static func validateIPv6(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) throws(HTTPParseError) {
        guard e - s >= 2 else { throw .invalidHost }
        var groups = 0
        var compressed = false
        var i = s
        if b[i] == UInt8(ascii: ":") {
            guard b[i + 1] == UInt8(ascii: ":") else { throw .invalidHost }
            compressed = true
            i += 2
        }
        while i < e {
            let start = i
            while i < e, i - start < 5, CharacterClass.hexValue(b[i]) != nil { i += 1 }
            if i < e, b[i] == UInt8(ascii: ".") {
                try validateIPv4(b, start, e)
                groups += 2
                break
            }
            guard i - start >= 1, i - start <= 4 else { throw .invalidHost }
            groups += 1
            if i == e { break }
            guard b[i] == UInt8(ascii: ":") else { throw .invalidHost }
            i += 1
            if i < e, b[i] == UInt8(ascii: ":") {
                guard !compressed else { throw .invalidHost }
                compressed = true
                i += 1
            } else {
                guard i < e else { throw .invalidHost }
            }
        }
        guard compressed ? groups <= 7 : groups == 8 else { throw .invalidHost }
    }
}
