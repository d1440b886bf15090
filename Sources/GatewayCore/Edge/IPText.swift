import Glibc

/// IP address text on bytes, for `X-Forwarded-For` / `Forwarded` entries and CIDRs: numeric
/// IPv4 or IPv6 only (never a name, never a zone id), as a 128-bit IPv4-mapped number.
enum IPText {
    /// Longest IPv6 text `inet_pton` reads (`INET6_ADDRSTRLEN` less the NUL).
    static let maxLength = 45

    /// Parses `b[s..<e]` as one numeric address; nil for anything else. No heap allocation.
    static func parse(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> (hi: UInt64, lo: UInt64)? {
        let n = e - s
        guard n > 0, n <= maxLength else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: maxLength + 1) { buf in
            var colon = false
            for i in 0..<n {
                let c = b[s + i]
                // Only the characters of numeric addresses: a NUL or `%` (zone) never reaches inet_pton.
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
                    UInt8(ascii: "A")...UInt8(ascii: "F"), UInt8(ascii: "."):
                    break
                case UInt8(ascii: ":"): colon = true
                default: return nil
                }
                buf[i] = CChar(bitPattern: c)
            }
            buf[n] = 0
            if !colon {
                var a4 = in_addr()
                guard inet_pton(AF_INET, buf.baseAddress!, &a4) == 1 else { return nil }
                return (0, 0x0000_ffff_0000_0000 | UInt64(UInt32(bigEndian: a4.s_addr)))
            }
            var a6 = in6_addr()
            guard inet_pton(AF_INET6, buf.baseAddress!, &a6) == 1 else { return nil }
            return withUnsafeBytes(of: a6) { r in
                var hi: UInt64 = 0
                var lo: UInt64 = 0
                for i in 0..<8 { hi = hi << 8 | UInt64(r[i]) }
                for i in 8..<16 { lo = lo << 8 | UInt64(r[i]) }
                return (hi, lo)
            }
        }
    }

    static func parse(_ text: String) -> (hi: UInt64, lo: UInt64)? {
        var t = text
        return t.withUTF8 { u in parse(UnsafeRawBufferPointer(u), 0, u.count) }
    }
}
