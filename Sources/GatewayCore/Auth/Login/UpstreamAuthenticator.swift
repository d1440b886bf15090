import EventLoop
import Glibc
import HTTP1
import TLS

/// Delegates the password check to an existing service (SPEC §3): POSTs
/// `{"username": .., "password": ..}` as JSON to the configured URL. A 2xx answer with a
/// JSON object of claims (`sub` required; `scope`, `roles` and extra claims optional) is a
/// success; 401, 403 or 404 mean wrong credentials; anything else, a timeout or a
/// connection failure means the authenticator is unavailable (503, not counted as a failure).
/// The username sent is the normalised one (`Username`), the same the throttle counts, so
/// one budget covers every spelling the service might accept for one account.
struct UpstreamAuthenticator: Authenticator {
    let url: UpstreamURL
    let path: String
    let timeout: Int64
    /// For an `https://` url: how the service is verified (always).
    var tls: TLSContext?

    static let maxResponseBytes = 256 * 1024

    func authenticate(username: String, password: [UInt8]) -> AuthenticationResult {
        var body: [UInt8] = []
        HeadWriter.append("{\"username\":", to: &body)
        JSONWriter.appendString(username, to: &body)
        HeadWriter.append(",\"password\":", to: &body)
        JSONWriter.appendString(String(decoding: password, as: UTF8.self), to: &body)
        HeadWriter.append("}", to: &body)
        defer { for i in body.indices { body[i] = 0 } }
        var request: [UInt8] = []
        HeadWriter.append("POST \(path) HTTP/1.1\r\nHost: \(url.authority)\r\n", to: &request)
        HeadWriter.append(
            "Content-Type: application/json\r\nAccept: application/json\r\nConnection: close\r\n", to: &request)
        HeadWriter.append("Content-Length: \(body.count)\r\n\r\n", to: &request)
        request += body
        defer { for i in request.indices { request[i] = 0 } }

        let answer: (status: Int, body: [UInt8])
        let security = url.tls.flatMap { t in tls.map { (context: $0, serverName: t.serverName) } }
        if url.tls != nil && security == nil { return .unavailable("no TLS context for \(url)") }
        switch BlockingHTTP.exchange(
            request, with: url.address, tls: security, timeout: timeout, limit: Self.maxResponseBytes)
        {
        case .success(let a): answer = a
        case .failure(let f): return .unavailable(f.reason)
        }
        switch answer.status {
        case 200..<300:
            guard case .object(let members)? = try? JSONParser.parse(answer.body) else {
                return .unavailable("the authenticator's answer is not a JSON object")
            }
            var subject: String?
            var scope: String?
            var roles: [String] = []
            var extra: [(String, JSONValue)] = []
            for (name, value) in members {
                switch (name, value) {
                case ("sub", .string(let s)): subject = s
                case ("scope", .string(let s)): scope = s
                case ("roles", .array(let items)):
                    roles = items.compactMap { if case .string(let s) = $0 { s } else { nil } }
                default: extra.append((name, value))
                }
            }
            guard let subject, !subject.isEmpty else { return .unavailable("the authenticator's answer has no sub") }
            return .success(LoginIdentity(subject: subject, scope: scope, roles: roles, extra: extra))
        case 400, 401, 403, 404:
            return .rejected
        default:
            return .unavailable("the authenticator answered \(answer.status)")
        }
    }
}

