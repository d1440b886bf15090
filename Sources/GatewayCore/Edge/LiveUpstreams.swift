import EventLoop

/// One worker's view of its upstreams' addresses (loop-confined, no locks): what the
/// background resolver last found for each host name, and each address's health. With no
/// re-resolved name and no unhealthy address, choosing costs one emptiness check.
final class LiveUpstreams {
    struct HostPort: Hashable, Sendable {
        var host: String
        var port: UInt16
    }

    private var resolved: [HostPort: [SocketAddress]] = [:]
    private var rotation: [HostPort: Int] = [:]
    private var health: [SocketAddress: AddressHealth] = [:]

    /// Addresses now ejected or failing active checks (for the gauge), as of the last event.
    var unhealthyCount: Int { health.values.count(where: { !$0.available(now: EventLoop.monotonicMillis()) }) }

    /// The address `url` should be connected to now: the resolver's latest list in rotation,
    /// skipping unhealthy addresses; nil when every address of it is unhealthy.
    func pick(_ url: UpstreamURL, now: Int64) -> UpstreamURL? {
        if resolved.isEmpty && health.isEmpty { return url }
        let key = HostPort(host: url.host, port: url.port)
        guard let list = resolved[key], !list.isEmpty else {
            return isAvailable(url.address, now: now) ? url : nil
        }
        let start = rotation[key, default: 0]
        rotation[key] = start &+ 1
        for k in 0..<list.count {
            let a = list[(start &+ k) % list.count]
            if isAvailable(a, now: now) {
                var u = url
                u.address = a
                return u
            }
        }
        return nil
    }

    /// Round-robin over a route's upstreams from `start`, skipping those with no healthy
    /// address; when none is healthy, the one in turn (trying beats refusing outright).
    func choose(_ ups: [UpstreamURL], start: Int, now: Int64) -> UpstreamURL {
        for k in 0..<ups.count {
            if let u = pick(ups[(start &+ k) % ups.count], now: now) { return u }
        }
        var u = ups[start % ups.count]
        let key = HostPort(host: u.host, port: u.port)
        if let list = resolved[key], let first = list.first { u.address = first }
        return u
    }

    private func isAvailable(_ a: SocketAddress, now: Int64) -> Bool {
        guard let h = health[a] else { return true }
        return h.available(now: now)
    }

    /// Applies an event about the address `target` was connected to.
    func report(_ target: UpstreamURL, _ event: AddressHealth.Event, now: Int64, settings: UpstreamHealthSettings)
        -> AddressHealth.Action
    {
        if event == .responded && health.isEmpty { return .none }
        var h = health[target.address] ?? AddressHealth()
        let action = h.handle(event, now: now, ejectAfter: settings.ejectAfter, ejectFor: settings.ejectFor)
        if h.isPristine { health[target.address] = nil } else { health[target.address] = h }
        return action
    }

    /// The resolver's new addresses for `key` (an empty list is ignored: a failed lookup
    /// keeps the last good answer).
    func update(_ key: HostPort, _ addresses: [SocketAddress]) {
        guard !addresses.isEmpty else { return }
        resolved[key] = addresses
    }

    /// Every address `url` may be connected to (for active checks).
    func addresses(of url: UpstreamURL) -> [SocketAddress] {
        resolved[HostPort(host: url.host, port: url.port)] ?? [url.address]
    }
}
