import Synchronization

/// Prometheus metrics (text format 0.0.4). Request counters and duration histograms live
/// per worker, each behind its own lock that only that worker and a scrape ever take, so
/// workers never contend; a scrape sums them. Token events are rare and counted in shared
/// atomics.
final class Metrics: Sendable {
    private let workers = Mutex<[WorkerMetrics]>([])
    let tokens: TokenCounters

    init(tokens: TokenCounters) {
        self.tokens = tokens
    }

    /// A new worker's counters.
    func register() -> WorkerMetrics {
        let w = WorkerMetrics()
        workers.withLock { $0.append(w) }
        return w
    }

    /// A point-in-time value or a running total that is not kept here (open connections,
    /// dropped access-log lines, ...).
    typealias Sample = (name: String, help: String, value: Int)

    /// The whole exposition. `gauges` are point-in-time values; `counters` are totals kept
    /// elsewhere, whose names end in `_total`; `process` adds the `process_*` metrics.
    func render(gauges: [Sample], counters: [Sample] = [], process: ProcessMetrics? = nil) -> [UInt8] {
        var requests: [WorkerMetrics.RequestKey: UInt64] = [:]
        var failures: [String: UInt64] = [:]
        var latency = Histogram()
        var durations: [String: Histogram] = [:]
        for w in workers.withLock({ $0 }) {
            w.snapshot { s in
                requests.merge(s.requests, uniquingKeysWith: +)
                failures.merge(s.authFailures, uniquingKeysWith: +)
                latency.add(s.upstreamLatency)
                for (route, h) in s.durations { durations[route, default: Histogram()].add(h) }
            }
        }
        var out = ""
        out += "# HELP gateway_requests_total Requests answered, by route and status.\n"
        out += "# TYPE gateway_requests_total counter\n"
        for (k, v) in requests.sorted(by: { ($0.key.route, $0.key.status) < ($1.key.route, $1.key.status) }) {
            out += "gateway_requests_total{route=\"\(Self.escape(k.route))\",status=\"\(k.status)\"} \(v)\n"
        }
        out += "# HELP gateway_auth_failures_total Requests refused by the auth policy, by reason.\n"
        out += "# TYPE gateway_auth_failures_total counter\n"
        for (reason, v) in failures.sorted(by: { $0.key < $1.key }) {
            out += "gateway_auth_failures_total{reason=\"\(Self.escape(reason))\"} \(v)\n"
        }
        out += "# HELP gateway_tokens_total Token life-cycle events.\n"
        out += "# TYPE gateway_tokens_total counter\n"
        for (event, v) in tokens.values {
            out += "gateway_tokens_total{event=\"\(event)\"} \(v)\n"
        }
        out +=
            "# HELP gateway_upstream_response_seconds Time from forwarding a request to the upstream's response head.\n"
        out += "# TYPE gateway_upstream_response_seconds histogram\n"
        latency.append(name: "gateway_upstream_response_seconds", labels: "", to: &out)
        out += "# HELP gateway_request_duration_seconds Time from a request's head to its response's end, by route.\n"
        out += "# TYPE gateway_request_duration_seconds histogram\n"
        for (route, h) in durations.sorted(by: { $0.key < $1.key }) {
            h.append(name: "gateway_request_duration_seconds", labels: "route=\"\(Self.escape(route))\",", to: &out)
        }
        for g in gauges {
            out += "# HELP \(g.name) \(g.help)\n# TYPE \(g.name) gauge\n\(g.name) \(g.value)\n"
        }
        for c in counters {
            out += "# HELP \(c.name) \(c.help)\n# TYPE \(c.name) counter\n\(c.name) \(c.value)\n"
        }
        BuildInfo.append(to: &out)
        process?.append(to: &out)
        return Array(out.utf8)
    }

    /// A label value with `\\`, `"` and newlines escaped.
    static func escape(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "\\": o += "\\\\"
            case "\"": o += "\\\""
            case "\n": o += "\\n"
            default: o.append(c)
            }
        }
        return o
    }
}

