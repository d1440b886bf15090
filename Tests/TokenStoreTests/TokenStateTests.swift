import Testing

@testable import TokenStore

@Suite("TokenState")
struct TokenStateTests {
    @Test func perFamilyStateDoesNotGrowWithRotations() {
        var state = TokenState()
        var fam = TestFamily()
        _ = state.createFamily(fam.newFamily(now: t0))
        for i in 0..<1_000 {
            let r = fam.rotation(now: t0 + Int64(i))
            guard case .success(.rotated) = state.rotate(r).result else { Issue.record("rotation \(i)"); return }
            fam = fam.rotated(by: r)
        }
        #expect(state.families.count == 1)
        #expect(state.sidByLookup.count == 1)
        #expect(state.familyExpiries.count == 1)
        #expect(state.families[fam.sid]?.generation == 1_000)
    }

    @Test func sweepDropsExpiredWithinItsBudget() {
        var state = TokenState()
        let fams = (0..<100).map { _ in TestFamily() }
        for f in fams { _ = state.createFamily(f.newFamily(now: t0, ttl: minute)) }
        for i in 0..<50 { _ = state.revokeToken(jti: "j\(i)", expiresAt: t0 + minute, now: t0) }
        let keeper = TestFamily()
        _ = state.createFamily(keeper.newFamily(now: t0 + 2 * minute))  // moves the clock past the expiries
        #expect(state.sweep(budget: 30) == 30)
        #expect(state.families.count == 71)
        var rounds = 0
        while state.sweep(budget: 30) == 30 { rounds += 1 }
        #expect(rounds < 10)
        #expect(Array(state.families.keys) == [keeper.sid])
        #expect(state.revocations.isEmpty)
        #expect(state.sidsBySubject == ["alice": [keeper.sid]])
        #expect(state.sidByLookup == [keeper.lookupKey: keeper.sid])
        // Once dropped, the family's tokens are unknown.
        #expect(state.rotate(fams[0].rotation(now: t0 + 3 * minute)).result == .success(.rejected(.unknown)))
    }

    @Test func sweepRequeuesRotatedFamilies() {
        var state = TokenState()
        var fam = TestFamily()
        _ = state.createFamily(fam.newFamily(now: t0, ttl: minute))
        let r = fam.rotation(now: t0 + 30_000)  // extends expiry to t0 + 30 s + refreshTTL
        _ = state.rotate(r)
        fam = fam.rotated(by: r)
        _ = state.revokeToken(jti: "x", expiresAt: t0 + 5 * minute, now: t0 + 2 * minute)
        state.sweep(budget: 10)
        #expect(state.families.count == 1)
        #expect(state.familyExpiries.count == 1)
    }

    @Test func storeClockNeverGoesBackwards() {
        var state = TokenState()
        let fam = TestFamily()
        _ = state.createFamily(fam.newFamily(now: t0, ttl: minute))
        _ = state.revokeToken(jti: "x", expiresAt: t0 + 10 * minute, now: t0 + 2 * minute)
        // A request stamped earlier than what the store has already seen is judged at the store's time.
        #expect(state.rotate(fam.rotation(now: t0 + 1)).result == .success(.rejected(.expired)))
    }

    @Test func oversizedInputIsRefusedUnchanged() {
        var state = TokenState()
        var f = TestFamily().newFamily(now: t0)
        f.claims = [UInt8](repeating: 0x20, count: StoreLimits.maxClaims + 1)
        guard case .failure(.unavailable) = state.createFamily(f).result else { Issue.record("accepted"); return }
        #expect(state.families.isEmpty)
    }

    @Test func replayingChangesReproducesTheState() {
        var live = TokenState()
        var changes: [StateChange] = []
        var fams = (0..<5).map { _ in TestFamily() }
        for f in fams { changes += live.createFamily(f.newFamily(now: t0)).changes }
        for i in fams.indices {
            let r = fams[i].rotation(now: t0 + 1)
            changes += live.rotate(r).changes
            fams[i] = fams[i].rotated(by: r)
        }
        changes += live.rotate(fams[0].rotation(presenting: randomDigest(), now: t0 + 2)).changes  // reuse
        changes += live.revokeSubject("alice", revocationTTL: revocationTTL, now: t0 + 3).changes
        changes += live.revokeToken(jti: "t", expiresAt: t0 + minute, now: t0 + 3).changes
        var replayed = TokenState()
        for c in changes { replayed.apply(c) }
        #expect(replayed.image(at: t0 + 3) == live.image(at: t0 + 3))
        #expect(replayed.clock == live.clock)
    }
}
