import HTTP1
import TLS
import Testing

@testable import GatewayCore

/// Parses `request` (CRLFs explicit), matches it against a one-route table built from
/// `routeJSON` plus `extra` top-level members, and returns the head the upstream would get.
private func forwarded(
    _ request: String, route routeJSON: String = "", extra: String = "", cookies: [String] = [],
    secure: Bool = false
) throws -> String {
    let json =
        #"{"routes":[{"path":"/","upstream":"http://127.0.0.1:9001","auth":"none"\#(routeJSON)}]\#(extra)}"#
    let c = try parseConfig(json)
    let table = RouteTable(c.routes, identityHeaders: c.identityHeaders.allNames, gatewayCookies: cookies)
    let route = table.routes[0]
    let text = Array(request.utf8)
    var head = RequestHead()
    let failure: HTTPParseError? = text.withUnsafeBytes { b in
        do throws(HTTPParseError) {
            try RequestHeadParser.parse(b, into: &head)
            return nil
        } catch {
            return error
        }
    }
    if let failure { throw failure }
    var out = HeadBuffer()
    RequestHeadBuilder(
        head: head, route: route, target: route.config.upstreams[0], dropped: route.droppedRequestHeaders,
        clientAddress: "127.0.0.1", secure: secure, requestID: Array("rid".utf8), identityBlock: [], upgrade: false
    ).write(normalizedPath: Array(head.path.utf8), into: &out)
    return String(decoding: out.bytes, as: UTF8.self)
}

/// The forwarded field values named `name` (ASCII case-insensitive, exact spelling).
private func values(_ head: String, _ name: String) -> [String] {
    head.components(separatedBy: "\r\n").compactMap { line in
        guard let colon = line.firstIndex(of: ":") else { return nil }
        return line[..<colon].lowercased() == name.lowercased()
            ? String(line[line.index(after: colon)...].drop(while: { $0 == " " })) : nil
    }
}

private func names(_ head: String) -> [String] {
    head.components(separatedBy: "\r\n").dropFirst().compactMap { line in
        line.firstIndex(of: ":").map { line[..<$0].lowercased() }
    }
}

@Suite("Request header forwarding")
struct RequestForwardingTests {
    @Test("the name matcher reads _ as - and ignores ASCII case")
    func nameMatcher() {
        let set = HeaderNameSet(["X-Auth-Subject", "X_Custom_Remove"])
        for name in ["x-auth-subject", "X_Auth_Subject", "x_AUTH-subject", "X-CUSTOM-REMOVE", "x_custom_remove"] {
            let b = Array(name.utf8)
            #expect(b.withUnsafeBytes { set.contains($0, 0, $0.count) }, "\(name)")
        }
        for name in ["x-auth-subjects", "x.auth.subject", "xauthsubject", "x-auth-subjec"] {
            let b = Array(name.utf8)
            #expect(!b.withUnsafeBytes { set.contains($0, 0, $0.count) }, "\(name)")
        }
        #expect(HeaderNameSet.fold("X_Auth-Roles") == "x-auth-roles")
    }

