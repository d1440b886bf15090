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
        var valueEnd = i
        while i < end {
            let c = b[i]
            if table[Int(c)] & CharacterClass.fieldValue == 0 {
                if c == 0x0D { throw .bareCarriageReturn }
                throw .invalidHeaderValue
            }
            i += 1
            if c != 0x20 && c != 0x09 { valueEnd = i }
        }
        return HeaderField(
            nameStart: Int32(start), nameEnd: Int32(nameEnd), valueStart: Int32(valueStart),
            valueEnd: Int32(valueEnd), known: KnownHeader.classify(b, start, nameEnd))
    }
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
