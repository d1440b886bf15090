import JOSE
import Testing

@testable import GatewayCore

/// scrypt with N = 16: cheap, and accepted by `PasswordHash.hash` (ln ≥ 1).
private let cheap = PasswordHash.Scheme.scrypt(ln: 4, r: 8, p: 1)

@Suite("Users file authenticator")
struct UsersFileAuthenticatorTests {
    private func issues(_ text: String) throws -> [ConfigError.Issue] {
        let dir = TempDir()
        defer { dir.remove() }
        let path = try dir.write("users.json", text)
        do {
            _ = try UsersFileAuthenticator(path: path)
            Issue.record("users file accepted")
            return []
        } catch {
            return error.issues
        }
    }

    @Test("the right password logs in with the file's claims; a wrong one or an unknown user does not")
    func authenticate() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let alice = try PasswordHash.hash(password: "correct horse", scheme: cheap)
        let bob = try PasswordHash.hash(password: "bob's password", scheme: cheap)
        let path = try dir.write(
            "users.json",
            #"""
            {"users":[
              {"username":"alice","password_hash":"\#(alice)","scope":"read write","roles":["admin",7],
               "claims":{"email":"a@example.com","iss":"https://evil"}},
              {"username":"bob","password_hash":"\#(bob)","sub":"user-42"}
            ]}
            """#)
        let auth = try UsersFileAuthenticator(path: path)
        #expect(auth.users.count == 2)

        guard case .success(let id) = auth.authenticate(username: "alice", password: bytes("correct horse")) else {
            Issue.record("alice rejected")
            return
        }
        #expect(id.subject == "alice")
        #expect(id.scope == "read write")
        #expect(id.roles == ["admin"])
        #expect(id.extra.map(\.0) == ["email"])  // reserved claims are dropped

        guard case .success(let b) = auth.authenticate(username: "bob", password: bytes("bob's password")) else {
            Issue.record("bob rejected")
            return
        }
        #expect(b.subject == "user-42")
        #expect(b.scope == nil)

        if case .rejected = auth.authenticate(username: "alice", password: bytes("correct horse ")) {
        } else {
            Issue.record("wrong password accepted")
        }
        if case .rejected = auth.authenticate(username: "alice", password: bytes("bob's password")) {
        } else {
            Issue.record("another user's password accepted")
        }
        if case .rejected = auth.authenticate(username: "carol", password: bytes("correct horse")) {
        } else {
            Issue.record("unknown user accepted")
        }
        if case .rejected = auth.authenticate(username: "Alice", password: bytes("correct horse")) {
        } else {
            Issue.record("usernames are case-sensitive")
        }
    }

    @Test("a broken file is refused with what is wrong")
    func broken() throws {
        let hash = try PasswordHash.hash(password: "x", scheme: cheap)
        #expect(has(try issues("{"), "auth.authenticator.path"))
        #expect(has(try issues(#"{"people":[]}"#), "auth.authenticator.path", "users"))
        #expect(try issues(#"{"users":[{"username":"a"}]}"#).first?.message.contains("password_hash") == true)
        #expect(try issues(#"{"users":[{"username":"","password_hash":"\#(hash)"}]}"#).count == 1)
        #expect(try issues(#"{"users":[{"username":"a","password_hash":"plaintext"}]}"#).count == 1)
        let dup = try issues(
            #"{"users":[{"username":"a","password_hash":"\#(hash)"},{"username":"a","password_hash":"\#(hash)"}]}"#)
        #expect(dup.first?.message.contains("duplicate") == true)
        #expect(dup.first?.path.hasSuffix("users[1]") == true)
        do {
            _ = try UsersFileAuthenticator(path: "/nonexistent/users.json")
            Issue.record("missing file accepted")
        } catch {
            #expect(has(error.issues, "auth.authenticator.path", "cannot read"))
        }
    }
}

@Suite("Metrics")
struct MetricsTests {
    private func lines(_ m: Metrics, gauges: [(name: String, help: String, value: Int)] = []) -> [String] {
        String(decoding: m.render(gauges: gauges), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test("request counters by route and status, summed over workers")
    func counters() {
        let m = Metrics(tokens: TokenCounters())
        let w1 = m.register(), w2 = m.register()
        w1.record(route: "api", status: 200, upstreamMillis: nil, authFailure: nil)
        w2.record(route: "api", status: 200, upstreamMillis: nil, authFailure: nil)
        w2.record(route: "api", status: 401, upstreamMillis: nil, authFailure: "expired")
        w1.record(route: "a\"b", status: 404, upstreamMillis: nil, authFailure: nil)
        let l = lines(m)
        #expect(l.contains(#"gateway_requests_total{route="api",status="200"} 2"#))
        #expect(l.contains(#"gateway_requests_total{route="api",status="401"} 1"#))
        #expect(l.contains(#"gateway_requests_total{route="a\"b",status="404"} 1"#))
        #expect(l.contains(#"gateway_auth_failures_total{reason="expired"} 1"#))
        #expect(l.contains("# TYPE gateway_requests_total counter"))
        m.tokens.count(.issued, by: 3)
        m.tokens.count(.reuse_detected)
        let again = lines(m)
        #expect(again.contains(#"gateway_tokens_total{event="issued"} 3"#))
        #expect(again.contains(#"gateway_tokens_total{event="reuse_detected"} 1"#))
        #expect(again.contains(#"gateway_tokens_total{event="revoked"} 0"#))
    }

    @Test("histogram buckets are cumulative, with +Inf, sum and count")
    func histogram() {
        let m = Metrics(tokens: TokenCounters())
        let w = m.register()
        for ms: Int64 in [0, 1, 3, 5, 40, 40_000] {
            w.record(route: "r", status: 200, upstreamMillis: ms, authFailure: nil)
        }
        let l = lines(m)
        let buckets = l.filter { $0.hasPrefix("gateway_upstream_response_seconds_bucket") }
        #expect(
            buckets == [
                #"gateway_upstream_response_seconds_bucket{le="0.001"} 2"#,
                #"gateway_upstream_response_seconds_bucket{le="0.0025"} 2"#,
                #"gateway_upstream_response_seconds_bucket{le="0.005"} 4"#,
                #"gateway_upstream_response_seconds_bucket{le="0.01"} 4"#,
                #"gateway_upstream_response_seconds_bucket{le="0.025"} 4"#,
                #"gateway_upstream_response_seconds_bucket{le="0.05"} 5"#,
                #"gateway_upstream_response_seconds_bucket{le="0.1"} 5"#,
                #"gateway_upstream_response_seconds_bucket{le="0.25"} 5"#,
                #"gateway_upstream_response_seconds_bucket{le="0.5"} 5"#,
                #"gateway_upstream_response_seconds_bucket{le="1.0"} 5"#,
                #"gateway_upstream_response_seconds_bucket{le="2.5"} 5"#,
                #"gateway_upstream_response_seconds_bucket{le="5.0"} 5"#,
                #"gateway_upstream_response_seconds_bucket{le="10.0"} 5"#,
                #"gateway_upstream_response_seconds_bucket{le="30.0"} 5"#,
                #"gateway_upstream_response_seconds_bucket{le="+Inf"} 6"#,
            ])
        #expect(l.contains("gateway_upstream_response_seconds_count 6"))
        #expect(l.contains("gateway_upstream_response_seconds_sum 40.049"))
        #expect(l.contains("# TYPE gateway_upstream_response_seconds histogram"))
    }

    @Test("gauges")
    func gauges() {
        let m = Metrics(tokens: TokenCounters())
        let l = lines(m, gauges: [("gateway_open_connections", "Open client connections.", 7)])
        #expect(
            l.suffix(3) == [
                "# HELP gateway_open_connections Open client connections.", "# TYPE gateway_open_connections gauge",
                "gateway_open_connections 7",
            ])
        // No requests yet: an empty histogram still renders.
        #expect(l.contains(#"gateway_upstream_response_seconds_bucket{le="+Inf"} 0"#))
    }
}
