import EventLoop
import Synchronization

/// Caps open client connections, in total and per client address, across all workers.
/// Touched once per accept and once per close, never per request.
final class ConnectionLimiter: Sendable {
    private let total = Atomic<Int>(0)
    private let perAddress = Mutex<[SocketAddress.HostKey: Int]>([:])
    let maxTotal: Int
    let maxPerAddress: Int

    init(maxTotal: Int, maxPerAddress: Int) {
        self.maxTotal = maxTotal
        self.maxPerAddress = maxPerAddress
    }

    var open: Int { total.load(ordering: .relaxed) }

    /// Takes a slot for a new connection from `peer`, or refuses it.
    func admit(_ peer: SocketAddress?) -> Bool {
        let n = total.wrappingAdd(1, ordering: .relaxed).newValue
        if n > maxTotal {
            total.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        guard let key = peer?.hostKey else { return true }
        let ok = perAddress.withLock { map -> Bool in
            let c = map[key, default: 0]
            if c >= maxPerAddress { return false }
            map[key] = c + 1
            return true
        }
        if !ok { total.wrappingSubtract(1, ordering: .relaxed) }
        return ok
    }

    func release(_ peer: SocketAddress?) {
        total.wrappingSubtract(1, ordering: .relaxed)
        guard let key = peer?.hostKey else { return }
        perAddress.withLock { map in
            let c = map[key, default: 1] - 1
            if c <= 0 { map[key] = nil } else { map[key] = c }
        }
    }
}
