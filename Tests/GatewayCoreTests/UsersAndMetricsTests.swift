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
    private func lines(_ m: Metrics, gauges: [Metrics.Sample] = [], process: ProcessMetrics? = nil) -> [String] {
        String(decoding: m.render(gauges: gauges, process: process), as: UTF8.self).split(separator: "\n").map(
            String.init)
    }

    @Test("request counters by route and status, summed over workers")
    func counters() {
        let m = Metrics(tokens: TokenCounters())
        let w1 = m.register(), w2 = m.register()
        w1.record(route: "api", status: 200, durationMillis: 0, upstreamMillis: nil, authFailure: nil)
        w2.record(route: "api", status: 200, durationMillis: 0, upstreamMillis: nil, authFailure: nil)
        w2.record(route: "api", status: 401, durationMillis: 0, upstreamMillis: nil, authFailure: "expired")
        w1.record(route: "a\"b", status: 404, durationMillis: 0, upstreamMillis: nil, authFailure: nil)
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

    @Test("repeated and alternating series on one worker are each counted once per request")
    func repeatedSeries() {
        let m = Metrics(tokens: TokenCounters())
        let w = m.register()
        let sequence: [(String, Int)] = [
            ("api", 200), ("api", 200), ("api", 200), ("api", 401), ("api", 200), ("other", 200), ("api", 200),
            ("other", 200), ("other", 503), ("api", 401),
        ]
        for (route, status) in sequence {
            w.record(route: route, status: status, durationMillis: 7, upstreamMillis: nil, authFailure: nil)
        }
        let l = lines(m)
        #expect(l.contains(#"gateway_requests_total{route="api",status="200"} 5"#))
        #expect(l.contains(#"gateway_requests_total{route="api",status="401"} 2"#))
        #expect(l.contains(#"gateway_requests_total{route="other",status="200"} 2"#))
        #expect(l.contains(#"gateway_requests_total{route="other",status="503"} 1"#))
        #expect(l.contains(#"gateway_request_duration_seconds_count{route="api"} 7"#))
        #expect(l.contains(#"gateway_request_duration_seconds_count{route="other"} 3"#))
    }

    @Test("histogram buckets are cumulative, with +Inf, sum and count")
    func histogram() {
        let m = Metrics(tokens: TokenCounters())
        let w = m.register()
        for ms: Int64 in [0, 1, 3, 5, 40, 40_000] {
            w.record(route: "r", status: 200, durationMillis: 0, upstreamMillis: ms, authFailure: nil)
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
        let expected = [
            "# HELP gateway_open_connections Open client connections.", "# TYPE gateway_open_connections gauge",
            "gateway_open_connections 7",
        ]
        let at = l.firstIndex(of: expected[0])
        #expect(at.map { Array(l[$0..<min(l.count, $0 + 3)]) } == expected)
        // No requests yet: an empty histogram still renders.
        #expect(l.contains(#"gateway_upstream_response_seconds_bucket{le="+Inf"} 0"#))
    }

    @Test("a counter kept elsewhere is TYPE counter with its _total name; no gauge ends in _total")
    func countersKeptElsewhere() {
        let m = Metrics(tokens: TokenCounters())
        let text = String(
            decoding: m.render(
                gauges: [("gateway_open_connections", "Open.", 1)],
                counters: [("gateway_access_log_dropped_total", "Dropped.", 4)]),
            as: UTF8.self)
        let l = text.split(separator: "\n").map(String.init)
        #expect(l.contains("# TYPE gateway_access_log_dropped_total counter"))
        #expect(l.contains("gateway_access_log_dropped_total 4"))
        for line in l where line.hasPrefix("# TYPE ") && line.hasSuffix(" gauge") {
            #expect(!line.dropLast(" gauge".count).hasSuffix("_total"), "\(line)")
        }
    }

    @Test("request durations: one cumulative histogram per route, summed over workers")
    func requestDurations() {
        let m = Metrics(tokens: TokenCounters())
        let w1 = m.register(), w2 = m.register()
        for ms: Int64 in [0, 3, 40] {
            w1.record(route: "api", status: 200, durationMillis: ms, upstreamMillis: nil, authFailure: nil)
        }
        w2.record(route: "api", status: 502, durationMillis: 40_000, upstreamMillis: nil, authFailure: nil)
        w2.record(route: "public", status: 200, durationMillis: 1, upstreamMillis: nil, authFailure: nil)
        let l = lines(m)
        let api = l.filter { $0.hasPrefix(#"gateway_request_duration_seconds_bucket{route="api","#) }
        #expect(api.count == Histogram.bounds.count + 1)
        #expect(api.first == #"gateway_request_duration_seconds_bucket{route="api",le="0.001"} 1"#)
        #expect(api.contains(#"gateway_request_duration_seconds_bucket{route="api",le="0.005"} 2"#))
        #expect(api.contains(#"gateway_request_duration_seconds_bucket{route="api",le="0.05"} 3"#))
        #expect(api.contains(#"gateway_request_duration_seconds_bucket{route="api",le="30.0"} 3"#))
        #expect(api.last == #"gateway_request_duration_seconds_bucket{route="api",le="+Inf"} 4"#)
        #expect(l.contains(#"gateway_request_duration_seconds_count{route="api"} 4"#))
        #expect(l.contains(#"gateway_request_duration_seconds_sum{route="api"} 40.043"#))
        #expect(l.contains(#"gateway_request_duration_seconds_count{route="public"} 1"#))
        #expect(l.contains("# TYPE gateway_request_duration_seconds histogram"))
    }

    @Test("build info: version of the binary and the stamped commit, value 1")
    func buildInfo() {
        let l = lines(Metrics(tokens: TokenCounters()))
        #expect(l.contains("# TYPE gateway_build_info gauge"))
        #expect(l.contains(#"gateway_build_info{version="\#(Gateway.version)",commit="\#(BuildInfo.commit)"} 1"#))
    }

    @Test("process metrics: the /proc/self/stat fields, with spaces and parentheses in the name")
    func processStat() {
        // Fields 14/15 utime/stime, 22 starttime, 23 vsize, 24 rss (proc(5)).
        var fields = (3...52).map { String($0) }
        fields[0] = "S"
        fields[14 - 3] = "250"
        fields[15 - 3] = "50"
        fields[22 - 3] = "123456"
        fields[23 - 3] = "987654321"
        fields[24 - 3] = "2048"
        let line = "4242 (gw (x) y) " + fields.joined(separator: " ") + "\n"
        let stat = ProcessMetrics.parseStat(Array(line.utf8))
        #expect(
            stat
                == ProcessMetrics.Stat(
                    utimeTicks: 250, stimeTicks: 50, startTicks: 123456, virtualBytes: 987_654_321,
                    residentPages: 2048))
        #expect(ProcessMetrics.parseStat(Array("4242 (gw) S 1 2".utf8)) == nil)
        #expect(ProcessMetrics.parseStat([]) == nil)
        let procStat = "cpu  1 2 3\nintr 5\nbtime 1764600000\nprocesses 9\n"
        #expect(ProcessMetrics.parseBootTime(Array(procStat.utf8)) == 1_764_600_000)
        #expect(ProcessMetrics.parseBootTime(Array("cpu 1\n".utf8)) == nil)
    }

    @Test("process metrics of this process are plausible and render with their types")
    func processCurrent() throws {
        let p = try #require(ProcessMetrics.current())
        #expect(p.residentBytes > 0)
        #expect(p.virtualBytes >= p.residentBytes)
        #expect(p.openFDs >= 3)
        #expect(p.maxFDs >= p.openFDs)
        #expect(p.cpuSeconds >= 0)
        let now = Double(WallClock.millis()) / 1000
        #expect(p.startTimeSeconds <= now + 1 && p.startTimeSeconds > now - 24 * 3600)
        let l = lines(Metrics(tokens: TokenCounters()), process: p)
        #expect(l.contains("# TYPE process_cpu_seconds_total counter"))
        #expect(l.contains("# TYPE process_resident_memory_bytes gauge"))
        #expect(l.contains("process_open_fds \(p.openFDs)"))
        #expect(l.contains("process_max_fds \(p.maxFDs)"))
    }
}