    @Test("identity headers are stripped in every _ and case spelling, whatever the settings")
    func identitySpellings() throws {
        let request =
            "GET / HTTP/1.1\r\nHost: h\r\nX_Auth_Subject: alice\r\nx_auth_roles: admin\r\nX-AUTH_scopes: all\r\n"
            + "X_Auth-Session: s\r\nX-Auth-Subject: bob\r\n\r\n"
        for extra in ["", #","allow_underscores_in_headers":true"#] {
            let h = try forwarded(request, route: extra)
            for n in names(h) { #expect(!n.hasPrefix("x-auth") && !n.hasPrefix("x_auth"), "\(n) forwarded") }
        }
    }

    @Test("names with _ are dropped by default and forwarded when the route allows them")
    func underscores() throws {
        let request = "GET / HTTP/1.1\r\nHost: h\r\nX_Custom: 1\r\nX-Other: 2\r\nX_Forwarded_For: 6.6.6.6\r\n\r\n"
        let strict = try forwarded(request)
        #expect(values(strict, "X_Custom").isEmpty)
        #expect(values(strict, "X-Other") == ["2"])
        let allowed = try forwarded(request, route: #","allow_underscores_in_headers":true"#)
        #expect(values(allowed, "X_Custom") == ["1"])
        // The gateway's own X-Forwarded-For is not to be doubled by a CGI-merged twin.
        #expect(values(allowed, "X_Forwarded_For").isEmpty)
        #expect(values(allowed, "X-Forwarded-For") == ["127.0.0.1"])
        let global = try forwarded(request, extra: #","allow_underscores_in_headers":true"#)
        #expect(values(global, "X_Custom") == ["1"])
        let overridden = try forwarded(
            request, route: #","allow_underscores_in_headers":false"#, extra: #","allow_underscores_in_headers":true"#)
        #expect(values(overridden, "X_Custom").isEmpty)
    }

    @Test("request_headers.remove and set names are matched with _ read as -")
    func removeAndSet() throws {
        let request = "GET / HTTP/1.1\r\nHost: h\r\nX_Internal: 1\r\nX-Internal: 2\r\nx_tenant: evil\r\n\r\n"
        let h = try forwarded(
            request,
            route:
                #","allow_underscores_in_headers":true,"request_headers":{"remove":["X-Internal"],"set":{"X-Tenant":"t1"}}"#
        )
        #expect(values(h, "X_Internal").isEmpty && values(h, "X-Internal").isEmpty)
        #expect(values(h, "x_tenant").isEmpty)
        #expect(values(h, "X-Tenant") == ["t1"])
    }

    @Test("URL and method override headers are dropped unless the route forwards them")
    func overrides() throws {
        let request =
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nX-Original-URL: /admin\r\nX-Rewrite-URL: /admin\r\n"
            + "X-HTTP-Method-Override: DELETE\r\nX-HTTP-Method: DELETE\r\nX-Method-Override: DELETE\r\n"
            + "X-Original-Method: DELETE\r\n\r\n"
        let h = try forwarded(request)
        for name in ReservedRequestHeaders.overrides { #expect(values(h, name).isEmpty, "\(name) forwarded") }
        let f = try forwarded(request, route: #","request_headers":{"forward":["X-HTTP-Method-Override"]}"#)
        #expect(values(f, "X-HTTP-Method-Override") == ["DELETE"])
        #expect(values(f, "X-Original-URL").isEmpty)
    }

    @Test("Host and X-Forwarded-Host carry the canonical host the route matched")
    func canonicalHost() throws {
        let h = try forwarded("GET / HTTP/1.1\r\nHost: Admin.Example.COM.:8080\r\n\r\n")
        #expect(values(h, "Host") == ["admin.example.com:8080"])
        #expect(values(h, "X-Forwarded-Host") == ["admin.example.com:8080"])
        let a = try forwarded("GET http://API.Example./x HTTP/1.1\r\nHost: other\r\n\r\n")
        #expect(values(a, "Host") == ["api.example"])
        let p = try forwarded("GET / HTTP/1.1\r\nHost: Admin.Example.\r\n\r\n", route: #","preserve_host":false"#)
        #expect(values(p, "Host") == ["127.0.0.1:9001"])
        #expect(values(p, "X-Forwarded-Host") == ["admin.example"])
    }

    @Test("the cookie filter removes exact names anywhere, keeps the others byte for byte")
    func cookieFilter() {
        func filter(_ value: String, _ names: [String] = ["rt"]) -> String? {
            let b = Array(value.utf8)
            let n = names.map { Array($0.utf8) }
            var out = HeadBuffer()
            let kept = b.withUnsafeBytes { CookieFilter.appendKept($0, 0, $0.count, removing: n, to: &out) }
            return kept ? String(decoding: out.bytes, as: UTF8.self) : nil
        }
        #expect(filter("rt=secret") == nil)
        #expect(filter("a=1; rt=secret; b=\"x y\"") == "a=1; b=\"x y\"")
        #expect(filter("rt=secret; a=1") == "a=1")
        #expect(filter("a=1;rt=secret") == "a=1")
        #expect(filter(" rt = secret ;a=%20=1") == "a=%20=1")
        #expect(filter("RT=keep; rtx=keep; xrt=keep") == "RT=keep; rtx=keep; xrt=keep")
        #expect(filter("a=1; rt=one; rt=two; b=2") == "a=1; b=2")
        #expect(filter("flag; a=1") == "flag; a=1")
        #expect(filter(";;") == nil)
        let b = Array("a=1; rt=2".utf8)
        #expect(b.withUnsafeBytes { CookieFilter.containsAny($0, 0, $0.count, names: [Array("rt".utf8)]) })
        #expect(!b.withUnsafeBytes { CookieFilter.containsAny($0, 0, $0.count, names: [Array("r".utf8)]) })
    }

    @Test("the gateway's cookies leave every Cookie field; an emptied field is dropped")
    func cookiesForwarded() throws {
        let request = "GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; rt=secret\r\nCookie: rt=other\r\ncookie: b=2\r\n\r\n"
        let h = try forwarded(request, cookies: ["rt"])
        #expect(values(h, "Cookie") == ["a=1", "b=2"])
        #expect(!h.contains("secret") && !h.contains("other"))
        let off = try forwarded(request)
        #expect(values(off, "Cookie") == ["a=1; rt=secret", "rt=other", "b=2"])
    }

    @Test("X-Forwarded-Proto says how the client came, whatever it sent")
    func forwardedProto() throws {
        let request = "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-Proto: https\r\n\r\n"
        #expect(values(try forwarded(request), "X-Forwarded-Proto") == ["http"])
        #expect(values(try forwarded(request, secure: true), "X-Forwarded-Proto") == ["https"])
        let plain = "GET / HTTP/1.1\r\nHost: h\r\n\r\n"
        #expect(values(try forwarded(plain, secure: true), "X-Forwarded-Proto") == ["https"])
    }

    @Test("client-certificate identity lines: subject and fingerprint, refused when unsafe")
    func clientCertificateLines() {
        var out: [UInt8] = []
        let names = IdentityHeaderNames()
        let cert = PeerCertificate(subject: "CN=client-1,O=Example", sha256: String(repeating: "ab", count: 32))
        #expect(ClientCertificateHeaders.render(cert, names: names, into: &out))
        #expect(
            String(decoding: out, as: UTF8.self)
                == "X-Client-Cert-Subject: CN=client-1,O=Example\r\nX-Client-Cert-SHA256: \(cert.sha256)\r\n")
        var bad: [UInt8] = []
        #expect(
            !ClientCertificateHeaders.render(
                PeerCertificate(subject: "CN=a\r\nX: y", sha256: "00"), names: names, into: &bad))
        #expect(bad.isEmpty)
    }
}

@Suite("Request header forwarding behind trusted proxies")
struct TrustedForwardingTests {
    private func forward(_ lines: [String], trusted: Bool) throws -> String {
        let c = try parseConfig(#"{"routes":[{"path":"/","upstream":"http://127.0.0.1:9001","auth":"none"}]}"#)
        let table = RouteTable(c.routes, identityHeaders: c.identityHeaders.allNames, gatewayCookies: [])
        let route = table.routes[0]
        let head = try edgeHead(lines)
        var out = HeadBuffer()
        RequestHeadBuilder(
            head: head, route: route, target: route.config.upstreams[0], dropped: route.droppedRequestHeaders,
            clientAddress: "10.0.0.2", secure: false, requestID: Array("rid".utf8), identityBlock: [],
            upgrade: false, trustedPeer: trusted, listenPort: 8080
        ).write(normalizedPath: Array(head.path.utf8), into: &out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    private func values(_ head: String, _ name: String) -> [String] {
        head.components(separatedBy: "\r\n").compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return line[..<colon].lowercased() == name ? String(line[line.index(after: colon)...].dropFirst()) : nil
        }
    }

    let sent = [
        "X-Forwarded-Proto: https", "X-Forwarded-Host: public.example.com", "X-Forwarded-Port: 443",
        "X-Forwarded-For: 198.51.100.7",
    ]

    @Test("a trusted proxy's X-Forwarded-Proto, -Host and -Port are kept")
    func kept() throws {
        let h = try forward(sent, trusted: true)
        #expect(values(h, "x-forwarded-proto") == ["https"])
        #expect(values(h, "x-forwarded-host") == ["public.example.com"])
        #expect(values(h, "x-forwarded-port") == ["443"])
        #expect(values(h, "x-forwarded-for") == ["198.51.100.7, 10.0.0.2"])
    }

    @Test("anyone else's are replaced by what the gateway saw")
    func replaced() throws {
        let h = try forward(sent + ["X_Forwarded_Port: 1"], trusted: false)
        #expect(values(h, "x-forwarded-proto") == ["http"])
        #expect(values(h, "x-forwarded-host") == ["app.example.com"])
        #expect(values(h, "x-forwarded-port") == ["8080"])
        #expect(values(h, "x_forwarded_port").isEmpty)
        #expect(values(h, "x-forwarded-for") == ["198.51.100.7, 10.0.0.2"])
    }
}
