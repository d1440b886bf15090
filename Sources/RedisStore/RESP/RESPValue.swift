/// One RESP2 reply (https://redis.io/docs/latest/develop/reference/protocol-spec/).
///
/// Bulk strings stay bytes: Redis values (claims, digests) are binary, and a `String` is
/// made only where text is expected (`string`).
public enum RESPValue: Sendable, Equatable {
    /// `+OK\r\n`
    case simpleString(String)
    /// `-ERR message\r\n`: the command failed; the connection is fine.
    case error(String)
    /// `:42\r\n`
    case integer(Int64)
    /// `$3\r\nfoo\r\n`, or `$-1\r\n` (nil).
    case bulkString([UInt8]?)
    /// `*2\r\n…`, or `*-1\r\n` (nil).
    case array([RESPValue]?)

    /// The value as text: simple and bulk strings (UTF-8, lossy), and integers.
    public var string: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let b?): return String(decoding: b, as: UTF8.self)
        case .integer(let i): return String(i)
        default: return nil
        }
    }

    /// The value's bytes: bulk and simple strings.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let b?): return b
        case .simpleString(let s): return Array(s.utf8)
        default: return nil
        }
    }

    /// An integer reply, or a string holding a decimal integer.
    public var int64: Int64? {
        switch self {
        case .integer(let i): return i
        case .bulkString(let b?): return Int64(String(decoding: b, as: UTF8.self))
        case .simpleString(let s): return Int64(s)
        default: return nil
        }
    }

    /// The elements of a non-nil array.
    public var array: [RESPValue]? {
        if case .array(let a?) = self { return a }
        return nil
    }

    /// Whether this is a nil bulk string or nil array.
    public var isNull: Bool {
        switch self {
        case .bulkString(nil), .array(nil): return true
        default: return false
        }
    }

    /// The message of an error reply.
    public var errorMessage: String? {
        if case .error(let m) = self { return m }
        return nil
    }
}
