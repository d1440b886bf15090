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
        let fetch = Fetch(completion)
        // One deadline for the whole fetch, redirects included.
        let deadline = loop.schedule(after: options.responseTimeout) {
            fetch.connection?.finish(.failure(.responseTimedOut))
            fetch.finish(.failure(.responseTimedOut))
        }
        fetch.deadline = deadline
        attempt(request, tls: tls, options: options, redirects: 0, fetch: fetch)
    }

    /// One fetch in flight: the connection it uses now, and its single completion.
    private final class Fetch {
        var connection: HTTPClientConnection?
        var deadline: TimerHandle?
        private var completion: ((Result<HTTPResponse, HTTPClientError>) -> Void)?

        init(_ completion: @escaping (Result<HTTPResponse, HTTPClientError>) -> Void) {
            self.completion = completion
        }

        var done: Bool { completion == nil }

        func finish(_ result: Result<HTTPResponse, HTTPClientError>) {
            guard let c = completion else { return }
            completion = nil
            deadline?.cancel()
            connection = nil
            c(result)
        }
    }

    private func attempt(
        _ request: HTTPClientRequest, tls: TLSContext?, options: HTTPClientOptions, redirects: Int, fetch: Fetch
    ) {
        // The closures hold the client until the fetch is over: a caller need not keep it.
        Resolver.resolve(host: request.url.host, port: request.url.port, on: loop) { addresses in
            guard !fetch.done else { return }
            guard let addresses else {
                fetch.finish(.failure(.resolveFailed(host: request.url.host)))
                return
            }
            self.connect(request, addresses[...], tls: tls, options: options, fetch: fetch) { result in
                guard case .success(let response) = result, [301, 302, 303, 307, 308].contains(response.status)
                else {
                    fetch.finish(result)
                    return
                }
                guard request.method == .get, let location = response.header("location"),
                    let next = request.url.resolving(location)
                else {
                    fetch.finish(.failure(.redirectRefused("\(response.status) without a usable Location")))
                    return
                }
                guard next.sameOrigin(as: request.url) else {
                    fetch.finish(.failure(.redirectRefused("to another origin (\(next.authority))")))
                    return
                }
                guard redirects < options.maxRedirects else {
                    fetch.finish(.failure(.redirectRefused("more than \(options.maxRedirects) redirects")))
                    return
                }
                var r = request
                r.url = next
                self.attempt(r, tls: tls, options: options, redirects: redirects + 1, fetch: fetch)
            }
        }
    }

    /// Tries the addresses in turn while connecting fails.
    private func connect(
        _ request: HTTPClientRequest, _ addresses: ArraySlice<SocketAddress>, tls: TLSContext?,
        options: HTTPClientOptions, fetch: Fetch,
        completion: @escaping (Result<HTTPResponse, HTTPClientError>) -> Void
    ) {
        guard let address = addresses.first else {
            completion(.failure(.connectFailed("no address")))
            return
        }
        fetch.connection = HTTPClientConnection.start(
            request, address: address, tls: tls, options: options, loop: loop
        ) { result in
            if case .failure(let e) = result, addresses.count > 1 {
                switch e {
                case .connectFailed, .connectTimedOut:
                    guard !fetch.done else { return }
                    self.connect(
                        request, addresses.dropFirst(), tls: tls, options: options, fetch: fetch, completion: completion
                    )
                    return
                default: break
                }
            }
            completion(result)
        }
    }
}
