import EventLoop
import Glibc
import HTTP1
import HTTPClient
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
        // `path` is the whole request target (the URL's path); `description` would add it twice.
        guard let target = HTTPClientURL("\(url.tls == nil ? "http" : "https")://\(url.authority)\(path)") else {
            return .unavailable("the authenticator URL is not valid")
        }
        if url.tls != nil && tls == nil { return .unavailable("no TLS context for \(url)") }
        var request = HTTPClientRequest(
            method: .post, url: target,
            headers: [("Content-Type", "application/json"), ("Accept", "application/json")], body: body)
        request.tlsServerName = url.tls?.serverName
        let answer: (status: Int, body: [UInt8])
        switch LoopHTTP.exchange(request, tls: tls, timeout: timeout, limit: Self.maxResponseBytes) {
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

/// One HTTP/1.1 exchange for a pool thread: the I/O runs on the background loop's
/// non-blocking `HTTPClient` (connect, TLS and response timeouts, size limit); only the
/// calling pool thread waits for its answer, never an event loop.
enum LoopHTTP {
    static func exchange(_ request: HTTPClientRequest, tls: TLSContext?, timeout: Int64, limit: Int)
        -> Result<(status: Int, body: [UInt8]), ExchangeFailure>
    {
        var options = HTTPClientOptions()
        options.connectTimeout = timeout
        options.responseTimeout = timeout
        options.maxBodyBytes = limit
        options.maxRedirects = 0
        let done = Completion<Result<HTTPResponse, HTTPClientError>>()
        let loop = BackgroundLoop.shared
        let box = LoopBoundRequest(request, tls)
        let fixed = options
        loop.execute {
            HTTPClient(loop: loop).fetch(box.request, tls: box.tls, options: fixed) { done.fulfil($0) }
        }
        // The client's own deadline answers first; the margin only covers a stalled loop.
        switch done.wait(timeoutMillis: timeout + 1_000) {
        case .success(let r)?: return .success((r.status, r.body))
        case .failure(.responseTooLarge)?: return .failure(ExchangeFailure("the authenticator's answer is too large"))
        case .failure(.responseTimedOut)?, .failure(.connectTimedOut)?, nil:
            return .failure(ExchangeFailure("the authenticator timed out"))
        case .failure(let e)?: return .failure(ExchangeFailure("\(e)"))
        }
    }
}

private final class LoopBoundRequest: @unchecked Sendable {
    let request: HTTPClientRequest
    let tls: TLSContext?
    init(_ request: HTTPClientRequest, _ tls: TLSContext?) {
        self.request = request
        self.tls = tls
    }
}
