import HTTP1
import Testing

@testable import GatewayCore

@Suite("Forward-auth: the request asked about")
struct ForwardAuthTargetTests {
    private func read(_ lines: [String], suffix: String? = nil) throws -> (
        ForwardAuthTarget?, String, ForwardAuthTarget.Problem?
    ) {
        let head = try edgeHead(lines, requestLine: "GET /_verify HTTP/1.1")
        var path: [UInt8] = Array("/_verify".utf8)
        let s = suffix.map { ArraySlice(Array($0.utf8)) }
        switch ForwardAuthTarget.read(head, suffix: s, path: &path) {
        case .success(let t): return (t, String(decoding: path, as: UTF8.self), nil)
        case .failure(let p): return (nil, "", p)
        }
    }

    @Test("Traefik / Caddy headers: method, URI, host")
    func forwardedHeaders() throws {
        let (t, path, _) = try read([
            "X-Forwarded-Method: DELETE", "X-Forwarded-Uri: /api/../admin/./x?y=1",
            "X-Forwarded-Host: API.Example.com:8443",
        ])
        #expect(t?.method == .delete)
        #expect(path == "/admin/x")
        #expect(String(decoding: t?.host ?? [], as: UTF8.self) == "api.example.com")
    }

    @Test("nginx headers: X-Original-URI and X-Original-Method, Host as the host")
    func nginxHeaders() throws {
        let (t, path, _) = try read(["X-Original-URI: /api/items", "X-Original-Method: POST"])
        #expect(t?.method == .post && path == "/api/items")
        #expect(String(decoding: t?.host ?? [], as: UTF8.self) == "app.example.com")
    }

    @Test("Envoy style: the original path after the verify path, the subrequest's own method")
    func envoy() throws {
        let (t, path, _) = try read([], suffix: "/api/items")
        #expect(t?.method == .get && path == "/api/items")
    }

    @Test("the normalisation of proxied requests applies: encoded dot segments, bad escapes")
    func normalisation() throws {
        #expect(try read(["X-Forwarded-Uri: /api/%2e%2e/admin"]).1 == "/admin")
        #expect(try read(["X-Forwarded-Uri: /api/%zz"]).2 == .invalidURI)
        #expect(try read(["X-Forwarded-Uri: api/x"]).2 == .invalidURI)
        #expect(try read(["X-Forwarded-Uri: http://evil/x"]).2 == .invalidURI)
    }

    @Test("refusals: no URI, bad method, bad host")
    func refusals() throws {
        #expect(try read([]).2 == .missingURI)
        #expect(try read(["X-Forwarded-Uri: /x", "X-Forwarded-Method: get"]).2 == .invalidMethod)
        #expect(try read(["X-Forwarded-Uri: /x", "X-Forwarded-Method: "]).2 == .invalidMethod)
        #expect(try read(["X-Forwarded-Uri: /x", "X-Forwarded-Host: a b"]).2 == .invalidHost)
        #expect(try read(["X-Forwarded-Uri: /x", "X-Forwarded-Host: 127.1"]).2 == .invalidHost)
    }

    @Test("spellings that disagree, or repeated fields, are refused: one came from the client")
    func conflicts() throws {
        #expect(try read(["X-Original-URI: /api/x", "X-Forwarded-Uri: /pub/x"]).2 == .conflicting)
        #expect(try read(["X-Forwarded-Uri: /pub/x", "X-Forwarded-Uri: /api/x"]).2 == .conflicting)
        #expect(
            try read(["X-Forwarded-Uri: /api/x", "X-Forwarded-Method: GET", "X-Original-Method: DELETE"]).2
                == .conflicting)
        #expect(
            try read(["X-Forwarded-Host: a.example", "X-Forwarded-Host: b.example", "X-Forwarded-Uri: /x"]).2
                == .conflicting)
        #expect(try read(["X-Original-URL: https://a.example/x", "X-Forwarded-Uri: /y"]).2 == .conflicting)
        #expect(try read(["X-Original-URL: https://a.example/x", "X-Forwarded-Host: b.example"]).2 == .conflicting)
        // The same value twice under two names is one answer.
        #expect(try read(["X-Original-URI: /api/x", "X-Forwarded-Uri: /api/x"]).1 == "/api/x")
    }

    @Test("ingress-nginx: X-Original-URL gives the host and the URI")
    func originalURL() throws {
        let (t, path, _) = try read(["X-Original-URL: https://API.example.com:8443/api/./items?q=1"])
        #expect(path == "/api/items")
        #expect(String(decoding: t?.host ?? [], as: UTF8.self) == "api.example.com")
        #expect(try read(["X-Original-URL: ftp://x/y"]).2 == .invalidURI)
        #expect(try read(["X-Original-URL: https://user@x/y"]).2 == .invalidURI)
    }

    @Test("the identity header block becomes response header pairs")
    func identityPairs() {
        let block = Array("X-Auth-Subject: alice\r\nX-Auth-Scopes: read write\r\n".utf8)
        let pairs = ForwardAuthAnswers.headers(block)
        #expect(pairs.map { $0.0 } == ["X-Auth-Subject", "X-Auth-Scopes"])
        #expect(pairs.map { $0.1 } == ["alice", "read write"])
        let r = ForwardAuthAnswers.allowed(block)
        #expect(r.status == 200 && r.headers.contains { $0 == ("Cache-Control", "no-store") })
    }
}
