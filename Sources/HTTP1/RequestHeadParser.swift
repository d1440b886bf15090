/// Parses a complete request head (found by `HeadScanner`) strictly per RFC 9112 and
/// works out its framing: Content-Length or chunked, never both (§6.1, §6.3).
public enum RequestHeadParser {
    /// Parses `buf[skip..<end]` into `head`, reusing its storage.
    public static func parse(
        _ buf: UnsafeRawBufferPointer, skip: Int = 0, limits: HTTPLimits = HTTPLimits(),
        into head: inout RequestHead
    ) throws(HTTPParseError) {
        head.clear()
        head.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[skip...]))
        let bytes = head.bytes  // shares storage; `head` stays free to mutate below
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
        head: inout RequestHead
    ) throws(HTTPParseError) {
        // The scanner guaranteed CRLF line ends and a final empty line.
        var lineEnd = try lineEndOffset(b, from: 0, missing: .invalidRequestLine)
        try parseRequestLine(b, 0, lineEnd, table: table, head: &head)
        var pos = lineEnd + 2
        var teChunked = false
        var teSeen = false
        var hosts = 0
        // Moved out, not copied: a second reference would make the first append copy the
        // storage (and allocate) on every parse.
        var fields = head.fields
        head.fields = []
        defer { head.fields = fields }
        while true {
            lineEnd = try lineEndOffset(b, from: pos, missing: .invalidRequestLine)
            if lineEnd == pos { break }
            if fields.count >= limits.maxHeaderCount { throw .tooManyHeaders }
            let f = try HeaderLineParser.parse(b, pos, lineEnd, table: table)
            let vs = Int(f.valueStart)
            let ve = Int(f.valueEnd)
            switch f.known {
            case .host:
                hosts += 1
                if hosts > 1 { throw .duplicateHost }
                if head.targetAuthorityStart >= 0 {
                    // The target's authority wins (RFC 9112 §3.2.2), but Host must still be
                    // valid: canonicalise it past the end, then drop those bytes again.
                    let mark = head.canonicalHost.count
                    _ = try HostCanonicalizer.canonicalize(b, vs, ve, into: &head.canonicalHost)
                    head.canonicalHost.removeSubrange(mark...)
                } else {
                    head.hostPort = try HostCanonicalizer.canonicalize(b, vs, ve, into: &head.canonicalHost)
                }
                head.hostIndex = Int32(fields.count)
            case .contentLength:
                try forEachListElement(b, vs, ve) { (s, e) throws(HTTPParseError) in
                    let n = try parseContentLength(b, s, e)
                    if head.contentLength >= 0 && head.contentLength != n { throw .conflictingContentLength }
                    head.contentLength = n
                }
                if vs == ve { throw .invalidContentLength }
            case .transferEncoding:
                teSeen = true
                try forEachListElement(b, vs, ve) { (s, e) throws(HTTPParseError) in
                    // chunked must be the last coding and appear once (RFC 9112 §6.1).
                    if teChunked { throw .invalidTransferEncoding }
                    if b.equalsLowercase(s, e, "chunked") {
                        teChunked = true
                    } else {
                        for i in s..<e where table[Int(b[i])] & CharacterClass.token == 0 {
                            throw .invalidTransferEncoding
                        }
                        throw .unsupportedTransferCoding
                    }
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
                        for i in s..<e where table[Int(b[i])] & CharacterClass.token == 0 {
                            throw .invalidHeaderValue
                        }
                        head.connectionOptions.append(Int32(s)..<Int32(e))
                    }
                }
            case .upgrade:
                head.hasUpgradeField = true
            case .expect:
                if b.equalsLowercase(vs, ve, "100-continue") {
                    head.expectContinue = true
                } else {
                    head.expectUnsupported = true
                }
            default:
                break
            }
            fields.append(f)
            pos = lineEnd + 2
        }
        if teSeen {
            if head.version == .http10 { throw .transferEncodingInHTTP10 }
            if !teChunked { throw .invalidTransferEncoding }
            if head.contentLength >= 0 { throw .contentLengthWithTransferEncoding }
            head.isChunked = true
        }
        if head.version == .http11 && hosts == 0 { throw .missingHost }
    }

    private static func parseRequestLine(
        _ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int,
        table: UnsafePointer<UInt8>, head: inout RequestHead
    ) throws(HTTPParseError) {
        // method SP request-target SP HTTP-version, single spaces (RFC 9112 §3).
        var i = start
        while i < end, b[i] != 0x20 {
            if table[Int(b[i])] & CharacterClass.token == 0 {
                if b[i] == 0x0D { throw .bareCarriageReturn }
                throw .invalidMethod
            }
            // Methods are case-sensitive (RFC 9110 §9.1), but Django, Flask and Rack upper-case
            // them: `delete` would miss a DELETE-only route here and run as DELETE upstream.
            // Every registered method is upper case; refuse the rest, as nginx does.
            if b[i] >= 0x61 && b[i] <= 0x7A { throw .invalidMethod }
            i += 1
        }
        guard i > start, i < end else { throw .invalidRequestLine }
        head.method = HTTPMethod.parse(b, start, i)
        i += 1
        let targetStart = i
        // Visible ASCII, eight bytes at a time: no space (the target's end) among them.
        while i + 8 <= end && allVisibleASCII(b.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { i += 8 }
        while i < end, b[i] != 0x20 {
            let c = b[i]
            if c < 0x21 || c > 0x7E {
                if c == 0x0D { throw .bareCarriageReturn }
                throw .invalidTarget
            }
            i += 1
        }
        guard i > targetStart, i < end else { throw .invalidRequestLine }
        let targetEnd = i
        i += 1
        try parseVersion(b, i, end, head: &head)
        try parseTarget(b, targetStart, targetEnd, head: &head)
    }

    private static func parseVersion(
        _ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int,
        head: inout RequestHead
    ) throws(HTTPParseError) {
        guard e - s == 8, b[s] == UInt8(ascii: "H"), b[s + 1] == UInt8(ascii: "T"), b[s + 2] == UInt8(ascii: "T"),
            b[s + 3] == UInt8(ascii: "P"), b[s + 4] == UInt8(ascii: "/"), b[s + 6] == UInt8(ascii: "."),
            b[s + 5] >= 0x30, b[s + 5] <= 0x39, b[s + 7] >= 0x30, b[s + 7] <= 0x39
        else {
            if b[s..<e].contains(0x0D) { throw .bareCarriageReturn }
            throw .invalidRequestLine
        }
        switch (b[s + 5], b[s + 7]) {
        case (UInt8(ascii: "1"), UInt8(ascii: "1")):
            head.version = .http11
            head.keepAlive = true
        case (UInt8(ascii: "1"), UInt8(ascii: "0")):
            head.version = .http10
            head.keepAlive = false
        default:
            throw .unsupportedVersion
        }
    }

    /// Origin-form, or absolute-form with an http(s) scheme (RFC 9112 §3.2). The path is
    /// checked in detail by `PathNormalizer`; here only its bounds are found.
    private static func parseTarget(
        _ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int,
        head: inout RequestHead
    ) throws(HTTPParseError) {
        var pathStart = s
        if b[s] != UInt8(ascii: "/") {
            var i = s
            if e - s > 7 && b.equalsLowercase(s, s + 7, "http://") {
                i = s + 7
            } else if e - s > 8 && b.equalsLowercase(s, s + 8, "https://") {
                i = s + 8
            } else {
                throw .invalidTarget
            }
            let authorityStart = i
            while i < e, b[i] != UInt8(ascii: "/"), b[i] != UInt8(ascii: "?") { i += 1 }
            guard i > authorityStart else { throw .invalidTarget }
            head.hostPort = try HostCanonicalizer.canonicalize(b, authorityStart, i, into: &head.canonicalHost)
            head.targetAuthorityStart = Int32(authorityStart)
            head.targetAuthorityEnd = Int32(i)
            pathStart = i
            guard i < e, b[i] == UInt8(ascii: "/") else { throw .invalidTarget }
        }
        var q = pathStart
        while q < e, b[q] != UInt8(ascii: "?") { q += 1 }
        head.pathStart = Int32(pathStart)
        head.pathEnd = Int32(q)
        if q < e {
            head.hasQuery = true
            head.queryStart = Int32(q + 1)
            head.queryEnd = Int32(e)
        } else {
            head.queryStart = Int32(e)
            head.queryEnd = Int32(e)
        }
    }

    /// 1*DIGIT, at most 18 digits so that it cannot overflow.
    static func parseContentLength(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) throws(HTTPParseError) -> Int64 {
        guard e > s, e - s <= 18 else { throw .invalidContentLength }
        var n: Int64 = 0
        for i in s..<e {
            let c = b[i]
            guard c >= 0x30, c <= 0x39 else { throw .invalidContentLength }
            n = n * 10 + Int64(c - 0x30)
        }
        return n
    }
}
