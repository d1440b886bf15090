/// The token store as a pure, synchronous state machine: families indexed by sid, lookup
/// key and subject, and revocations with their expiries.
///
/// Operations (`TokenState+Operations.swift`) decide from the request alone, including its
/// `now`, and return the `StateChange`s they made; `apply(_:)` is the only mutator, so the
/// journal replays exactly what was decided. Store time never goes backwards: decisions use
/// `max(request.now, clock)`, which keeps them consistent with an expiry sweep or a
/// snapshot already taken at `clock`.
struct TokenState: Sendable {
    private(set) var families: [String: Family] = [:]
    private(set) var sidByLookup: [Digest32: String] = [:]
    private(set) var sidsBySubject: [String: Set<String>] = [:]
    /// Revocations in force (or not yet swept), with their expiry.
    private(set) var revocations: [Revocation.Target: Int64] = [:]
    /// High-water mark of the times of all operations seen: the store's own clock.
    private(set) var clock: Int64 = .min

    var familyExpiries = ExpiryHeap<String>()
    var revocationExpiries = ExpiryHeap<Revocation.Target>()

    init() {}

    /// Advances the store clock to `now` if it is later, and returns the time to decide with.
    mutating func advance(to now: Int64) -> Int64 {
        if now > clock { clock = now }
        return clock
    }

    /// Applies one decided change. Tolerant of a missing family (dropped as expired by a
    /// snapshot), so that replay never fails on a change it can no longer see.
    mutating func apply(_ change: StateChange) {
        _ = advance(to: change.at)
        switch change {
        case .familyCreated(let new):
            insert(
                Family(
                    sid: new.sid,
                    subject: new.subject,
                    claims: new.claims,
                    lookupKey: new.lookupKey,
                    currentHash: new.refreshHash,
                    currentJti: new.accessJti,
                    previous: nil,
                    generation: 0,
                    expiresAt: new.expiresAt,
                    revokedAt: nil,
                    revocationExpiresAt: 0
                )
            )
        case let .rotated(sid, refreshHash, accessJti, graceBlob, at, expiresAt):
            guard var f = families[sid] else { return }
            if let p = f.previous {
                f.olderHashes.insert(p.hash, at: 0)
                if f.olderHashes.count > Family.maxOlderHashes { f.olderHashes.removeLast() }
            }
            f.previous = PreviousToken(hash: f.currentHash, jti: f.currentJti, rotatedAt: at, graceBlob: graceBlob)
            f.currentHash = refreshHash
            f.currentJti = accessJti
            f.generation &+= 1
            f.expiresAt = expiresAt
            families[sid] = f
        case let .familyRevoked(sid, at, until):
            if var f = families[sid] {
                f.revokedAt = f.revokedAt ?? at
                f.revocationExpiresAt = max(f.revocationExpiresAt, until)
                f.previous?.graceBlob = []  // never replayed again: free it
                families[sid] = f
            }
            recordRevocation(.family(sid: sid), until: until)
        case let .tokenRevoked(jti, _, until):
            recordRevocation(.token(jti: jti), until: until)
        }
    }

    /// Puts a whole family back (snapshot load), replacing any family with its sid or lookup key.
    mutating func insert(_ family: Family) {
        let isNew = families[family.sid] == nil
        if let old = families[family.sid] { unindex(old) }
        if let other = sidByLookup[family.lookupKey], other != family.sid, let old = families[other] {
            unindex(old)
            families[other] = nil
        }
        families[family.sid] = family
        sidByLookup[family.lookupKey] = family.sid
        sidsBySubject[family.subject, default: []].insert(family.sid)
        // One heap entry per held sid: a replaced family keeps the entry it had, which the
        // sweeper re-queues at the new expiry.
        if isNew { familyExpiries.push(family.expiresAt, family.sid) }
    }

    /// Records a revocation (snapshot load, or a change); a later expiry wins.
    mutating func recordRevocation(_ target: Revocation.Target, until: Int64) {
        if let existing = revocations[target] {
            revocations[target] = max(existing, until)
        } else {
            revocations[target] = until
            revocationExpiries.push(until, target)
        }
    }

    /// Forgets a family (expired, or replaced) and its index entries.
    mutating func remove(sid: String) {
        guard let f = families.removeValue(forKey: sid) else { return }
        unindex(f)
    }

    private mutating func unindex(_ f: Family) {
        if sidByLookup[f.lookupKey] == f.sid { sidByLookup[f.lookupKey] = nil }
        if var sids = sidsBySubject[f.subject] {
            sids.remove(f.sid)
            sidsBySubject[f.subject] = sids.isEmpty ? nil : sids
        }
    }

    mutating func removeRevocation(_ target: Revocation.Target) {
        revocations[target] = nil
    }

    /// The family holding `lookupKey`, if any (expired or not).
    func family(lookupKey: Digest32) -> Family? {
        sidByLookup[lookupKey].flatMap { families[$0] }
    }
}
