/// Why a byte stream is not valid RESP2, or goes beyond the parser's limits. Any of these
/// ends the connection: after a framing error nothing later on it can be trusted.
public enum RESPError: Error, Sendable, Equatable {
    /// A type byte other than `+ - : $ *`.
    case unknownType(UInt8)
    /// A line that does not end in CRLF, or holds a CR or LF of its own.
    case badLineEnding
    /// A length or integer that is not a decimal Int64.
    case badInteger
    /// A negative length other than -1.
    case badLength(Int64)
    /// A bulk string longer than `RESPLimits.maxBulkLength`.
    case bulkTooLong(Int64)
    /// An array with more elements than `RESPLimits.maxArrayCount`.
    case arrayTooLong(Int64)
    /// Arrays nested deeper than `RESPLimits.maxDepth`.
    case tooDeep
    /// A reply with more values in all than `RESPLimits.maxElements`.
    case tooManyElements
    /// A header or simple line longer than `RESPLimits.maxLineLength`.
    case lineTooLong
}

/// Bounds on what one reply may hold; far above what the store's commands return.
public struct RESPLimits: Sendable, Equatable {
    /// Longest bulk string (bytes).
    public var maxBulkLength: Int
    /// Most elements of one array.
    public var maxArrayCount: Int
    /// Deepest nesting of arrays (a top-level array has depth 1), empty and nil ones included.
    public var maxDepth: Int
    /// Most values (at every depth) in one top-level reply.
    public var maxElements: Int
    /// Longest line: simple strings, errors, integers, headers (bytes, without CRLF).
    public var maxLineLength: Int

    public init(
        maxBulkLength: Int = 64 << 20,
        maxArrayCount: Int = 1 << 20,
        maxDepth: Int = 8,
        maxElements: Int = 4 << 20,
        maxLineLength: Int = 64 << 10
    ) {
        self.maxBulkLength = maxBulkLength
        self.maxArrayCount = maxArrayCount
        self.maxDepth = maxDepth
        self.maxElements = maxElements
        self.maxLineLength = maxLineLength
    }

    public static let `default` = RESPLimits()
}
