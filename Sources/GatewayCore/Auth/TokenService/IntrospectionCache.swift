import JOSE
import Synchronization
import TokenStore

/// Introspection answers of valid tokens, keyed by SHA-256 of the token (the token itself is
/// never kept). Bounded: at most `capacity` entries, the oldest insert evicted first; an
/// entry also dies at its token's expiry. Revocation is checked on every answer, never
/// cached. Shared by every worker: introspection is not the proxy path, and one mutex held
/// for a dictionary lookup is cheaper than a signature check on each worker.
final class IntrospectionCache: Sendable {
    struct Entry: Sendable {
        /// `{"active":true,...}`.
        var body: [UInt8]
        /// Unix ms after which the token is no longer accepted (exp + leeway).
        var validUntil: Int64
        var sid: String?
        var jti: String?
    }

    private struct State {
        var entries: [Digest32: Entry] = [:]
        var order: [Digest32] = []
        var next = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = capacity }

    static func key(_ token: [UInt8]) -> Digest32 { Digest32(bytes: SHA256.hash(token))! }

    var count: Int { state.withLock { $0.entries.count } }

    func entry(_ key: Digest32, now: Int64) -> Entry? {
        state.withLock { s in
            guard let e = s.entries[key] else { return nil }
            if e.validUntil <= now {
                s.entries[key] = nil
                return nil
            }
            return e
        }
    }

    func insert(_ key: Digest32, _ entry: Entry) {
        guard capacity > 0 else { return }
        state.withLock { s in
            if s.entries.updateValue(entry, forKey: key) != nil { return }
            if s.order.count < capacity {
                s.order.append(key)
            } else {
                // A ring of insertion order: the slot's old key is the oldest.
                s.entries[s.order[s.next]] = nil
                s.order[s.next] = key
                s.next = (s.next + 1) % capacity
            }
        }
    }
}
