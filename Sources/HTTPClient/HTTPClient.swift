import EventLoop
import HTTP1
import TLS

/// A non-blocking HTTP/1.1 client on one event loop (plain or TLS, one request per
/// connection with `Connection: close`): resolution off the loop, connect and response
/// timeouts, size limits, and redirects followed only within the same origin.
///
///     let client = HTTPClient(loop: loop)
///     client.fetch(HTTPClientRequest(url: url), tls: context) { result in ... }
///
/// Every call, and every completion, happens on `loop`'s thread.
public final class HTTPClient {
    public let loop: EventLoop

    public init(loop: EventLoop) {
        self.loop = loop
    }

    /// Sends `request`; `completion` runs exactly once on the loop. `tls` verifies `https`
    /// servers (required for them: there is no unverified fallback).
    public func fetch(
        _ request: HTTPClientRequest, tls: TLSContext?, options: HTTPClientOptions = HTTPClientOptions(),
        completion: @escaping (Result<HTTPResponse, HTTPClientError>) -> Void
    ) {
        var done = false
        let finish: (Result<HTTPResponse, HTTPClientError>) -> Void = { result in
            guard !done else { return }
            done = true
            completion(result)
        }
        // One deadline for the whole fetch, redirects included.
        let deadline = loop.schedule(after: options.responseTimeout) { [weak self] in
            self?.current?.finish(.failure(.responseTimedOut))
            finish(.failure(.responseTimedOut))
        }
        attempt(request, tls: tls, options: options, redirects: 0) { result in
            deadline.cancel()
            finish(result)
        }
    }

    /// The connection in flight (one fetch at a time per client is the common case; a
    /// second concurrent fetch only loses the early cancel on timeout, not the timeout).
    private weak var current: HTTPClientConnection?

    private func attempt(
        _ request: HTTPClientRequest, tls: TLSContext?, options: HTTPClientOptions, redirects: Int,
        completion: @escaping (Result<HTTPResponse, HTTPClientError>) -> Void
    ) {
        Resolver.resolve(host: request.url.host, port: request.url.port, on: loop) { [weak self] addresses in
            guard let self else { return }
            guard let addresses else {
                completion(.failure(.resolveFailed(host: request.url.host)))
                return
            }
            self.connect(request, addresses[...], tls: tls, options: options) { result in
                guard case .success(let response) = result, [301, 302, 303, 307, 308].contains(response.status)
                else {
                    completion(result)
                    return
                }
                guard request.method == .get, let location = response.header("location"),
                    let next = request.url.resolving(location)
                else {
                    completion(.failure(.redirectRefused("\(response.status) without a usable Location")))
                    return
                }
                guard next.sameOrigin(as: request.url) else {
                    completion(.failure(.redirectRefused("to another origin (\(next.authority))")))
                    return
                }
                guard redirects < options.maxRedirects else {
                    completion(.failure(.redirectRefused("more than \(options.maxRedirects) redirects")))
                    return
                }
                var r = request
                r.url = next
                self.attempt(r, tls: tls, options: options, redirects: redirects + 1, completion: completion)
            }
        }
    }

    /// Tries the addresses in turn while connecting fails.
    private func connect(
        _ request: HTTPClientRequest, _ addresses: ArraySlice<SocketAddress>, tls: TLSContext?,
        options: HTTPClientOptions, completion: @escaping (Result<HTTPResponse, HTTPClientError>) -> Void
    ) {
        guard let address = addresses.first else {
            completion(.failure(.connectFailed("no address")))
            return
        }
        current = HTTPClientConnection.start(
            request, address: address, tls: tls, options: options, loop: loop
        ) { [weak self] result in
            if case .failure(let e) = result, addresses.count > 1 {
                switch e {
                case .connectFailed, .connectTimedOut:
                    self?.connect(request, addresses.dropFirst(), tls: tls, options: options, completion: completion)
                    return
                default: break
                }
            }
            completion(result)
        }
    }
}
