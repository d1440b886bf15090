/// Why a message was refused. Each case maps to one status code (`status`) so that the
/// server answers every malformed input with a clear, specific 4xx (RFC 9112 §2.2, §6.3).
public enum HTTPParseError: Error, Equatable, Sendable {
    case requestLineTooLong
    case headersTooLarge
    case tooManyHeaders
    case invalidRequestLine
    case invalidMethod
    case invalidTarget
    case unsupportedVersion
    case invalidStatusLine
    case bareLineFeed
    case bareCarriageReturn
    case obsoleteLineFolding
    case whitespaceBeforeColon
    case invalidHeaderName
    case invalidHeaderValue
    case missingHost
    case duplicateHost
    case invalidHost
    /// A host name longer than `HostCanonicalizer.maxNameLength`: refused, never truncated.
    case hostTooLong
    case invalidContentLength
    case conflictingContentLength
    case contentLengthWithTransferEncoding
    case transferEncodingInHTTP10
    case unsupportedTransferCoding
    case invalidTransferEncoding
    case invalidChunkSize
    case chunkSizeTooLarge
    case invalidChunkFraming
    case invalidChunkExtension
    case trailersTooLarge
    case invalidTrailer
    case invalidPath
    case forbiddenPathEncoding
    case pathAboveRoot

    /// The status a server answers with.
    public var status: Int {
        switch self {
        case .requestLineTooLong: return 414
        case .headersTooLarge, .tooManyHeaders: return 431
        case .unsupportedVersion: return 505
        case .unsupportedTransferCoding: return 501
        default: return 400
        }
    }

    /// A short, fixed description safe to put in an error body (never echoes input).
    public var reason: String {
        switch self {
        case .requestLineTooLong: return "request line too long"
        case .headersTooLarge: return "request header fields too large"
        case .tooManyHeaders: return "too many header fields"
        case .invalidRequestLine: return "malformed request line"
        case .invalidMethod: return "invalid method"
        case .invalidTarget: return "invalid request target"
        case .unsupportedVersion: return "HTTP version not supported"
        case .invalidStatusLine: return "malformed status line"
        case .bareLineFeed: return "line ends in LF without CR"
        case .bareCarriageReturn: return "bare CR"
        case .obsoleteLineFolding: return "obsolete line folding"
        case .whitespaceBeforeColon: return "whitespace between field name and colon"
        case .invalidHeaderName: return "invalid header field name"
        case .invalidHeaderValue: return "invalid header field value"
        case .missingHost: return "missing Host header"
        case .duplicateHost: return "more than one Host header"
        case .invalidHost: return "invalid Host header"
        case .hostTooLong: return "host name too long"
        case .invalidContentLength: return "invalid Content-Length"
        case .conflictingContentLength: return "conflicting Content-Length values"
        case .contentLengthWithTransferEncoding: return "both Content-Length and Transfer-Encoding"
        case .transferEncodingInHTTP10: return "Transfer-Encoding in an HTTP/1.0 message"
        case .unsupportedTransferCoding: return "unsupported transfer coding"
        case .invalidTransferEncoding: return "invalid Transfer-Encoding"
        case .invalidChunkSize: return "invalid chunk size"
        case .chunkSizeTooLarge: return "chunk size too large"
        case .invalidChunkFraming: return "invalid chunked framing"
        case .invalidChunkExtension: return "invalid chunk extension"
        case .trailersTooLarge: return "trailer section too large"
        case .invalidTrailer: return "invalid trailer field"
        case .invalidPath: return "invalid path"
        case .forbiddenPathEncoding: return "encoded slash, backslash, NUL or semicolon in path"
        case .pathAboveRoot: return "path escapes the root"
        }
    }
}
