#if canImport(Glibc)
import Glibc
#endif

/// Field-line syntax shared by requests, responses and trailers (RFC 9112 §5).
enum HeaderLineParser {
    /// Parses one field line `[start, end)` (without its CRLF) of `b`.
    @inline(__always)
    static func parse(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int, table: UnsafePointer<UInt8>)
        throws(HTTPParseError) -> HeaderField
    {
        let first = b[start]
        if first == 0x20 || first == 0x09 { throw .obsoleteLineFolding }
        var i = start
        while i < end {
            let c = b[i]
            if c == UInt8(ascii: ":") { break }
            if table[Int(c)] & CharacterClass.token == 0 {
                if c == 0x20 || c == 0x09 { throw .whitespaceBeforeColon }
                if c == 0x0D { throw .bareCarriageReturn }
                throw .invalidHeaderName
            }
            i += 1
        }
        guard i < end, i > start else { throw .invalidHeaderName }
        let nameEnd = i
        i += 1
        while i < end, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
        let valueStart = i
        while i < end {
            // Eight bytes at a time while none is a control byte or DEL: valid field content
            // (VCHAR, SP, obs-text). A block with HTAB or anything invalid goes byte by byte.
            if i + 8 <= end && allFieldContent(b.loadUnaligned(fromByteOffset: i, as: UInt64.self)) {
                i += 8
                continue
            }
            let c = b[i]
            if table[Int(c)] & CharacterClass.fieldValue == 0 {
                if c == 0x0D { throw .bareCarriageReturn }
                throw .invalidHeaderValue
            }
            i += 1
        }
        // Trailing whitespace is not part of the value (RFC 9110 §5.5).
        var valueEnd = end
        while valueEnd > valueStart, b[valueEnd - 1] == 0x20 || b[valueEnd - 1] == 0x09 { valueEnd -= 1 }
        return HeaderField(
            nameStart: Int32(start), nameEnd: Int32(nameEnd), valueStart: Int32(valueStart),
            valueEnd: Int32(valueEnd), known: KnownHeader.classify(b, start, nameEnd))
    }
}

/// The offset of the CR of the first CRLF at or after `start`. The head scanner guarantees
/// that every line ends in CRLF and that the head ends in an empty line; a CR not followed by
/// LF is part of its line (and refused there). Input that breaks the guarantee gets `missing`.
@inline(__always)
func lineEndOffset(_ b: UnsafeRawBufferPointer, from start: Int, missing: HTTPParseError) throws(HTTPParseError)
    -> Int
{
    guard let base = b.baseAddress else { throw missing }
    var i = start
    while i < b.count, let hit = memchr(base + i, 0x0D, b.count - i) {
        let cr = base.distance(to: UnsafeRawPointer(hit))
        if cr + 1 < b.count && b[cr + 1] == 0x0A { return cr }
        i = cr + 1
    }
    throw missing
}

/// Whether all eight bytes of `x` are in 0x21...0x7E. A byte at or above 0x80 sets its high
/// bit in `x`; one below 0x21 sets it in `x - 0x21…` (a borrow out of such a byte can only set
/// more high bits, never hide one); 0x7F sets it in `x + 0x01…` (no carries once every byte is
/// below 0x80).
@inline(__always)
func allVisibleASCII(_ x: UInt64) -> Bool {
    let high: UInt64 = 0x8080_8080_8080_8080
    return (x | (x &- 0x2121_2121_2121_2121) | (x &+ 0x0101_0101_0101_0101)) & high == 0
}

/// Whether none of the eight bytes of `x` is below 0x20 or equal to 0x7F, i.e. all are
/// SP, VCHAR or obs-text. `(x - 0x20…) & ~x & 0x80…` is non-zero exactly when some byte is
/// below 0x20 (the "has less than n" test, exact for n <= 128: a byte at or above 0x80 is
/// masked by `~x`, and a borrow only starts at a byte that is itself below 0x20); DEL is a
/// zero byte of `x ^ 0x7F…`, found the same way with n = 1.
@inline(__always)
func allFieldContent(_ x: UInt64) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let high: UInt64 = 0x8080_8080_8080_8080
    let control = (x &- ones &* 0x20) & ~x & high
    let d = x ^ (ones &* 0x7F)
    let del = (d &- ones) & ~d & high
    return control | del == 0
}

/// Comma-separated list elements of a field value (RFC 9110 §5.6.1), empty ones skipped.
@inline(__always)
func forEachListElement(
    _ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int,
    _ body: (Int, Int) throws(HTTPParseError) -> Void
) throws(HTTPParseError) {
    var i = start
    while i < end {
        while i < end, b[i] == 0x20 || b[i] == 0x09 || b[i] == UInt8(ascii: ",") { i += 1 }
        let s = i
        while i < end, b[i] != UInt8(ascii: ",") { i += 1 }
        var e = i
        while e > s, b[e - 1] == 0x20 || b[e - 1] == 0x09 { e -= 1 }
        if e > s { try body(s, e) }
    }
}
