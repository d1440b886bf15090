import Synchronization

/// Counters of the load-balancer features: rare events (a refused PROXY header, an
/// ejection, a re-resolution), never per request, so one shared lock is cheap enough.
final class EdgeCounters: Sendable {
    enum Event: Int, CaseIterable {
        case proxyHeaderRejected
        case forwardAuthUntrusted

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
