import Glibc

/// A small set of header names, matched ASCII case-insensitively and with `_` read as `-`
/// against names in a message head: CGI, WSGI, PHP, Rack and uWSGI map both to the same
/// variable, so `X_Auth_Subject` is `X-Auth-Subject` to them and must be to us. Lists here
/// are short (identity headers, a route's removals), so a length check then a byte compare
/// beats hashing.
struct HeaderNameSet: Sendable {
    private let names: [[UInt8]]

    init(_ names: [String]) {
        self.names = names.map { Array(HeaderNameSet.fold($0).utf8) }
    }

    init(lowercased: [[UInt8]]) {
        self.names = lowercased.map { $0.map(HeaderNameSet.foldByte) }
    }

    var isEmpty: Bool { names.isEmpty }

    /// The form names are compared in: lower case, `_` as `-`.
    static func fold(_ name: String) -> String {
        String(decoding: name.utf8.map(foldByte), as: UTF8.self)
    }

    @inline(__always)
    static func foldByte(_ b: UInt8) -> UInt8 {
        if b >= 0x41 && b <= 0x5A { return b | 0x20 }
        return b == UInt8(ascii: "_") ? UInt8(ascii: "-") : b
    }

    func contains(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        let n = end - start
        for name in names where name.count == n {
            var same = true
            name.withUnsafeBufferPointer { p in
                for i in 0..<n where HeaderNameSet.foldByte(b[start + i]) != p[i] {
                    same = false
                    break
                }
            }
            if same { return true }
        }
        return false
    }

    static func + (a: HeaderNameSet, b: HeaderNameSet) -> HeaderNameSet {
        HeaderNameSet(lowercased: a.names + b.names)
    }
}

/// Whether `b[s..<e]` equals (ASCII case-insensitively, `_` as `-`) one of `ranges` of the
/// same buffer: the field names a `Connection` header nominated as hop-by-hop.
func rangesContainName(_ ranges: [Range<Int32>], _ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Bool {
    for r in ranges where Int(r.upperBound - r.lowerBound) == e - s {
        var same = true
        for i in 0..<(e - s) {
            if HeaderNameSet.foldByte(b[s + i]) != HeaderNameSet.foldByte(b[Int(r.lowerBound) + i]) {
                same = false
                break
            }
        }
        if same { return true }
    }
    return false
}

/// Whether a header name holds `_` (dropped unless the route allows them, as nginx's
/// `underscores_in_headers off` does).
@inline(__always)
func nameHasUnderscore(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Bool {
    memchr(b.baseAddress! + s, Int32(UInt8(ascii: "_")), e - s) != nil
}

/// Calls `body` with `hex(count) CRLF` in a stack buffer (no allocation per chunk).
@inline(__always)
func withChunkHeader(_ count: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buf in
        var digits = 0
        var v = count
        repeat {
            digits += 1
            v >>= 4
        } while v > 0
        var i = digits - 1
        v = count
        while i >= 0 {
            let d = UInt8(v & 0xF)
            buf[i] = d < 10 ? 0x30 + d : 0x61 + d - 10
            v >>= 4
            i -= 1
        }
        buf[digits] = 0x0D
        buf[digits + 1] = 0x0A
        body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf)[..<(digits + 2)]))
    }
}
