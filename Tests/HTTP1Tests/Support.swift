import HTTP1

/// Scans and parses a whole request given as a string (CRLFs written explicitly).
func parseRequest(_ text: String, limits: HTTPLimits = HTTPLimits()) throws(HTTPParseError) -> RequestHead {
    let bytes = Array(text.utf8)
    var scanner = HeadScanner()
    var head = RequestHead()
    let failure: HTTPParseError? = bytes.withUnsafeBytes { b in
        do throws(HTTPParseError) {
            guard let end = try scanner.scan(b, limits: limits) else { return .invalidRequestLine }
            try RequestHeadParser.parse(
                UnsafeRawBufferPointer(rebasing: b[..<end]), skip: scanner.skipped,
                limits: limits, into: &head)
            return nil
        } catch {
            return error
        }
    }
    if let failure { throw failure }
    return head
}

func parseResponse(_ text: String) throws(HTTPParseError) -> ResponseHead {
    let bytes = Array(text.utf8)
    var scanner = HeadScanner()
    var head = ResponseHead()
    let failure: HTTPParseError? = bytes.withUnsafeBytes { b in
        do throws(HTTPParseError) {
            guard let end = try scanner.scan(b, limits: HTTPLimits()) else { return .invalidStatusLine }
            try ResponseHeadParser.parse(UnsafeRawBufferPointer(rebasing: b[..<end]), into: &head)
            return nil
        } catch {
            return error
        }
    }
    if let failure { throw failure }
    return head
}

func parseError(_ text: String, limits: HTTPLimits = HTTPLimits()) -> HTTPParseError? {
    do {
        _ = try parseRequest(text, limits: limits)
        return nil
    } catch {
        return error
    }
}

/// Decodes a chunked body fed in pieces of `step` bytes; returns the data and the bytes
/// left after the body.
func decodeChunked(_ text: String, step: Int = Int.max) throws(HTTPParseError) -> (body: String, rest: String) {
    var decoder = ChunkedDecoder()
    let bytes = Array(text.utf8)
    var body: [UInt8] = []
    var fed = 0
    var pending: [UInt8] = []
    while true {
        if fed < bytes.count {
            let next = min(bytes.count, fed + step)
            pending += bytes[fed..<next]
            fed = next
        }
        var off = 0
        var ended = false
        let failure: HTTPParseError? = pending.withUnsafeBytes { b in
            do throws(HTTPParseError) {
                while off < b.count {
                    let (n, step) = try decoder.decode(UnsafeRawBufferPointer(rebasing: b[off...]))
                    if case .data(let r) = step { body += b[(off + r.lowerBound)..<(off + r.upperBound)] }
                    off += n
                    if step == .end {
                        ended = true
                        break
                    }
                    if step == .needMore { break }
                }
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
        pending.removeFirst(off)
        if ended {
            let rest = pending + bytes[fed...]
            return (String(decoding: body, as: UTF8.self), String(decoding: rest, as: UTF8.self))
        }
        if fed >= bytes.count { throw .invalidChunkFraming }
    }
}
