/// A parsed upstream response head: its bytes plus offsets, like `RequestHead`.
public struct ResponseHead: Sendable {
    public internal(set) var bytes: [UInt8] = []
    public internal(set) var version: HTTPVersion = .http11
    public internal(set) var status: Int = 0
    /// The reason phrase, possibly empty.
    public internal(set) var reasonStart: Int32 = 0
    public internal(set) var reasonEnd: Int32 = 0
    public internal(set) var fields: [HeaderField] = []
    public internal(set) var contentLength: Int64 = -1
    public internal(set) var isChunked = false
    public internal(set) var keepAlive = true
    public internal(set) var connectionUpgrade = false
    public internal(set) var connectionOptions: [Range<Int32>] = []

    public init() {}

    mutating func clear() {
        bytes.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true)
        connectionOptions.removeAll(keepingCapacity: true)
        version = .http11
        status = 0
        reasonStart = 0
        reasonEnd = 0
        contentLength = -1
        isChunked = false
        keepAlive = true
        connectionUpgrade = false
    }

    public var isInformational: Bool { status >= 100 && status < 200 }

    public func string(_ start: Int32, _ end: Int32) -> String {
        bytes.withUnsafeBufferPointer { b in
            String(decoding: UnsafeBufferPointer(rebasing: b[Int(start)..<Int(end)]), as: UTF8.self)
        }
    }

    public func name(_ field: HeaderField) -> String { string(field.nameStart, field.nameEnd) }
    public func value(_ field: HeaderField) -> String { string(field.valueStart, field.valueEnd) }

    public func value(named name: String) -> String? {
        let lower = name.lowercased()
        for f in fields where self.name(f).lowercased() == lower { return value(f) }
        return nil
    }
}

/// How the body of a message is delimited (RFC 9112 §6.3).
public enum BodyFraming: Equatable, Sendable {
    case none
    case length(Int64)
    case chunked
    /// Read until the sender closes the connection (responses only).
    case untilClose
}

extension ResponseHead {
    /// The framing of this response's body, given the method of the request it answers.
    public func framing(requestMethod: HTTPMethod) -> BodyFraming {
        if requestMethod == .head || isInformational || status == 204 || status == 304 { return .none }
        if isChunked { return .chunked }
        if contentLength >= 0 { return contentLength == 0 ? .none : .length(contentLength) }
        return .untilClose
    }
}

/// Parses a complete response head (found by `HeadScanner`).
public enum ResponseHeadParser {
    public static func parse(
        _ buf: UnsafeRawBufferPointer, skip: Int = 0, limits: HTTPLimits = HTTPLimits(),
        into head: inout ResponseHead
    ) throws(HTTPParseError) {
        head.clear()
        head.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[skip...]))
        let bytes = head.bytes
        let failure: HTTPParseError? = bytes.withUnsafeBytes { b in
            do throws(HTTPParseError) {
                try parseHead(b, table: CharacterClass.table, limits: limits, head: &head)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    private static func parseHead(
        _ b: UnsafeRawBufferPointer, table: UnsafePointer<UInt8>, limits: HTTPLimits,
        head: inout ResponseHead
    ) throws(HTTPParseError) {
        var lineEnd = try lineEndOffset(b, from: 0, missing: .invalidStatusLine)
        try parseStatusLine(b, 0, lineEnd, table: table, head: &head)
        var pos = lineEnd + 2
        var teSeen = false
        var teChunked = false
        // Moved out, not copied: a second reference would make the first append copy the
        // storage (and allocate) on every parse.
        var fields = head.fields
        head.fields = []
        defer { head.fields = fields }
        while true {
            lineEnd = try lineEndOffset(b, from: pos, missing: .invalidStatusLine)
            if lineEnd == pos { break }
            if fields.count >= limits.maxHeaderCount { throw .tooManyHeaders }
            let f = try HeaderLineParser.parse(b, pos, lineEnd, table: table)
            let vs = Int(f.valueStart)
            let ve = Int(f.valueEnd)
            switch f.known {
            case .contentLength:
                if vs == ve { throw .invalidContentLength }
                try forEachListElement(b, vs, ve) { (s, e) throws(HTTPParseError) in
                    let n = try RequestHeadParser.parseContentLength(b, s, e)
                    if head.contentLength >= 0 && head.contentLength != n { throw .conflictingContentLength }
                    head.contentLength = n
                }
            case .transferEncoding:
                teSeen = true
                try forEachListElement(b, vs, ve) { (s, e) throws(HTTPParseError) in
                    if teChunked { throw .invalidTransferEncoding }
                    if b.equalsLowercase(s, e, "chunked") { teChunked = true } else { throw .unsupportedTransferCoding }
                }
            case .connection:
                try forEachListElement(b, vs, ve) { (s, e) throws(HTTPParseError) in
                    if b.equalsLowercase(s, e, "close") {
                        head.keepAlive = false
                    } else if b.equalsLowercase(s, e, "keep-alive") {
                        if head.version == .http10 { head.keepAlive = true }
                    } else if b.equalsLowercase(s, e, "upgrade") {
                        head.connectionUpgrade = true
                    } else {
                        head.connectionOptions.append(Int32(s)..<Int32(e))
                    }
                }
            default:
                break
            }
            fields.append(f)
            pos = lineEnd + 2
        }
        if teSeen {
            // A proxy cannot tell which framing its client would believe: refuse both.
            if head.contentLength >= 0 { throw .contentLengthWithTransferEncoding }
            if !teChunked { throw .invalidTransferEncoding }
            head.isChunked = true
        }
    }

    /// `HTTP-version SP 3DIGIT SP [reason]` (RFC 9112 §4); a missing SP after the code is tolerated.
    private static func parseStatusLine(
        _ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int,
        table: UnsafePointer<UInt8>, head: inout ResponseHead
    ) throws(HTTPParseError) {
        guard e - s >= 12, b[s] == UInt8(ascii: "H"), b[s + 1] == UInt8(ascii: "T"), b[s + 2] == UInt8(ascii: "T"),
            b[s + 3] == UInt8(ascii: "P"), b[s + 4] == UInt8(ascii: "/"), b[s + 5] == UInt8(ascii: "1"),
            b[s + 6] == UInt8(ascii: "."), b[s + 8] == 0x20
        else { throw .invalidStatusLine }
        switch b[s + 7] {
        case UInt8(ascii: "1"):
            head.version = .http11
            head.keepAlive = true
        case UInt8(ascii: "0"):
            head.version = .http10
            head.keepAlive = false
        default: throw .invalidStatusLine
        }
        var code = 0
        for i in (s + 9)..<(s + 12) {
            guard b[i] >= 0x30, b[i] <= 0x39 else { throw .invalidStatusLine }
            code = code * 10 + Int(b[i] - 0x30)
        }
        guard code >= 100 else { throw .invalidStatusLine }
        head.status = code
        var r = s + 12
        if r < e {
            guard b[r] == 0x20 else { throw .invalidStatusLine }
            r += 1
        }
        for i in r..<e where table[Int(b[i])] & CharacterClass.fieldValue == 0 { throw .invalidStatusLine }
        head.reasonStart = Int32(r)
        head.reasonEnd = Int32(e)
    }
}
