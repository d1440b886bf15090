import Dispatch
import Testing

@testable import JOSE

/// Keys and key sets are shared between event-loop threads: the per-call copies of the
/// OpenSSL templates must make concurrent verification safe (run under `--sanitize=thread`
/// to check for races).
@Suite("Concurrent use of shared keys")
struct ConcurrencyTests {
    @Test("verify and sign from many threads at once")
    func concurrent() throws {
        let algorithms: [JWSAlgorithm] = [.hs256, .hs512, .rs256, .ps256, .es256, .es512, .edDSA]
        let sets = try algorithms.map { try JWSKeySet(verificationKeys: [], signingKey: TestKeys.signing($0)) }
        let tokens = try sets.map { try $0.sign(payload: bytes(accessClaims())) }
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            let k = i % algorithms.count
            for _ in 0..<20 {
                guard
                    (try? sets[k].verify(token: tokens[k], allowedAlgorithms: [algorithms[k]]))?.claims.sid
                        == "fam-4f9c2a7e1b3d"
                else { failures.add(); continue }
                guard let t = try? sets[k].sign(payload: bytes(accessClaims())),
                    (try? sets[k].verify(token: t, allowedAlgorithms: [algorithms[k]])) != nil
                else { failures.add(); continue }
            }
        }
        #expect(failures.value == 0)
    }
}

/// A tiny thread-safe counter for the test above.
final class Counter: @unchecked Sendable {
    private var n = 0
    private let queue = DispatchQueue(label: "counter")
    func add() { queue.sync { n += 1 } }
    var value: Int { queue.sync { n } }
}
