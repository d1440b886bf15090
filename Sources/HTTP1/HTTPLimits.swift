/// Size limits applied while parsing (SPEC §8 defaults).
public struct HTTPLimits: Sendable, Equatable {
    /// Longest request line, CRLF included: longer gets 414.
    public var maxRequestLine: Int
    /// Largest header section (all field lines): larger gets 431.
    public var maxHeaderBytes: Int
    /// Most header lines: more gets 431.
    public var maxHeaderCount: Int

    public init(maxRequestLine: Int = 8192, maxHeaderBytes: Int = 16384, maxHeaderCount: Int = 100) {
        self.maxRequestLine = maxRequestLine
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
    }
}
