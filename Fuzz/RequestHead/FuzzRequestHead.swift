// libFuzzer target: the HTTP/1.1 head path a client connection takes (HTTP1).
//
// Input: byte 0 picks the mode and where the input is split; the rest is the bytes received.
//  - request (even byte 0): `HeadScanner.scan` over growing prefixes (as reads arrive), then
//    `RequestHeadParser.parse` on the head, then `PathNormalizer` on its path and query,
//    repeated on the bytes after the head (pipelining), at most 4 heads.
//  - response (odd byte 0): the same with `ResponseHeadParser` (upstream answers).
//
// Checks beyond "no crash": the head length the scanner reports is within the bytes given,
// parsed ranges lie inside `head.bytes`, and a normalised path is a fixed point of
// `PathNormalizer.normalize` (the config loader relies on that to accept route prefixes).
import HTTP1

#if canImport(Glibc)
import Glibc
#endif

private let limits = HTTPLimits(maxRequestLine: 512, maxHeaderBytes: 2048, maxHeaderCount: 16)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestHead(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let control = data[0]
    let input = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    var offset = 0
    var heads = 0
    while offset < input.count && heads < 4 {
        let rest = UnsafeRawBufferPointer(rebasing: input[offset...])
        guard let end = scanIncrementally(rest, step: Int(control >> 1) + 1) else { return 0 }
        heads += 1
        if control & 1 == 0 {
            guard parseRequest(rest, end: end) else { return 0 }
        } else {
            guard parseResponse(rest, end: end) else { return 0 }
        }
        offset += end
    }
    return 0
}

/// Feeds `buf` to a scanner in prefixes growing by `step` bytes, as a socket would.
private func scanIncrementally(_ buf: UnsafeRawBufferPointer, step: Int) -> Int? {
    var scanner = HeadScanner()
    var have = 0
    while have < buf.count {
        have = min(buf.count, have + step)
        do {
            if let end = try scanner.scan(UnsafeRawBufferPointer(rebasing: buf[..<have]), limits: limits) {
                precondition(end > 0 && end <= have, "scanner end \(end) outside the \(have) bytes given")
                precondition(scanner.skipped < end, "skipped \(scanner.skipped) >= end \(end)")
                return end
            }
        } catch {
            return nil
        }
    }
    return nil
}

private var scratch = [UInt8]()
private var path2 = [UInt8]()

private func parseRequest(_ buf: UnsafeRawBufferPointer, end: Int) -> Bool {
    var scanner = HeadScanner()
    let skip: Int
    do {
        // A second scan of the whole head in one go must agree with the incremental one.
        guard let e = try scanner.scan(UnsafeRawBufferPointer(rebasing: buf[..<end]), limits: limits) else {
            preconditionFailure("one-shot scan found no head where the incremental scan found \(end)")
        }
        precondition(e == end, "one-shot scan end \(e) != incremental \(end)")
        skip = scanner.skipped
    } catch {
        preconditionFailure("one-shot scan threw \(error) where the incremental scan succeeded")
    }
    var head = RequestHead()
    do {
        try RequestHeadParser.parse(UnsafeRawBufferPointer(rebasing: buf[..<end]), skip: skip, limits: limits,
                                    into: &head)
    } catch {
        _ = error.status
        return false
    }
    let n = Int32(head.bytes.count)
    precondition(head.pathStart <= head.pathEnd && head.pathEnd <= n)
    precondition(head.queryStart <= head.queryEnd && head.queryEnd <= n)
    for f in head.fields {
        precondition(f.nameStart < f.nameEnd && f.nameEnd <= f.valueStart && f.valueStart <= f.valueEnd)
        precondition(f.valueEnd <= n)
        _ = head.name(f)
        _ = head.value(f)
    }
    _ = head.host
    _ = head.value(named: "authorization")
    _ = head.hasBody
    let ok: Bool = head.bytes.withUnsafeBytes { b in
        do throws(HTTPParseError) {
            try PathNormalizer.normalize(
                UnsafeRawBufferPointer(rebasing: b[Int(head.pathStart)..<Int(head.pathEnd)]), into: &scratch)
            if head.hasQuery {
                try PathNormalizer.validateQuery(
                    UnsafeRawBufferPointer(rebasing: b[Int(head.queryStart)..<Int(head.queryEnd)]))
            }
        } catch {
            return false
        }
        return true
    }
    guard ok else { return true }
    // Idempotence: the normal form normalises to itself.
    do {
        try scratch.withUnsafeBytes { p in try PathNormalizer.normalize(p, into: &path2) }
    } catch {
        preconditionFailure("normalised path \(String(decoding: scratch, as: UTF8.self)) is refused: \(error)")
    }
    precondition(
        path2 == scratch,
        "not idempotent: \(String(decoding: scratch, as: UTF8.self)) -> \(String(decoding: path2, as: UTF8.self))")
    return true
}

private func parseResponse(_ buf: UnsafeRawBufferPointer, end: Int) -> Bool {
    var scanner = HeadScanner()
    guard let e = try? scanner.scan(UnsafeRawBufferPointer(rebasing: buf[..<end]), limits: limits), e == end else {
        preconditionFailure("one-shot scan disagrees with the incremental scan")
    }
    var head = ResponseHead()
    do {
        try ResponseHeadParser.parse(UnsafeRawBufferPointer(rebasing: buf[..<end]), skip: scanner.skipped,
                                     limits: limits, into: &head)
    } catch {
        return false
    }
    precondition(head.status >= 100 && head.status <= 999, "status \(head.status)")
    for m in [HTTPMethod.get, .head] { _ = head.framing(requestMethod: m) }
    return true
}
