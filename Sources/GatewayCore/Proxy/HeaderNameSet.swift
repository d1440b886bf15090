/// A small set of lower-case header names, matched case-insensitively against names in a
/// message head. Lists here are short (identity headers, a route's removals), so a
/// length check then a byte compare beats hashing.
struct HeaderNameSet: Sendable {
    private let names: [[UInt8]]

    init(_ names: [String]) {
        self.names = names.map { Array($0.lowercased().utf8) }
    }

    init(lowercased: [[UInt8]]) {
        self.names = lowercased
    }

    var isEmpty: Bool { names.isEmpty }

    func contains(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        let n = end - start
        for name in names where name.count == n {
            var same = true
            name.withUnsafeBufferPointer { p in
                for i in 0..<n {
                    var c = b[start + i]
                    if c >= 0x41 && c <= 0x5A { c |= 0x20 }
                    if c != p[i] {
                        same = false
                        break
                    }
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

/// Whether `b[s..<e]` equals (ASCII case-insensitively) one of `ranges` of the same
/// buffer: the field names a `Connection` header nominated as hop-by-hop.
func rangesContainName(_ ranges: [Range<Int32>], _ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Bool {
    for r in ranges where Int(r.upperBound - r.lowerBound) == e - s {
        var same = true
        for i in 0..<(e - s) {
            var x = b[s + i]
            var y = b[Int(r.lowerBound) + i]
            if x >= 0x41 && x <= 0x5A { x |= 0x20 }
            if y >= 0x41 && y <= 0x5A { y |= 0x20 }
            if x != y {
                same = false
                break
            }
        }
        if same { return true }
    }
    return false
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
