import Dispatch
import Synchronization
import Testing

@testable import TokenStore

/// The semantics of `TokenStore`, run unchanged against every backend.
@Suite("TokenStore contract")
struct TokenStoreContract {
    @Test(arguments: StoreFactory.all)
    func loginThenRotate(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let fam = TestFamily()
            try await store.create(fam.newFamily(now: t0)).get()
            let r = fam.rotation(now: t0 + minute)
            let outcome = try await store.rotateNow(r)
            #expect(
                outcome
                    == .rotated(
                        FamilySnapshot(
                            sid: fam.sid,
                            subject: "alice",
                            claims: fam.claims,
                            refreshExpiresAt: t0 + minute + refreshTTL
                        )
                    )
            )
            // The new token rotates in turn.
            let next = fam.rotated(by: r)
            guard case .rotated = try await store.rotateNow(next.rotation(now: t0 + 2 * minute)) else {
                Issue.record("second rotation refused")
                return
            }
        }
    }

    @Test(arguments: StoreFactory.all)
    func createConflicts(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let fam = TestFamily()
            try await store.create(fam.newFamily(now: t0)).get()
            var sameSid = TestFamily(sid: fam.sid)
            #expect(await store.create(sameSid.newFamily(now: t0)).failure == .conflict)
            sameSid = TestFamily()
            sameSid.lookupKey = fam.lookupKey
            #expect(await store.create(sameSid.newFamily(now: t0)).failure == .conflict)
        }
    }

    @Test(arguments: StoreFactory.all)
    func unknownLookupKey(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let outcome = try await store.rotateNow(TestFamily().rotation(now: t0))
            #expect(outcome == .rejected(.unknown))
        }
    }

    @Test(arguments: StoreFactory.all)
    func reuseOfOldTokenRevokesFamily(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let fam = TestFamily()
            try await store.create(fam.newFamily(now: t0)).get()
            let r1 = fam.rotation(now: t0)
            let gen1 = fam.rotated(by: r1)
            _ = try await store.rotateNow(r1)
            let r2 = gen1.rotation(now: t0 + minute)
            let gen2 = gen1.rotated(by: r2)
            _ = try await store.rotateNow(r2)
            // The login token (two generations old) comes back: theft.
            let reuse = try await store.rotateNow(fam.rotation(now: t0 + 2 * minute))
            let revocation = Revocation(target: .family(sid: fam.sid), expiresAt: t0 + 2 * minute + revocationTTL)
            #expect(reuse == .reuseDetected(revocation))
            // Every token of the family is dead now, the current one included.
            #expect(try await store.rotateNow(gen2.rotation(now: t0 + 3 * minute)) == .rejected(.revoked))
            #expect(try await store.revocations(now: t0 + 3 * minute) == [revocation])
        }
    }

    /// A secret never issued under a known lookup id is not proof of theft: it is unknown,
    /// and the family (whose lookup id is not a secret a thief needs) is left alone.
    @Test(arguments: StoreFactory.all)
    func madeUpSecretIsUnknownAndRevokesNothing(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let fam = TestFamily()
            try await store.create(fam.newFamily(now: t0)).get()
            #expect(try await store.rotateNow(fam.rotation(presenting: randomDigest(), now: t0)) == .rejected(.unknown))
            let r1 = fam.rotation(now: t0 + minute)
            guard case .rotated = try await store.rotateNow(r1) else {
                Issue.record("the real token no longer rotates")
                return
            }
            let gen1 = fam.rotated(by: r1)
            // With a previous token on record, after the grace period, and with a binding.
            for (now, bound) in [(t0 + minute + 1, nil), (t0 + 5 * minute, gen1.bound)] {
                let forged = gen1.rotation(presenting: randomDigest(), bound: bound, now: now)
                #expect(try await store.rotateNow(forged) == .rejected(.unknown))
            }
            #expect(try await store.revocations(now: t0 + 5 * minute).isEmpty)
            guard case .rotated = try await store.rotateNow(gen1.rotation(now: t0 + 6 * minute)) else {
                Issue.record("the real token was revoked by a made-up one")
                return
            }
        }
    }

    /// Reuse is detected for each of the last 8 tokens a family rotated away from (the
    /// previous one and `Family.maxOlderHashes` older ones); an older one is only unknown.
    @Test(arguments: StoreFactory.all, [1, 2, 5, 8, 9])
    func reuseOfAnyRememberedGenerationRevokes(_ factory: StoreFactory, age: Int) async throws {
        try await factory.with { store in
            var gen = TestFamily()
            try await store.create(gen.newFamily(now: t0)).get()
            var used: [TestFamily] = []
            for k in 0..<age {
                let r = gen.rotation(now: t0 + Int64(k) * minute)
                guard case .rotated = try await store.rotateNow(r) else {
                    Issue.record("rotation \(k) refused")
                    return
                }
                used.append(gen)
                gen = gen.rotated(by: r)
            }
            let now = t0 + Int64(age + 1) * minute
            let outcome = try await store.rotateNow(used[0].rotation(now: now))
            if age <= 1 + Family.maxOlderHashes {
                #expect(
                    outcome == .reuseDetected(Revocation(target: .family(sid: gen.sid), expiresAt: now + revocationTTL))
                )
                #expect(try await store.rotateNow(gen.rotation(now: now + 1)) == .rejected(.revoked))
            } else {
                #expect(outcome == .rejected(.unknown))
                #expect(try await store.revocations(now: now).isEmpty)
            }
        }
    }

    @Test(arguments: StoreFactory.all)
    func graceReplayWithoutBinding(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let fam = TestFamily()
            try await store.create(fam.newFamily(now: t0)).get()
            let r1 = fam.rotation(now: t0 + minute)
            _ = try await store.rotateNow(r1)
            let winner = fam.rotated(by: r1)
            // The second tab presents the same token 3 s later.
            let second = fam.rotation(now: t0 + minute + 3_000)
            let expected = RotationOutcome.graceReplay(
                FamilySnapshot(
                    sid: fam.sid,
                    subject: "alice",
                    claims: fam.claims,
                    refreshExpiresAt: t0 + minute + refreshTTL
                ),
                graceBlob: r1.graceBlob,
                accessJti: winner.jti
            )
            #expect(try await store.rotateNow(second) == expected)
            // No second branch: the second tab's own new hash was not recorded; the winner's
            // token is still current, and a third presentation replays again.
            #expect(try await store.rotateNow(second.withNow(t0 + minute + 5_000)) == expected)
            // The second tab's hash was never issued: unknown, not reuse (nothing is revoked).
            #expect(
                try await store.rotateNow(fam.rotated(by: second).rotation(now: t0 + minute + 6_000))
                    == .rejected(.unknown))
            #expect(try await store.revocations(now: t0 + minute + 6_000).isEmpty)
        }
    }

    @Test(arguments: StoreFactory.all)
    func graceReplayWithBinding(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let fam = TestFamily()
            try await store.create(fam.newFamily(now: t0)).get()
            let r1 = fam.rotation(bound: fam.bound, now: t0)
            _ = try await store.rotateNow(r1)
            let winner = fam.rotated(by: r1)
            // Same binding as the first presentation: replay.
            guard
                case .graceReplay(_, _, let jti) = try await store.rotateNow(
                    fam.rotation(bound: fam.bound, now: t0 + 1_000)
                )
            else { Issue.record("expected a grace replay"); return }
            #expect(jti == winner.jti)
            // Another access token of the same user with the old refresh token: theft.
            let other = BoundAccessToken(subject: "alice", jti: "jti-other")
            let outcome = try await store.rotateNow(fam.rotation(bound: other, now: t0 + 2_000))
            #expect(
                outcome
                    == .bindingMismatch(
                        Revocation(target: .family(sid: fam.sid), expiresAt: t0 + 2_000 + revocationTTL)
                    )
            )
            #expect(try await store.rotateNow(winner.rotation(now: t0 + 3_000)) == .rejected(.revoked))
        }
    }

    @Test(arguments: StoreFactory.all)
    func graceZeroTurnsReplayIntoReuse(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let fam = TestFamily()
            try await store.create(fam.newFamily(now: t0)).get()
            _ = try await store.rotateNow(fam.rotation(now: t0, grace: 0))
            #expect(try await store.rotateNow(fam.rotation(now: t0 + 1, grace: 0)).isRevocation)
        }
    }

    @Test(arguments: StoreFactory.all)
    func previousTokenAfterGraceIsReuse(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let fam = TestFamily()
            try await store.create(fam.newFamily(now: t0)).get()
            _ = try await store.rotateNow(fam.rotation(now: t0, grace: 10_000))
            guard case .graceReplay = try await store.rotateNow(fam.rotation(now: t0 + 9_999, grace: 10_000)) else {
                Issue.record("expected a replay inside the grace period")
                return
            }
            #expect(try await store.rotateNow(fam.rotation(now: t0 + 10_000, grace: 10_000)).isRevocation)
        }
    }

    @Test(arguments: StoreFactory.all)
    func bindingOnCurrentToken(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let fam = TestFamily()
            try await store.create(fam.newFamily(now: t0)).get()
            // Issued-with access token: rotates.
            let r1 = fam.rotation(bound: fam.bound, now: t0)
            guard case .rotated = try await store.rotateNow(r1) else { Issue.record("bound rotation refused"); return }
            // Another access token of the same subject: theft, revoked.
            let gen1 = fam.rotated(by: r1)
            let stolen = BoundAccessToken(subject: "alice", jti: fam.jti)  // the old access token
            let outcome = try await store.rotateNow(gen1.rotation(bound: stolen, now: t0 + 60_000))
            #expect(
                outcome
                    == .bindingMismatch(
                        Revocation(target: .family(sid: fam.sid), expiresAt: t0 + 60_000 + revocationTTL)
                    )
            )
        }
    }

    @Test(arguments: StoreFactory.all)
    func foreignSubjectAndMissingBindingChangeNothing(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let fam = TestFamily()
            try await store.create(fam.newFamily(now: t0)).get()
            let foreign = BoundAccessToken(subject: "mallory", jti: fam.jti)
            #expect(try await store.rotateNow(fam.rotation(bound: foreign, now: t0)) == .rejected(.foreignSubject))
            #expect(
                try await store.rotateNow(fam.rotation(requireBinding: true, now: t0)) == .rejected(.bindingMissing)
            )
            #expect(try await store.revocations(now: t0).isEmpty)
            // Still the current token, still rotates.
            guard
                case .rotated = try await store.rotateNow(fam.rotation(bound: fam.bound, requireBinding: true, now: t0))
            else { Issue.record("family changed by a refused refresh"); return }
        }
    }

    @Test(arguments: StoreFactory.all)
    func refreshExpiry(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let fam = TestFamily()
            try await store.create(fam.newFamily(now: t0, ttl: 10 * minute)).get()
            let late = try await store.rotateNow(fam.rotation(now: t0 + 10 * minute))
            #expect(late == .rejected(.expired) || late == .rejected(.unknown))
            // Expired families are not live: logout finds nothing, the sid can log in again.
            #expect(try await store.revoke(sid: fam.sid, ttl: revocationTTL, now: t0 + 11 * minute) == nil)
            try await store.create(TestFamily(sid: fam.sid).newFamily(now: t0 + 12 * minute)).get()
        }
    }

    @Test(arguments: StoreFactory.all)
    func rotationExtendsExpiry(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            var fam = TestFamily()
            try await store.create(fam.newFamily(now: t0, ttl: 10 * minute)).get()
            let r = fam.rotation(now: t0 + 9 * minute)
            _ = try await store.rotateNow(r)
            fam = fam.rotated(by: r)
            guard case .rotated = try await store.rotateNow(fam.rotation(now: t0 + 20 * minute)) else {
                Issue.record("rotation did not extend the refresh expiry")
                return
            }
        }
    }

    @Test(arguments: StoreFactory.all)
    func revocationsLapseAfterTheirTTL(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let fam = TestFamily()
            try await store.create(fam.newFamily(now: t0)).get()
            let rev = try #require(try await store.revoke(sid: fam.sid, ttl: revocationTTL, now: t0))
            #expect(rev == Revocation(target: .family(sid: fam.sid), expiresAt: t0 + revocationTTL))
            #expect(try await store.revocations(now: t0 + revocationTTL - 1) == [rev])
            #expect(try await store.revocations(now: t0 + revocationTTL).isEmpty)
            // Forgotten as a revocation, but the family never comes back.
            let outcome = try await store.rotateNow(fam.rotation(now: t0 + revocationTTL + 1))
            #expect(outcome == .rejected(.revoked))
        }
    }

    @Test(arguments: StoreFactory.all)
    func revokeFamilyBySid(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let fam = TestFamily()
            try await store.create(fam.newFamily(now: t0)).get()
            let first = try await store.revoke(sid: fam.sid, ttl: revocationTTL, now: t0)
            #expect(first == Revocation(target: .family(sid: fam.sid), expiresAt: t0 + revocationTTL))
            // Idempotent: the revocation in force is reported, not extended.
            #expect(try await store.revoke(sid: fam.sid, ttl: revocationTTL, now: t0 + minute) == first)
            #expect(try await store.revoke(sid: "nobody", ttl: revocationTTL, now: t0) == nil)
            #expect(try await store.rotateNow(fam.rotation(now: t0 + minute)) == .rejected(.revoked))
        }
    }

    @Test(arguments: StoreFactory.all)
    func revokeFamilyByRefreshToken(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            // Current token.
            let a = TestFamily()
            try await store.create(a.newFamily(now: t0)).get()
            #expect(
                try await store.revoke(lookupKey: a.lookupKey, presented: randomDigest(), ttl: revocationTTL, now: t0)
                    == nil
            )
            let ra = try await store.revoke(lookupKey: a.lookupKey, presented: a.refresh, ttl: revocationTTL, now: t0)
            #expect(ra == Revocation(target: .family(sid: a.sid), expiresAt: t0 + revocationTTL))
            // The token just rotated away from, long after the grace period.
            let b = TestFamily()
            try await store.create(b.newFamily(now: t0)).get()
            _ = try await store.rotateNow(b.rotation(now: t0))
            let rb = try await store.revoke(
                lookupKey: b.lookupKey,
                presented: b.refresh,
                ttl: revocationTTL,
                now: t0 + 60 * minute
            )
            #expect(rb == Revocation(target: .family(sid: b.sid), expiresAt: t0 + 60 * minute + revocationTTL))
            #expect(
                try await store.revoke(lookupKey: randomDigest(), presented: b.refresh, ttl: revocationTTL, now: t0)
                    == nil
            )
        }
    }

    @Test(arguments: StoreFactory.all)
    func revokeSubjectRevokesEveryLiveFamily(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let phone = TestFamily(subject: "alice"), laptop = TestFamily(subject: "alice")
            let revoked = TestFamily(subject: "alice"), expired = TestFamily(subject: "alice")
            let bob = TestFamily(subject: "bob")
            for f in [phone, laptop, revoked, bob] { try await store.create(f.newFamily(now: t0)).get() }
            try await store.create(expired.newFamily(now: t0, ttl: minute)).get()
            _ = try await store.revoke(sid: revoked.sid, ttl: revocationTTL, now: t0)

            let now = t0 + 2 * minute
            let result = try await store.revokeAll(subject: "alice", ttl: revocationTTL, now: now)
            #expect(
                Set(result) == [
                    Revocation(target: .family(sid: phone.sid), expiresAt: now + revocationTTL),
                    Revocation(target: .family(sid: laptop.sid), expiresAt: now + revocationTTL),
                ]
            )
            #expect(try await store.rotateNow(phone.rotation(now: now)) == .rejected(.revoked))
            guard case .rotated = try await store.rotateNow(bob.rotation(now: now)) else {
                Issue.record("another subject's family was touched")
                return
            }
            #expect(try await store.revokeAll(subject: "carol", ttl: revocationTTL, now: now).isEmpty)
        }
    }

    @Test(arguments: StoreFactory.all)
    func revokeSingleToken(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let r = try await store.revoke(jti: "jti-1", until: t0 + 10 * minute, now: t0)
            #expect(r == Revocation(target: .token(jti: "jti-1"), expiresAt: t0 + 10 * minute))
            // An earlier expiry does not shorten it.
            #expect(try await store.revoke(jti: "jti-1", until: t0 + 5 * minute, now: t0) == r)
            #expect(try await store.revocations(now: t0 + 10 * minute - 1) == [r])
            #expect(try await store.revocations(now: t0 + 10 * minute).isEmpty)
        }
    }

    @Test(arguments: StoreFactory.all)
    func activeRevocationsListsFamiliesAndTokens(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            let fam = TestFamily()
            try await store.create(fam.newFamily(now: t0)).get()
            let a = try #require(try await store.revoke(sid: fam.sid, ttl: revocationTTL, now: t0))
            let b = try await store.revoke(jti: "jti-x", until: t0 + minute, now: t0)
            #expect(try await store.revocations(now: t0 + 1) == [a, b])
            #expect(try await store.revocations(now: t0 + minute) == [a])
        }
    }

    @Test(arguments: StoreFactory.all)
    func concurrentRotationsOfOneTokenHaveOneWinner(_ factory: StoreFactory) async throws {
        for grace: Int64 in [10_000, 0] {
            try await factory.with { store in
                let fam = TestFamily()
                try await store.create(fam.newFamily(now: t0)).get()
                let outcomes = await rotateConcurrently(store, count: 48) { _ in fam.rotation(now: t0 + 1, grace: grace)
                }
                let rotated = outcomes.filter { if case .success(.rotated) = $0 { return true } else { return false } }
                #expect(rotated.count == 1)
                if grace > 0 {
                    #expect(
                        outcomes.allSatisfy {
                            switch $0 {
                            case .success(.rotated), .success(.graceReplay): return true
                            default: return false
                            }
                        }
                    )
                } else {
                    #expect(
                        outcomes.allSatisfy {
                            switch $0 {
                            case .success(.rotated), .success(.reuseDetected), .success(.rejected(.revoked)):
                                return true
                            default: return false
                            }
                        }
                    )
                }
            }
        }
    }

    @Test(arguments: StoreFactory.all)
    func closedStoreRefuses(_ factory: StoreFactory) async throws {
        try await factory.with { store in
            store.close()
            #expect(await store.create(TestFamily().newFamily(now: t0)).failure == .closed)
        }
    }
}

/// Issues `count` rotations at once from many threads and collects every answer.
func rotateConcurrently(
    _ store: any TokenStore,
    count: Int,
    _ request: @escaping @Sendable (Int) -> RotationRequest
) async -> [Result<RotationOutcome, TokenStoreError>] {
    let results = Mutex<[Result<RotationOutcome, TokenStoreError>]>([])
    let group = DispatchGroup()
    for _ in 0..<count { group.enter() }
    DispatchQueue.concurrentPerform(iterations: count) { i in
        store.rotate(request(i)) { r in
            results.withLock { $0.append(r) }
            group.leave()
        }
    }
    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
        group.notify(queue: .global()) { c.resume() }
    }
    return results.withLock { $0 }
}

extension Result {
    var failure: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}

extension RotationOutcome {
    var isRevocation: Bool {
        switch self {
        case .reuseDetected, .bindingMismatch: return true
        default: return false
        }
    }
}

extension RotationRequest {
    func withNow(_ now: Int64) -> RotationRequest {
        var r = self
        r.now = now
        return r
    }
}
