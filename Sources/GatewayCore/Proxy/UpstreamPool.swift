import EventLoop

/// Idle keep-alive connections to upstreams, per worker (no locks: one loop owns it).
/// Most recently used first, so that rarely needed connections age out.
///
/// A worker talks to a handful of upstreams: a list scanned for the target's serial and
/// address (all else is fixed per serial, see `UpstreamURL.serial`) is cheaper per request
/// than hashing the target's strings into a dictionary, as a `Dictionary<UpstreamURL, …>`
/// did on every take and give. A reload parses new URLs: their connections pool apart and
/// the old ones age out.
final class UpstreamPool {
    private struct Bucket {
        let serial: UInt64
        let address: SocketAddress
        var idle: [UpstreamConnection] = []
    }

    private var buckets: [Bucket] = []
    private let maxPerUpstream: Int
    private let idleTimeout: Int64

    init(maxPerUpstream: Int, idleTimeout: Int64) {
        self.maxPerUpstream = maxPerUpstream
        self.idleTimeout = idleTimeout
    }

    private func index(of target: UpstreamURL) -> Int? {
        var i = 0
        while i < buckets.count {
            if buckets[i].serial == target.serial && buckets[i].address == target.address { return i }
            i += 1
        }
        return nil
    }

    /// An idle connection to `target`, if one is pooled and holds nothing unread. A
    /// connection with bytes waiting (or closed by the upstream) is closed here: those bytes
    /// belong to no request, and the next one would read them as its answer. Bytes that
    /// arrive after this look and before the request is written remain a window no proxy
    /// can close (`UpstreamReuse`).
    func take(_ target: UpstreamURL) -> UpstreamConnection? {
        guard let i = index(of: target) else { return nil }
        // Popped in place: copying the list out would copy its storage.
        while let c = buckets[i].idle.popLast() {
            if UpstreamReuse.mayHandOff(c.pendingInput()) { return c }
            c.close()
        }
        return nil
    }

    /// Keeps a connection that finished an exchange cleanly, or closes it if the pool is full.
    func give(_ c: UpstreamConnection, now: Int64) {
        c.owner = nil
        c.reused = true
        c.releaseBuffers()
        let i: Int
        if let found = index(of: c.target) {
            i = found
        } else {
            buckets.append(Bucket(serial: c.target.serial, address: c.target.address))
            i = buckets.count - 1
        }
        guard buckets[i].idle.count < maxPerUpstream else {
            c.close()
            return
        }
        c.idleDeadline = now + idleTimeout
        buckets[i].idle.append(c)
    }

    func remove(_ c: UpstreamConnection) {
        guard let b = index(of: c.target),
            let i = buckets[b].idle.firstIndex(where: { $0 === c })
        else { return }
        buckets[b].idle.remove(at: i)
    }

    /// Closes connections idle for longer than the idle timeout, and forgets upstreams
    /// with none left (re-resolved addresses come and go).
    func sweep(now: Int64) {
        for b in buckets.indices {
            let list = buckets[b].idle
            guard list.contains(where: { $0.idleDeadline <= now }) else { continue }
            for c in list where c.idleDeadline <= now { c.close() }
            buckets[b].idle = list.filter { $0.idleDeadline > now }
        }
        buckets.removeAll { $0.idle.isEmpty }
    }

    func closeAll() {
        for b in buckets { for c in b.idle { c.close() } }
        buckets.removeAll()
    }

    var idleCount: Int { buckets.reduce(0) { $0 + $1.idle.count } }
}
