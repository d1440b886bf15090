import Synchronization

/// Counters of the load-balancer features: rare events (a refused PROXY header, an
/// ejection, a re-resolution), never per request, so one shared lock is cheap enough.
final class EdgeCounters: Sendable {
    enum Event: Int, CaseIterable {
        case proxyHeaderRejected
        case forwardAuthUntrusted
        case upstreamEjected
        case upstreamResolved
        case upstreamResolveFailed
        case healthCheckFailed

        var sample: (name: String, help: String) {
            switch self {
            case .proxyHeaderRejected:
                return (
                    "gateway_proxy_protocol_rejected_total",
                    "Connections closed for a missing, invalid, late or untrusted PROXY protocol header."
                )
            case .forwardAuthUntrusted:
                return (
                    "gateway_forward_auth_untrusted_total",
                    "Forward-auth requests refused because they did not come from a trusted proxy."
                )
            case .upstreamEjected:
                return (
                    "gateway_upstream_ejections_total",
                    "Upstream addresses ejected after consecutive connect failures or timeouts (per worker)."
                )
            case .upstreamResolved:
                return (
                    "gateway_upstream_resolution_changes_total",
                    "Background re-resolutions that found new addresses for an upstream host name."
                )
            case .upstreamResolveFailed:
                return (
                    "gateway_upstream_resolution_failures_total",
                    "Background re-resolutions that failed (the last good addresses stay in use)."
                )
            case .healthCheckFailed:
                return (
                    "gateway_upstream_health_check_failures_total",
                    "Active health checks that got no 2xx/3xx answer in time."
                )
            }
        }
    }

    private let counts = Mutex([Int](repeating: 0, count: Event.allCases.count))

    func count(_ e: Event, by n: Int = 1) {
        counts.withLock { $0[e.rawValue] &+= n }
    }

    func value(_ e: Event) -> Int { counts.withLock { $0[e.rawValue] } }

    /// For `Metrics.render(counters:)`.
    var samples: [Metrics.Sample] {
        Event.allCases.map { ($0.sample.name, $0.sample.help, value($0)) }
    }
}
