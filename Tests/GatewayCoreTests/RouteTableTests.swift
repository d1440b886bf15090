import HTTP1
import Testing

@testable import GatewayCore

/// Builds a route table from `routes` JSON entries (all public, numeric upstreams).
private func table(_ routes: [String]) throws -> RouteTable {
    let c = try parseConfig(#"{"routes":[\#(routes.joined(separator: ","))]}"#)
    return RouteTable(c.routes, identityHeaders: c.identityHeaders.allNames)
}

private func route(_ name: String, _ path: String, _ extra: String = "") -> String {
    #"{"name":"\#(name)","path":"\#(path)","upstream":"http://127.0.0.1:9001","auth":"none"\#(extra)}"#
}

/// The matched route's name, `405 A,B` or `404`.
private func match(_ t: RouteTable, _ path: String, host: String = "", _ method: HTTPMethod = .get) -> String {
    let p = Array(path.utf8), h = Array(host.utf8)
    let m = p.withUnsafeBytes { pb in h.withUnsafeBytes { hb in t.match(path: pb, host: hb, method: method) } }
    switch m {
    case .route(let r): return r.config.name
    case .methodNotAllowed(let allow): return "405 " + allow.joined(separator: ",")
    case .notFound: return "404"
    }
}

private func upstreamPath(_ r: Route, _ path: String, base: String) -> String {
    var out = HeadBuffer()
    Array(path.utf8).withUnsafeBytes { r.upstreamPath($0, base: base, into: &out) }
    return String(decoding: out.bytes, as: UTF8.self)
}

@Suite("Route table")
struct RouteTableTests {
    @Test("prefixes match on segment boundaries, case-sensitively")
    func segmentBoundaries() throws {
        let t = try table([route("root", "/"), route("api", "/api")])
        #expect(match(t, "/api") == "api")
        #expect(match(t, "/api/") == "api")
        #expect(match(t, "/api/x/y") == "api")
        #expect(match(t, "/apix") == "root")
        #expect(match(t, "/API") == "root")
        #expect(match(t, "/") == "root")
        let noRoot = try table([route("api", "/api")])
        #expect(match(noRoot, "/apix") == "404")
        #expect(match(noRoot, "/ap") == "404")
        #expect(match(noRoot, "/") == "404")
    }

    @Test("the longest prefix wins, whatever the order in the file")
    func longestPrefix() throws {
        let t = try table([route("api", "/api"), route("admin", "/api/admin"), route("v1", "/api/v1")])
        #expect(match(t, "/api/admin") == "admin")
        #expect(match(t, "/api/admin/users") == "admin")
        #expect(match(t, "/api/administrator") == "api")
        #expect(match(t, "/api/v1/x") == "v1")
        #expect(match(t, "/api/v2") == "api")
    }

    @Test("host-specific routes before host-less ones; wildcards match one or more labels")
    func hosts() throws {
        let t = try table([
            route("any", "/api"), route("wild", "/api", #","host":"*.example.com""#),
            route("exact", "/api", #","host":"api.example.com""#), route("longer", "/api/v1"),
        ])
        #expect(match(t, "/api", host: "api.example.com") == "exact")
        #expect(match(t, "/api", host: "x.example.com") == "wild")
        #expect(match(t, "/api", host: "a.b.example.com") == "wild")
        #expect(match(t, "/api", host: "example.com") == "any")
        #expect(match(t, "/api", host: "xexample.com") == "any")
        #expect(match(t, "/api", host: "example.com.evil") == "any")
        #expect(match(t, "/api", host: "") == "any")
        // A longer prefix owns its path even without a host.
        #expect(match(t, "/api/v1/x", host: "api.example.com") == "longer")
        let hostOnly = try table([route("exact", "/api", #","host":"api.example.com""#)])
        #expect(match(hostOnly, "/api", host: "other.example.com") == "404")
    }

    @Test("methods: 405 with Allow, never a fall-through to a shorter prefix")
    func methods() throws {
        let t = try table([
            route("root", "/"), route("read", "/api", #","methods":["GET"]"#),
            route("write", "/api", #","methods":["POST","DELETE"]"#),
        ])
        #expect(match(t, "/api/x", .get) == "read")
        #expect(match(t, "/api/x", .post) == "write")
        #expect(match(t, "/api/x", .delete) == "write")
        #expect(match(t, "/api/x", .put) == "405 GET,POST,DELETE")
        #expect(match(t, "/apix", .put) == "root")
        let single = try table([route("root", "/"), route("read", "/api", #","methods":["GET"]"#)])
        #expect(match(single, "/api", .post) == "405 GET")
        #expect(match(single, "/api", .other("PROPFIND")) == "405 GET")
    }

    @Test("HEAD is allowed where GET is")
    func head() throws {
        let t = try table([
            route("read", "/api", #","methods":["GET"]"#), route("post", "/form", #","methods":["POST"]"#),
        ])
        #expect(match(t, "/api", .head) == "read")
        #expect(match(t, "/form", .head) == "405 POST")
    }

    @Test("a route limited to methods comes before a catch-all of the same prefix")
    func methodSpecificFirst() throws {
        let t = try table([route("all", "/api"), route("get", "/api", #","methods":["GET"]"#)])
        #expect(match(t, "/api", .get) == "get")
        #expect(match(t, "/api", .post) == "all")
    }

    @Test("upstream path: strip_prefix and base paths")
    func upstreamPaths() throws {
        let t = try table([
            route("strip", "/api", #","strip_prefix":true"#), route("keep", "/keep"),
            route("me", "/me", #","strip_prefix":true"#), route("root", "/", #","strip_prefix":true"#),
        ])
        func r(_ name: String) throws -> Route { try #require(t.routes.first { $0.config.name == name }) }
        #expect(upstreamPath(try r("strip"), "/api/users/1", base: "") == "/users/1")
        #expect(upstreamPath(try r("strip"), "/api", base: "") == "/")
        #expect(upstreamPath(try r("strip"), "/api/users", base: "/v2") == "/v2/users")
        #expect(upstreamPath(try r("keep"), "/keep/x", base: "") == "/keep/x")
        #expect(upstreamPath(try r("keep"), "/keep/x", base: "/b") == "/b/keep/x")
        // `/me` stripped to nothing under base `/profile` is `/profile`, not `/profile/`.
        #expect(upstreamPath(try r("me"), "/me", base: "/profile") == "/profile")
        #expect(upstreamPath(try r("me"), "/me/", base: "/profile") == "/profile/")
        #expect(upstreamPath(try r("root"), "/x/y", base: "") == "/x/y")
        #expect(upstreamPath(try r("root"), "/x", base: "/b") == "/b/x")
    }

    @Test("identity headers, removals and set names are dropped from requests")
    func droppedHeaders() throws {
        let t = try table([
            route("a", "/a", #","request_headers":{"set":{"X-Env":"1"},"remove":["X-Debug"]}"#)
        ])
        let r = t.routes[0]
        func dropped(_ name: String) -> Bool {
            Array(name.utf8).withUnsafeBytes { r.droppedRequestHeaders.contains($0, 0, $0.count) }
        }
        #expect(dropped("x-auth-subject"))
        #expect(dropped("X-AUTH-ROLES"))
        #expect(dropped("X-Auth-Scopes"))
        #expect(dropped("x-auth-session"))
        #expect(dropped("x-env"))
        #expect(dropped("x-debug"))
        #expect(!dropped("x-auth-subjectx"))
        #expect(!dropped("accept"))
    }
}
