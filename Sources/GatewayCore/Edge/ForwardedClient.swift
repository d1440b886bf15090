import HTTP1

/// The client address behind trusted proxies: the right-most entry of `X-Forwarded-For`
/// (or, without it, of RFC 7239 `Forwarded`'s `for=`) that is not itself a trusted proxy.
/// Each proxy appends the address it saw on the right, so everything right of the first
/// untrusted entry was written by proxies we trust, and everything left of it may be forged.
///
/// An entry that is not a numeric address (`unknown`, an obfuscated `_id`, garbage) ends
/// the walk: the client is then the last address examined, the nearest proxy that told us
/// something we can use. With every entry trusted, the left-most one is the client.
enum ForwardedClient {
    typealias IP = (hi: UInt64, lo: UInt64)

    /// Call only for a trusted `peer`: from anyone else these headers mean nothing.
    static func resolve(_ head: RequestHead, peer: IP, trusted: TrustedProxies) -> IP {
        var hasXFF = false
        var hasForwarded = false
        for f in head.fields {
            if f.known == .xForwardedFor { hasXFF = true } else if f.known == .forwarded { hasForwarded = true }
        }
        guard hasXFF || hasForwarded else { return peer }
        let which: KnownHeader = hasXFF ? .xForwardedFor : .forwarded
        return head.bytes.withUnsafeBytes { b in
            var current = peer
            var i = head.fields.count - 1
            while i >= 0 {
                let f = head.fields[i]
                i -= 1
                guard f.known == which else { continue }
                // Entries of one field, right to left.
                var end = Int(f.valueEnd)
                let start = Int(f.valueStart)
                while end > start {
                    var comma = end - 1
                    while comma >= start, b[comma] != UInt8(ascii: ",") { comma -= 1 }
                    let (s, e) = trim(b, comma + 1, end)
                    end = comma
                    if s == e { continue }  // `a,,b`: empty list elements are allowed (RFC 9110 §5.6.1)
                    let ip = which == .xForwardedFor ? IPText.parse(b, s, e) : forwardedFor(b, s, e)
                    guard let ip else { return current }
                    current = ip
                    if !trusted.contains(ip) { return ip }
                }
            }
            return current
        }
    }

    static func trim(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> (Int, Int) {
        var s = s
        var e = e
        while s < e, b[s] == 0x20 || b[s] == 0x09 { s += 1 }
        while e > s, b[e - 1] == 0x20 || b[e - 1] == 0x09 { e -= 1 }
        return (s, e)
    }

    /// The address in one `Forwarded` element's `for=` (RFC 7239 §4, §6): `for=192.0.2.60`,
    /// `for="192.0.2.60:8080"`, `for="[2001:db8::1]:4711"`. Nil without one, or when it is
    /// `unknown` or an obfuscated identifier.
    static func forwardedFor(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> IP? {
        var p = s
        while p < e {
            var semi = p
            while semi < e, b[semi] != UInt8(ascii: ";") { semi += 1 }
            let (ps, pe) = trim(b, p, semi)
            p = semi + 1
            guard pe - ps > 4, lower(b[ps]) == UInt8(ascii: "f"), lower(b[ps + 1]) == UInt8(ascii: "o"),
                lower(b[ps + 2]) == UInt8(ascii: "r"), b[ps + 3] == UInt8(ascii: "=")
            else { continue }
            var vs = ps + 4
            var ve = pe
            if b[vs] == UInt8(ascii: "\"") {
                guard ve - vs >= 2, b[ve - 1] == UInt8(ascii: "\"") else { return nil }
                vs += 1
                ve -= 1
            }
            guard ve > vs else { return nil }
            if b[vs] == UInt8(ascii: "[") {
                var close = vs + 1
                while close < ve, b[close] != UInt8(ascii: "]") { close += 1 }
                guard close < ve else { return nil }
                return IPText.parse(b, vs + 1, close)
            }
            // IPv4, maybe with a port.
            var colon = vs
            while colon < ve, b[colon] != UInt8(ascii: ":") { colon += 1 }
            return IPText.parse(b, vs, colon)
        }
        return nil
    }

    @inline(__always) static func lower(_ c: UInt8) -> UInt8 { c | 0x20 }
}
