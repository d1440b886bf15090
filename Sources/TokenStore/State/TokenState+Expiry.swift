/// Forgetting what has expired, a bounded amount at a time, and views of the live state.
extension TokenState {
    /// Drops families whose refresh token expired and revocations that lapsed, at the store
    /// clock, doing at most `budget` heap steps. Returns the steps done (less than `budget`
    /// when nothing more is due). Not journaled: what it drops is already dead to every
    /// decision (see `advance(to:)`), and replay or compaction drops it again.
    @discardableResult
    mutating func sweep(budget: Int) -> Int {
        var work = 0
        let now = clock
        while work < budget, let (_, sid) = familyExpiries.popExpired(now: now) {
            work += 1
            guard let f = families[sid] else { continue }  // stale entry of a replaced family
            if f.expiresAt > now {
                familyExpiries.push(f.expiresAt, sid)  // rotated since it was queued
            } else {
                remove(sid: sid)
            }
        }
        while work < budget, let (_, target) = revocationExpiries.popExpired(now: now) {
            work += 1
            guard let until = revocations[target] else { continue }
            if until > now {
                revocationExpiries.push(until, target)  // extended since it was queued
            } else {
                removeRevocation(target)
            }
        }
        return work
    }

    /// Families still live at `now` (revoked or not): what a snapshot keeps.
    func liveFamilies(at now: Int64) -> [Family] {
        families.values.filter { $0.expiresAt > now }
    }

    /// Revocations still in force at `now`.
    func liveRevocations(at now: Int64) -> [(target: Revocation.Target, until: Int64)] {
        revocations.compactMap { $0.value > now ? ($0.key, $0.value) : nil }
    }

    /// The live content at `now`, for comparing two states (tests, recovery checks).
    func image(at now: Int64) -> StateImage {
        StateImage(
            families: Dictionary(uniqueKeysWithValues: liveFamilies(at: now).map { ($0.sid, $0) }),
            revocations: Dictionary(uniqueKeysWithValues: liveRevocations(at: now).map { ($0.target, $0.until) })
        )
    }
}

/// The live content of a `TokenState`, comparable.
struct StateImage: Equatable, Sendable {
    var families: [String: Family]
    var revocations: [Revocation.Target: Int64]
}
