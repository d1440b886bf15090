import HTTP1
import TLS

/// One request: method, URL, extra header fields and body. The client adds `Host`,
/// `Connection: close`, `Content-Length` (with a body) and `User-Agent`.
public struct HTTPClientRequest: Sendable {
    public var method: HTTPMethod
    public var url: HTTPClientURL
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// The name the server's certificate is checked for (and sent as SNI); default the URL's host.
    public var tlsServerName: String?

    public init(method: HTTPMethod = .get, url: HTTPClientURL, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The request bytes.
    func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + body.count)
        func add(_ s: String) { out.append(contentsOf: s.utf8) }
        add("\(method.name) \(url.target) HTTP/1.1\r\nHost: \(url.authority)\r\nConnection: close\r\n")
        add("User-Agent: auth-gateway\r\n")
        for (name, value) in headers { add("\(name): \(value)\r\n") }
        if !body.isEmpty || method == .post || method == .put { add("Content-Length: \(body.count)\r\n") }
        add("\r\n")
        out += body
        return out
    }
}

/// Limits and timeouts of one fetch, in milliseconds and bytes.
public struct HTTPClientOptions: Sendable, Equatable {
    /// TCP connect and TLS handshake, per address tried.
    public var connectTimeout: Int64 = 2_000
    /// From the start of the fetch until the whole answer is in (redirects included).
    public var responseTimeout: Int64 = 5_000
    public var maxBodyBytes = 1 << 20
    /// Same-origin redirects followed for GET (other redirects are always refused).
    public var maxRedirects = 3

    public init() {}
}
