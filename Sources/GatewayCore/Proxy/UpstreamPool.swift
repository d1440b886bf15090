import EventLoop

/// Idle keep-alive connections to upstreams, per worker (no locks: one loop owns it).
/// Most recently used first, so that rarely needed connections age out.
final class UpstreamPool {
    private var idle: [UpstreamURL: [UpstreamConnection]] = [:]
    private let maxPerUpstream: Int
    private let idleTimeout: Int64

    init(maxPerUpstream: Int, idleTimeout: Int64) {
        self.maxPerUpstream = maxPerUpstream
        self.idleTimeout = idleTimeout
    }

    /// An idle connection to `target`, if one is pooled and holds nothing unread. A
    /// connection with bytes waiting (or closed by the upstream) is closed here: those bytes
    /// belong to no request, and the next one would read them as its answer. Bytes that
    /// arrive after this look and before the request is written remain a window no proxy
    /// can close (`UpstreamReuse`).
    func take(_ target: UpstreamURL) -> UpstreamConnection? {
        // Mutated in place through the subscript: copying the list out would copy its storage.
        while let c = idle[target]?.popLast() {
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
        guard idle[c.target, default: []].count < maxPerUpstream else {
            c.close()
            return
        }
        c.idleDeadline = now + idleTimeout
        idle[c.target, default: []].append(c)
    }

    func remove(_ c: UpstreamConnection) {
        guard let i = idle[c.target]?.firstIndex(where: { $0 === c }) else { return }
        idle[c.target]?.remove(at: i)
    }

    /// Closes connections idle for longer than the idle timeout.
    func sweep(now: Int64) {
        for (target, list) in idle {
            let keep = list.filter { $0.idleDeadline > now }
            if keep.count != list.count {
                for c in list where c.idleDeadline <= now { c.close() }
                idle[target] = keep
            }
        }
    }

    func closeAll() {
        for (_, list) in idle { for c in list { c.close() } }
        idle.removeAll()
    }

    var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }
}
