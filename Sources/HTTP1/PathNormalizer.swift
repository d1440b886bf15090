/// Normalises a request path before routing, so that the route chosen and the path the
/// upstream receives are one and the same (SPEC §4, §8).
///
/// - Percent-encoded unreserved characters are decoded (`%2e` is `.`, `%41` is `A`); every
///   other escape is kept, with upper-case hex (RFC 3986 §6.2.2.1–2).
/// - Encoded `/`, `\`, NUL or `;` (`%2F`, `%5C`, `%00`, `%3B`), a raw `\` or `;`, and any
///   byte outside RFC 3986's path characters are refused: they are how a request reaches
///   one upstream route while matching another.
/// - Dot segments are removed (RFC 3986 §5.2.4); `..` above the root is refused rather than
///   clamped; empty segments (`//`) are merged. A trailing slash is kept.
public enum PathNormalizer {
    /// Normalises `path` (origin-form path, starting with `/`, no query) into `out`.
    public static func normalize(_ path: UnsafeRawBufferPointer, into out: inout [UInt8]) throws(HTTPParseError) {
        out.removeAll(keepingCapacity: true)
        let n = path.count
        guard n > 0, path[0] == UInt8(ascii: "/") else { throw .invalidPath }
        let table = CharacterClass.table
        out.append(UInt8(ascii: "/"))
        // `out` always ends in "/" between segments; `segStart` is where the current
        // segment's bytes begin in `out`.
        var segStart = 1
        var i = 1
        while true {
            // Copy one segment, decoding as we go.
            var dots = 0
            var other = false
            while i < n, path[i] != UInt8(ascii: "/") {
                var c = path[i]
                if c == UInt8(ascii: "%") {
                    guard i + 2 < n,
                        let h = CharacterClass.hexValue(path[i + 1]), let l = CharacterClass.hexValue(path[i + 2])
                    else { throw .invalidPath }
                    let v = h << 4 | l
                    if v == 0x2F || v == 0x5C || v == 0x00 || v == 0x3B { throw .forbiddenPathEncoding }
                    if table[Int(v)] & CharacterClass.unreserved != 0 {
                        c = v
                        i += 3
                    } else {
                        out.append(UInt8(ascii: "%"))
                        out.append(hexDigit(v >> 4))
                        out.append(hexDigit(v & 0xF))
                        other = true
                        i += 3
                        continue
                    }
                } else {
                    if c == UInt8(ascii: "\\") || c == UInt8(ascii: ";") || c == 0 { throw .forbiddenPathEncoding }
                    if table[Int(c)] & CharacterClass.pathRaw == 0 { throw .invalidPath }
                    i += 1
                }
                if c == UInt8(ascii: ".") { dots += 1 } else { other = true }
                out.append(c)
            }
            let segmentLength = out.count - segStart
            let atEnd = i >= n
            if !other && dots == segmentLength && dots <= 2 {
                // Empty, "." or "..": drop the segment.
                out.removeLast(segmentLength)
                if dots == 2 {
                    // Remove the previous segment and its slash.
                    guard segStart > 1 else { throw .pathAboveRoot }
                    var j = segStart - 2
                    while out[j] != UInt8(ascii: "/") { j -= 1 }
                    out.removeLast(out.count - (j + 1))
                    segStart = j + 1
                }
                if atEnd { break }
                i += 1  // the slash; `out` already ends in "/"
                continue
            }
            if atEnd { break }
            out.append(UInt8(ascii: "/"))
            segStart = out.count
            i += 1
        }
        // "/a/" stays "/a/"; "/a/.." became "/"; "/a/b" has no trailing slash.
    }

    /// Validates a query string: visible ASCII except `#`. It is forwarded as received.
    public static func validateQuery(_ query: UnsafeRawBufferPointer) throws(HTTPParseError) {
        let table = CharacterClass.table
        for c in query where table[Int(c)] & CharacterClass.query == 0 { throw .invalidTarget }
    }

    @inline(__always)
    private static func hexDigit(_ v: UInt8) -> UInt8 {
        v < 10 ? 0x30 + v : 0x41 + v - 10
    }
}
