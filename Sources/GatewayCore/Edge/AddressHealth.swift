/// Passive and active health of one upstream address: events in, actions out, time given.
/// `eject_after` consecutive connect failures or response timeouts eject the address for
/// `eject_for`; after that it is tried again, and one more failure ejects it at once until
/// an answer shows it is back. An active check that fails takes it out until one passes.
struct AddressHealth: Equatable {
    enum Event: Equatable {
        case connectFailed
        /// No response head within the route's timeout (a 5xx-free timeout).
        case timedOut
        /// A response head arrived: the address works, whatever the status.
        case responded
        case activeCheck(ok: Bool)
    }

    enum Action: Equatable {
        case none
        case ejected(until: Int64)
        /// Usable again after an active-check failure.
        case restored
    }

    private(set) var failures = 0
    private(set) var ejectedUntil: Int64 = 0
    private(set) var activeDown = false

    /// Nothing to remember: the entry can be dropped.
    var isPristine: Bool { failures == 0 && ejectedUntil == 0 && !activeDown }

    func available(now: Int64) -> Bool { !activeDown && ejectedUntil <= now }

    mutating func handle(_ event: Event, now: Int64, ejectAfter: Int, ejectFor: Int64) -> Action {
        switch event {
        case .responded:
            failures = 0
            ejectedUntil = 0
            return .none
        case .connectFailed, .timedOut:
            guard ejectAfter > 0 else { return .none }
            // Failures of requests already under way when it was ejected change nothing.
            if ejectedUntil > now { return .none }
            failures += 1
            guard failures >= ejectAfter else { return .none }
            // Half-open from now on: the next failure after the ejection ejects again.
            failures = ejectAfter - 1
            ejectedUntil = now + ejectFor
            return .ejected(until: ejectedUntil)
        case .activeCheck(let ok):
            if ok {
                guard activeDown else { return .none }
                activeDown = false
                return .restored
            }
            activeDown = true
            return .none
        }
    }
}