struct ExchangeFailure: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// One blocking HTTP/1.1 exchange with `Connection: close`, for pool threads only.
enum BlockingHTTP {
    static func exchange(
        _ request: [UInt8], with address: SocketAddress, tls: (context: TLSContext, serverName: String)? = nil,
        timeout: Int64, limit: Int
    ) -> Result<(status: Int, body: [UInt8]), ExchangeFailure> {
        let deadline = EventLoop.monotonicMillis() + timeout
        let fd: Int32
        do {
            let c = try Socket.connect(to: address)
            fd = c.fd
            if c.inProgress {
                guard wait(fd, Int16(POLLOUT), deadline) else {
                    Syscall.close(fd)
                    return .failure(ExchangeFailure("connect timed out"))
                }
                let err = Socket.pendingError(fd)
                guard err == 0 else {
                    Syscall.close(fd)
                    return .failure(ExchangeFailure("connect failed: \(String(cString: strerror(err)))"))
                }
            }
        } catch {
            return .failure(ExchangeFailure("connect failed: \(error)"))
        }
        // The socket stays non-blocking; the transport (plain or TLS) says what to wait for.
        let transport: any Transport
        if let tls {
            guard let t = try? TLSTransport(fd: fd, context: tls.context, role: .client(serverName: tls.serverName))
            else {
                Syscall.close(fd)
                return .failure(ExchangeFailure("TLS setup failed"))
            }
            transport = t
        } else {
            transport = PlainTransport(fd: fd)
        }
        defer { transport.close() }
        do {
            var sent = 0
            while sent < request.count {
                let io = try request[sent...].withUnsafeBytes { try transport.write($0) }
                switch io {
                case .bytes(let n): sent += n
                case .wantRead, .wantWrite, .closed:
                    guard wait(fd, io == .wantRead ? Int16(POLLIN) : Int16(POLLOUT), deadline) else {
                        return .failure(ExchangeFailure("send timed out"))
                    }
                }
            }
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 16384)
            reading: while true {
                let io = try chunk.withUnsafeMutableBytes { try transport.read(into: $0) }
                switch io {
                case .bytes(let n):
                    received += chunk[0..<n]
                    if received.count > limit {
                        return .failure(ExchangeFailure("the authenticator's answer is too large"))
                    }
                case .closed:
                    break reading
                case .wantRead, .wantWrite:
                    guard wait(fd, io == .wantWrite ? Int16(POLLOUT) : Int16(POLLIN), deadline) else {
                        return .failure(ExchangeFailure("the authenticator timed out"))
                    }
                }
            }
            return parse(received)
        } catch {
            return .failure(ExchangeFailure("\(error)"))
        }
    }

    private static func parse(_ bytes: [UInt8]) -> Result<(status: Int, body: [UInt8]), ExchangeFailure> {
        var scanner = HeadScanner()
        var head = ResponseHead()
        let limits = HTTPLimits()
        let parsed: (end: Int, error: HTTPParseError?) = bytes.withUnsafeBytes { b in
            do throws(HTTPParseError) {
                guard let end = try scanner.scan(b, limits: limits) else { return (-1, nil) }
                try ResponseHeadParser.parse(
                    UnsafeRawBufferPointer(rebasing: b[..<end]), skip: scanner.skipped,
                    limits: limits, into: &head)
                return (end, nil)
            } catch {
                return (0, error)
            }
        }
        if let e = parsed.error { return .failure(ExchangeFailure("malformed answer: \(e.reason)")) }
        if parsed.end < 0 { return .failure(ExchangeFailure("truncated answer")) }
        if head.isInformational { return .failure(ExchangeFailure("unexpected interim answer")) }
        let rest = Array(bytes[parsed.end...])
        switch head.framing(requestMethod: .post) {
        case .none: return .success((head.status, []))
        case .length(let n):
            guard rest.count >= n else { return .failure(ExchangeFailure("truncated answer")) }
            return .success((head.status, Array(rest[..<Int(n)])))
        case .untilClose: return .success((head.status, rest))
        case .chunked:
            var decoder = ChunkedDecoder()
            var body: [UInt8] = []
            var offset = 0
            while offset < rest.count {
                let step: (consumed: Int, step: ChunkedDecoder.Step)? = rest.withUnsafeBytes { b in
                    do {
                        return try decoder.decode(UnsafeRawBufferPointer(rebasing: b[offset...]))
                    } catch {
                        return nil
                    }
                }
                guard let r = step else { return .failure(ExchangeFailure("malformed chunked answer")) }
                if case .data(let range) = r.step {
                    body += rest[(offset + range.lowerBound)..<(offset + range.upperBound)]
                }
                offset += r.consumed
                if r.step == .end { return .success((head.status, body)) }
                if r.step == .needMore { break }
            }
            return .failure(ExchangeFailure("truncated answer"))
        }
    }

    private static func wait(_ fd: Int32, _ events: Int16, _ deadline: Int64) -> Bool {
        while true {
            let left = deadline - EventLoop.monotonicMillis()
            if left <= 0 { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let r = poll(&p, 1, Int32(min(left, 60_000)))
            if r > 0 { return true }
            if r < 0 && errno != EINTR { return false }
        }
    }
}
