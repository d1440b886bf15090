/// Incremental decoder of the chunked transfer coding (RFC 9112 §7.1).
///
/// It consumes framing and hands back ranges of body data, so the caller can forward data
/// straight out of its read buffer. Chunk extensions are validated and dropped; trailer
/// fields are validated and dropped (the gateway does not forward trailers). Bare LF, a
/// missing CRLF after data, non-hex sizes and sizes beyond `maxChunkSize` are errors.
public struct ChunkedDecoder: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maxChunkSize: Int64
        /// Bytes of extensions on one chunk line.
        public var maxExtensionBytes: Int
        /// Bytes of the whole trailer section.
        public var maxTrailerBytes: Int
        public init(maxChunkSize: Int64 = 1 << 40, maxExtensionBytes: Int = 1024, maxTrailerBytes: Int = 8192) {
            self.maxChunkSize = maxChunkSize
            self.maxExtensionBytes = maxExtensionBytes
            self.maxTrailerBytes = maxTrailerBytes
        }
    }

    public enum Step: Equatable, Sendable {
        /// All input was consumed; more is needed.
        case needMore
        /// Body data at this range of the input (already counted in `consumed`).
        case data(Range<Int>)
        /// The last chunk and trailers are done; bytes after `consumed` are the next message.
        case end
    }

    private enum State: Sendable {
        case sizeStart, size, sizeSpace, ext, sizeLF
        case data, dataCR, dataLF
        case trailerLineStart, trailerName, trailerValue, trailerLF, finalLF
        case done
    }

    private var state: State = .sizeStart
    private var remaining: Int64 = 0
    private var digits = 0
    private var lineBytes = 0
    private var trailerBytes = 0
    private let limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public var isDone: Bool { state == .done }

    /// Decodes from the start of `buf`. Returns how many bytes were consumed and what was found.
    public mutating func decode(_ buf: UnsafeRawBufferPointer) throws(HTTPParseError) -> (consumed: Int, step: Step) {
        var i = 0
        let n = buf.count
        let table = CharacterClass.table
        while i < n {
            let c = buf[i]
            switch state {
            case .sizeStart, .size:
                if let v = CharacterClass.hexValue(c) {
                    digits += 1
                    if digits > 16 { throw .chunkSizeTooLarge }
                    remaining = remaining << 4 | Int64(v)
                    if remaining > limits.maxChunkSize { throw .chunkSizeTooLarge }
                    state = .size
                } else if state == .sizeStart {
                    throw .invalidChunkSize
                } else if c == 0x0D {
                    state = .sizeLF
                } else if c == UInt8(ascii: ";") {
                    lineBytes = 0
                    state = .ext
                } else if c == 0x20 || c == 0x09 {
                    state = .sizeSpace
                } else if c == 0x0A {
                    throw .bareLineFeed
                } else {
                    throw .invalidChunkSize
                }
                i += 1
            case .sizeSpace:
                // BWS is allowed only before an extension.
                if c == UInt8(ascii: ";") {
                    lineBytes = 0
                    state = .ext
                } else if c != 0x20 && c != 0x09 {
                    throw .invalidChunkExtension
                }
                i += 1
            case .ext:
                if c == 0x0D {
                    state = .sizeLF
                } else if table[Int(c)] & CharacterClass.fieldValue == 0 {
                    throw c == 0x0A ? .bareLineFeed : .invalidChunkExtension
                } else {
                    lineBytes += 1
                    if lineBytes > limits.maxExtensionBytes { throw .invalidChunkExtension }
                }
                i += 1
            case .sizeLF:
                guard c == 0x0A else { throw .bareCarriageReturn }
                i += 1
                digits = 0
                if remaining == 0 {
                    state = .trailerLineStart
                } else {
                    state = .data
                }
            case .data:
                let take = Int(min(remaining, Int64(n - i)))
                remaining -= Int64(take)
                if remaining == 0 { state = .dataCR }
                return (i + take, .data(i..<(i + take)))
            case .dataCR:
                guard c == 0x0D else { throw .invalidChunkFraming }
                state = .dataLF
                i += 1
            case .dataLF:
                guard c == 0x0A else { throw .invalidChunkFraming }
                state = .sizeStart
                i += 1
            case .trailerLineStart:
                if c == 0x0D {
                    state = .finalLF
                } else if c == 0x20 || c == 0x09 {
                    throw .obsoleteLineFolding
                } else if table[Int(c)] & CharacterClass.token != 0 {
                    state = .trailerName
                } else {
                    throw c == 0x0A ? .bareLineFeed : .invalidTrailer
                }
                try countTrailer()
                i += 1
            case .trailerName:
                if c == UInt8(ascii: ":") {
                    state = .trailerValue
                } else if table[Int(c)] & CharacterClass.token == 0 {
                    throw .invalidTrailer
                }
                try countTrailer()
                i += 1
            case .trailerValue:
                if c == 0x0D {
                    state = .trailerLF
                } else if table[Int(c)] & CharacterClass.fieldValue == 0 {
                    throw c == 0x0A ? .bareLineFeed : .invalidTrailer
                }
                try countTrailer()
                i += 1
            case .trailerLF:
                guard c == 0x0A else { throw .bareCarriageReturn }
                state = .trailerLineStart
                i += 1
            case .finalLF:
                guard c == 0x0A else { throw .bareCarriageReturn }
                state = .done
                return (i + 1, .end)
            case .done:
                return (i, .end)
            }
        }
        if state == .done { return (i, .end) }
        return (i, .needMore)
    }

    private mutating func countTrailer() throws(HTTPParseError) {
        trailerBytes += 1
        if trailerBytes > limits.maxTrailerBytes { throw .trailersTooLarge }
    }
}

/// Writes the chunked framing around data the gateway forwards (RFC 9112 §7.1).
public enum ChunkedEncoder {
    /// Appends `hex(count) CRLF`.
    public static func appendChunkHeader(_ count: Int, to out: inout [UInt8]) {
        precondition(count > 0)
        var digits = 0
        var v = count
        while v > 0 {
            digits += 1
            v >>= 4
        }
        var shift = (digits - 1) * 4
        while shift >= 0 {
            let d = (count >> shift) & 0xF
            out.append(d < 10 ? UInt8(0x30 + d) : UInt8(0x61 + d - 10))
            shift -= 4
        }
        out.append(0x0D)
        out.append(0x0A)
    }

    public static let chunkEnd: StaticString = "\r\n"
    public static let lastChunk: StaticString = "0\r\n\r\n"
}
