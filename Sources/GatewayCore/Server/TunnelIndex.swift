/// The WebSocket tunnels one worker carries that a token opened, so that each ends with the
/// authority that opened it: when the token's session (`sid`) or the token (`jti`) is
/// revoked, and when the token expires. Owned by one loop, so no lock; generic over the
/// owner only so that it can be tested without connections.
struct TunnelIndex<Owner: AnyObject> {
    struct Entry {
        let owner: Owner
        let sid: String?
        let jti: String?
        /// Unix ms after which the tunnel is closed, or nil for never.
        let closesAt: Int64?
    }

    private var entries: [ObjectIdentifier: Entry] = [:]
    /// The earliest `closesAt` among entries (a lower bound once entries leave), so the
    /// timer costs nothing until a tunnel is due.
    private var nextClose = Int64.max

    var count: Int { entries.count }

    mutating func add(_ owner: Owner, sid: String?, jti: String?, closesAt: Int64?) {
        entries[ObjectIdentifier(owner)] = Entry(owner: owner, sid: sid, jti: jti, closesAt: closesAt)
        if let closesAt { nextClose = min(nextClose, closesAt) }
    }

    mutating func remove(_ owner: Owner) {
        guard !entries.isEmpty else { return }
        entries.removeValue(forKey: ObjectIdentifier(owner))
    }

    /// The tunnels whose session or token `revocations` covers at `now` (Unix ms).
    func revoked(by revocations: RevocationList, now: Int64) -> [Owner] {
        guard !entries.isEmpty, revocations.count > 0 else { return [] }
        return entries.values.filter { revocations.isRevoked(sid: $0.sid, jti: $0.jti, now: now) }.map(\.owner)
    }

    /// The tunnels due to close at `now` (Unix ms). They stay listed until removed.
    mutating func expired(now: Int64) -> [Owner] {
        guard now >= nextClose else { return [] }
        var due: [Owner] = []
        var next = Int64.max
        for e in entries.values {
            guard let at = e.closesAt else { continue }
            if at <= now { due.append(e.owner) } else { next = min(next, at) }
        }
        nextClose = next
        return due
    }
}
