import Glibc
import HTTP1

/// Removes the gateway's own cookies (the HttpOnly refresh cookie) from a `Cookie` field
/// value, so that no upstream ever receives them (RFC 6265 §5.4 `cookie-string`).
enum CookieFilter {
    /// Whether `b[s..<e]` holds a cookie named exactly (case-sensitively) one of `names`.
    static func containsAny(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int, names: [[UInt8]]) -> Bool {
        var found = false
        forEachPair(b, s, e) { _, _, ns, ne in
            if matches(b, ns, ne, names) { found = true }
        }
        return found
    }

    /// Appends the pairs of `b[s..<e]` whose names are not in `names`, each byte for byte,
    /// joined by `"; "`. Returns false (and appends nothing) when none is left.
    static func appendKept(
        _ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int, removing names: [[UInt8]], to out: inout HeadBuffer
    ) -> Bool {
        let mark = out.count
        forEachPair(b, s, e) { ps, pe, ns, ne in
            if matches(b, ns, ne, names) { return }
            if out.count > mark { out.append("; ") }
            out.append(b, ps, pe)
        }
        return out.count > mark
    }

    /// Calls `body(pairStart, pairEnd, nameStart, nameEnd)` for each non-empty `;`-separated
    /// pair, trimmed of spaces and tabs; the name is what precedes `=`, trimmed too (as
    /// browsers and server frameworks read it). A pair without `=` has an empty name.
    private static func forEachPair(
        _ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int, _ body: (Int, Int, Int, Int) -> Void
    ) {
        var i = s
        while i < e {
            var ps = i
            while i < e, b[i] != UInt8(ascii: ";") { i += 1 }
            var pe = i
            i += 1
            while ps < pe, b[ps] == 0x20 || b[ps] == 0x09 { ps += 1 }
            while pe > ps, b[pe - 1] == 0x20 || b[pe - 1] == 0x09 { pe -= 1 }
            guard pe > ps else { continue }
            var eq = ps
            while eq < pe, b[eq] != UInt8(ascii: "=") { eq += 1 }
            if eq == pe {
                body(ps, pe, ps, ps)
                continue
            }
            var ne = eq
            while ne > ps, b[ne - 1] == 0x20 || b[ne - 1] == 0x09 { ne -= 1 }
            body(ps, pe, ps, ne)
        }
    }

    private static func matches(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int, _ names: [[UInt8]]) -> Bool {
        let n = e - s
        guard n > 0 else { return false }
        for name in names where name.count == n {
            let same = name.withUnsafeBytes { p in memcmp(p.baseAddress!, b.baseAddress! + s, n) == 0 }
            if same { return true }
        }
        return false
    }
}
