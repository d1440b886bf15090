/// `X-Forwarded-Port` is no field the HTTP parser knows: matched by name here.
enum ForwardedPort {
    private static let lower = Array("x-forwarded-port".utf8)

    /// Whether `b[s..<e]` is `X-Forwarded-Port`, in any ASCII case (or with `_` for `-`:
    /// CGI-style upstreams read both alike).
    static func isName(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Bool {
        guard e - s == 16 else { return false }
        for i in 0..<16 {
            var c = b[s + i]
            if c >= 0x41 && c <= 0x5A { c |= 0x20 }
            if c == UInt8(ascii: "_") { c = UInt8(ascii: "-") }
            if c != lower[i] { return false }
        }
        return true
    }
}