/// One worker's counters.
final class WorkerMetrics: Sendable {
    struct RequestKey: Hashable {
        var route: String
        var status: Int
    }

    struct State {
        var requests: [RequestKey: UInt64] = [:]
        var authFailures: [String: UInt64] = [:]
        var upstreamLatency = Histogram()
        /// Request durations by route label; a route's histogram is created on its first request.
        var durations: [String: Histogram] = [:]
        /// Where the last request's route and status were counted. Requests mostly repeat
        /// their predecessor's series, and a dictionary index stays valid until a key is
        /// added (only on a miss here): a hit costs no hashing of the route's name.
        var last:
            (
                route: String, status: Int, request: Dictionary<RequestKey, UInt64>.Index,
                duration: Dictionary<String, Histogram>.Index
            )?

        mutating func count(route: String, status: Int, durationMillis: Int64) {
            if let last, last.status == status, last.route == route {
                requests.values[last.request] &+= 1
                durations.values[last.duration].observe(millis: durationMillis)
                return
            }
            let key = RequestKey(route: route, status: status)
            requests[key, default: 0] &+= 1
            durations[route, default: Histogram()].observe(millis: durationMillis)
            last = (route, status, requests.index(forKey: key)!, durations.index(forKey: route)!)
        }
    }

    private let state = Mutex(State())

    func record(route: String, status: Int, durationMillis: Int64, upstreamMillis: Int64?, authFailure: String?) {
        state.withLock { s in
            s.count(route: route, status: status, durationMillis: durationMillis)
            if let authFailure { s.authFailures[authFailure, default: 0] &+= 1 }
            if let upstreamMillis { s.upstreamLatency.observe(millis: upstreamMillis) }
        }
    }

    func snapshot(_ body: (State) -> Void) {
        let s = state.withLock { $0 }
        body(s)
    }
}

struct Histogram {
    static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    private static let boundMillis: [Int64] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000]
    var buckets = [UInt64](repeating: 0, count: Histogram.bounds.count + 1)
    var sumMillis: Int64 = 0

    mutating func observe(millis: Int64) {
        var i = 0
        while i < Self.boundMillis.count && millis > Self.boundMillis[i] { i += 1 }
        buckets[i] &+= 1
        sumMillis &+= millis
    }

    mutating func add(_ other: Histogram) {
        for i in buckets.indices { buckets[i] &+= other.buckets[i] }
        sumMillis &+= other.sumMillis
    }

    /// The `_bucket` (cumulative), `_sum` and `_count` lines; `labels` is empty or ends in a comma.
    func append(name: String, labels: String, to out: inout String) {
        var cumulative: UInt64 = 0
        for (i, bound) in Self.bounds.enumerated() {
            cumulative += buckets[i]
            out += "\(name)_bucket{\(labels)le=\"\(bound)\"} \(cumulative)\n"
        }
        cumulative += buckets[Self.bounds.count]
        out += "\(name)_bucket{\(labels)le=\"+Inf\"} \(cumulative)\n"
        let braces = labels.isEmpty ? "" : "{\(labels.dropLast())}"
        out += "\(name)_sum\(braces) \(Double(sumMillis) / 1000)\n"
        out += "\(name)_count\(braces) \(cumulative)\n"
    }
}

/// Token life-cycle events, from whichever thread finishes a flow.
final class TokenCounters: Sendable {
    enum Event: String, CaseIterable {
        case issued, refreshed, grace_replayed, reuse_detected, binding_mismatch, revoked, login_failed, login_throttled
    }

    private let counts = Mutex([UInt64](repeating: 0, count: Event.allCases.count))

    func count(_ e: Event, by n: Int = 1) {
        let i = Event.allCases.firstIndex(of: e)!
        counts.withLock { $0[i] &+= UInt64(n) }
    }

    var values: [(String, UInt64)] {
        let c = counts.withLock { $0 }
        return Event.allCases.enumerated().map { ($1.rawValue, c[$0]) }
    }
}
