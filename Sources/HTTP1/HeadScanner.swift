/// Finds the end of a message head (the empty line) incrementally, as bytes arrive,
/// enforcing the size limits before the whole head is buffered.
///
/// Only line ends are looked at here; `RequestHeadParser`/`ResponseHeadParser` validate the
/// lines once the head is complete. A line must end in CRLF: a bare LF is refused (RFC
/// 9112 §2.2 allows accepting it, but a proxy that does so may disagree with its upstream
/// about where a line ends).
public struct HeadScanner: Sendable {
    private var scanned = 0
    private var lineStart = 0
    private var firstLineEnd = -1
    /// Empty lines before the start line are ignored (RFC 9112 §2.2); their bytes are skipped.
    public private(set) var skipped = 0

    public init() {}

    public mutating func reset() {
        self = HeadScanner()
    }

    /// Scans `buf` (all bytes received so far for this message, from its first byte).
    /// Returns the length of the head including the final CRLF CRLF (and any skipped
    /// leading empty lines), or nil when more bytes are needed.
    public mutating func scan(_ buf: UnsafeRawBufferPointer, limits: HTTPLimits) throws(HTTPParseError) -> Int? {
        let n = buf.count
        var i = scanned
        while i < n {
            // Find the next LF quickly.
            guard let base = buf.baseAddress,
                let hit = memchr(base + i, 0x0A, n - i)
            else {
                i = n
                break
            }
            let lf = base.distance(to: UnsafeRawPointer(hit))
            if lf == 0 || buf[lf - 1] != 0x0D { throw .bareLineFeed }
            let lineLength = lf - 1 - lineStart
            if firstLineEnd < 0 {
                if lineLength == 0 {
                    // Leading empty line: skip it, but not forever.
                    skipped = lf + 1
                    if skipped > 8 { throw .invalidRequestLine }
                    lineStart = lf + 1
                    i = lf + 1
                    continue
                }
                if lf + 1 - skipped > limits.maxRequestLine { throw .requestLineTooLong }
                firstLineEnd = lf + 1
            } else if lineLength == 0 {
                scanned = lf + 1
                return lf + 1
            }
            if lf + 1 - firstLineEnd > limits.maxHeaderBytes { throw .headersTooLarge }
            lineStart = lf + 1
            i = lf + 1
        }
        scanned = n
        if firstLineEnd < 0 {
            if n - skipped > limits.maxRequestLine { throw .requestLineTooLong }
        } else if n - firstLineEnd > limits.maxHeaderBytes && !(n - lineStart == 1 && buf[n - 1] == 0x0D) {
            // A lone CR after the last field line may begin the final empty line, which the
            // limit does not count: refusing it here would make the verdict depend on where
            // the reads split the head (found by the `server` fuzz target).
            throw .headersTooLarge
        }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#endif
