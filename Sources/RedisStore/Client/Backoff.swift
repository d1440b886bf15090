/// Reconnect delays: none for the first attempt after a connection was lost, then
/// `base`, 2·`base`, 4·`base`… capped at `max`, each with up to 25 % random jitter so that
/// replicas do not reconnect in lock-step.
struct Backoff: Sendable {
    let base: Int64
    let max: Int64
    /// Consecutive failed attempts.
    private(set) var failures = 0

    init(base: Int64, max: Int64) {
        self.base = base
        self.max = max
    }

    mutating func succeeded() { failures = 0 }
    mutating func failed() { failures += 1 }

    /// Delay before the next attempt (ms).
    var delay: Int64 {
        guard failures > 0 else { return 0 }
        let shift = Swift.min(failures - 1, 20)
        let raw = Swift.min(max, base << Int64(shift))
        return raw - Int64.random(in: 0...(raw / 4))
    }
}
