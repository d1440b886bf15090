/// The decisions of the contract (see `TokenStore`): each operation returns the changes it
/// made (already applied) and the answer to give once they are durable.
extension TokenState {
    /// A family is live while its refresh token has not expired; revoked or not.
    private func isLive(_ f: Family, at t: Int64) -> Bool { t < f.expiresAt }

    mutating func createFamily(_ new: NewFamily) -> Step<Void> {
        if let reason = StoreLimits.check(new) { return .answer(.failure(.unavailable(reason: reason))) }
        let t = advance(to: new.now)
        // An expired family still held (not yet swept) does not conflict: it is replaced,
        // so the answer never depends on when the sweeper last ran.
        if let f = families[new.sid], isLive(f, at: t) { return .answer(.failure(.conflict)) }
        if let f = family(lookupKey: new.lookupKey), isLive(f, at: t) { return .answer(.failure(.conflict)) }
        var recorded = new
        recorded.now = t
        return commit([.familyCreated(recorded)], .success(()))
    }

    mutating func rotate(_ r: RotationRequest) -> Step<RotationOutcome> {
        if let reason = StoreLimits.check(r) { return .answer(.failure(.unavailable(reason: reason))) }
        let t = advance(to: r.now)
        guard let f = family(lookupKey: r.lookupKey) else { return .answer(.success(.rejected(.unknown))) }
        if f.isRevoked { return .answer(.success(.rejected(.revoked))) }
        if !isLive(f, at: t) { return .answer(.success(.rejected(.expired))) }
        if let bound = r.boundAccess, bound.subject != f.subject {
            return .answer(.success(.rejected(.foreignSubject)))
        }
        if r.requireBinding, r.boundAccess == nil { return .answer(.success(.rejected(.bindingMissing))) }

        if r.presentedHash == f.currentHash {
            if let bound = r.boundAccess, bound.jti != f.currentJti {
                return revoke(f.sid, at: t, ttl: r.revocationTTL) { .bindingMismatch($0) }
            }
            let rotated = StateChange.rotated(
                sid: f.sid,
                refreshHash: r.newRefreshHash,
                accessJti: r.newAccessJti,
                graceBlob: r.grace > 0 ? r.graceBlob : [],  // never replayed without grace
                at: t,
                expiresAt: saturatingAdd(t, r.refreshTTL)
            )
            apply(rotated)
            return Step(changes: [rotated], result: .success(.rotated(families[f.sid]!.snapshot)))
        }
        if let p = f.previous, p.hash == r.presentedHash, r.grace > 0, t - p.rotatedAt < r.grace {
            if let bound = r.boundAccess, bound.jti != p.jti {
                return revoke(f.sid, at: t, ttl: r.revocationTTL) { .bindingMismatch($0) }
            }
            return .answer(.success(.graceReplay(f.snapshot, graceBlob: p.graceBlob, accessJti: f.currentJti)))
        }
        // A token really issued and already used (the previous one after the grace period,
        // or an older one still remembered): stolen and replayed.
        if f.wasUsed(r.presentedHash) {
            return revoke(f.sid, at: t, ttl: r.revocationTTL) { .reuseDetected($0) }
        }
        // A secret never issued under this lookup id (made up, or older than what is
        // remembered): not valid, and no proof of theft, so the session is left alone.
        return .answer(.success(.rejected(.unknown)))
    }

    mutating func revokeFamily(sid: String, revocationTTL: Int64, now: Int64) -> Step<Revocation?> {
        let t = advance(to: now)
        guard let f = families[sid], isLive(f, at: t) else { return .answer(.success(nil)) }
        return revokeOrReport(f, at: t, ttl: revocationTTL)
    }

    /// Matches the current token, or the previous one at any age (a logout with the token
    /// just rotated away from must still log out).
    mutating func revokeFamily(
        lookupKey: Digest32,
        presentedHash: Digest32,
        revocationTTL: Int64,
        now: Int64
    )
        -> Step<Revocation?>
    {
        let t = advance(to: now)
        guard let f = family(lookupKey: lookupKey), isLive(f, at: t),
            f.currentHash == presentedHash || f.previous?.hash == presentedHash
        else { return .answer(.success(nil)) }
        return revokeOrReport(f, at: t, ttl: revocationTTL)
    }

    /// Revokes every live, not yet revoked family of `subject`; answers the new revocations.
    mutating func revokeSubject(_ subject: String, revocationTTL: Int64, now: Int64) -> Step<[Revocation]> {
        let t = advance(to: now)
        let until = saturatingAdd(t, revocationTTL)
        var changes: [StateChange] = []
        var revoked: [Revocation] = []
        for sid in sidsBySubject[subject] ?? [] {
            guard let f = families[sid], isLive(f, at: t), !f.isRevoked else { continue }
            changes.append(.familyRevoked(sid: sid, at: t, until: until))
            revoked.append(Revocation(target: .family(sid: sid), expiresAt: until))
        }
        return commit(changes, .success(revoked))
    }

    /// Records a single access-token revocation; an existing later expiry is kept. Nothing is
    /// recorded for a token that has expired already.
    mutating func revokeToken(jti: String, expiresAt: Int64, now: Int64) -> Step<Revocation> {
        if let reason = StoreLimits.check(identifier: jti, "jti") {
            return .answer(.failure(.unavailable(reason: reason)))
        }
        let t = advance(to: now)
        let target = Revocation.Target.token(jti: jti)
        let until = max(expiresAt, revocations[target] ?? .min)
        guard until > t, until != revocations[target] else {
            return .answer(.success(Revocation(target: target, expiresAt: until)))
        }
        return commit(
            [.tokenRevoked(jti: jti, at: t, until: until)],
            .success(Revocation(target: target, expiresAt: until))
        )
    }

    /// Every revocation in force at `now` (a read: it does not move the store clock).
    func activeRevocations(now: Int64) -> [Revocation] {
        let t = max(now, clock)
        return revocations.compactMap { $0.value > t ? Revocation(target: $0.key, expiresAt: $0.value) : nil }
    }

    // MARK: - helpers

    private mutating func commit<O>(_ changes: [StateChange], _ result: Result<O, TokenStoreError>) -> Step<O> {
        for c in changes { apply(c) }
        return Step(changes: changes, result: result)
    }

    private mutating func revoke(
        _ sid: String,
        at t: Int64,
        ttl: Int64,
        _ outcome: (Revocation) -> RotationOutcome
    )
        -> Step<RotationOutcome>
    {
        let until = saturatingAdd(t, ttl)
        return commit(
            [.familyRevoked(sid: sid, at: t, until: until)],
            .success(outcome(Revocation(target: .family(sid: sid), expiresAt: until)))
        )
    }

    /// Revokes a live family, or reports its revocation if one is still in force (idempotent
    /// logout); nil for a revoked family whose revocation has lapsed.
    private mutating func revokeOrReport(_ f: Family, at t: Int64, ttl: Int64) -> Step<Revocation?> {
        if f.isRevoked {
            let r =
                f.revocationExpiresAt > t
                ? Revocation(target: .family(sid: f.sid), expiresAt: f.revocationExpiresAt) : nil
            return .answer(.success(r))
        }
        let until = saturatingAdd(t, ttl)
        return commit(
            [.familyRevoked(sid: f.sid, at: t, until: until)],
            .success(Revocation(target: .family(sid: f.sid), expiresAt: until))
        )
    }
}
