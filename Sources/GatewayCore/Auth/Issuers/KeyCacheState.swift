/// The timing rules of one issuer's key cache, as a state machine without I/O or clock of
/// its own: events come in with the time (monotonic ms), actions go out, and the driver
/// (`IssuerKeyFetcher`) performs them. Generic over the key set so tests need no keys.
///
/// - Start-up: one fetch. Until the first good set the issuer is not ready.
/// - Refresh at `max-age` from the answer's Cache-Control, clamped to `[minRefresh, maxRefresh]`
///   (`maxRefresh` without one).
/// - An unknown `kid` asks for a fetch, but at most one fetch starts per `unknownKidInterval`
///   (counting every fetch), and never while one is in flight: a storm of random `kid`s costs
///   one fetch per interval, a real rotation is seen after one extra fetch.
/// - A failed fetch keeps the last good keys; it is retried after `unknownKidInterval`. Once
///   the last good set is older than `maxStaleness` the keys are dropped (tokens fail closed).
struct KeyCacheState<Keys> {
    struct Policy: Equatable {
        var minRefresh: Int64
        var maxRefresh: Int64
        var unknownKidInterval: Int64
        var maxStaleness: Int64
    }

    enum FetchReason: String, Equatable {
        case startup, refresh, unknownKid = "unknown_kid", retry
    }

    enum Event {
        case start
        /// A fetch brought a good set; `maxAge` from Cache-Control, in ms.
        case fetched(Keys, maxAge: Int64?)
        case failed(String)
        /// A token named a `kid` that is not in the set.
        case unknownKid
        /// Time passed (the driver wakes up at `nextWakeup`).
        case tick
    }

    enum Action {
        case fetch(FetchReason)
        /// Workers get this set (nil: no keys, every token of the issuer fails).
        case publish(Keys?)
        case log(LogLevel, String)
    }

    enum LogLevel: Equatable { case info, warning, error }

    let policy: Policy
    private(set) var keys: Keys?
    private(set) var lastGoodAt: Int64?
    private(set) var fetching = false
    private(set) var lastFetchStartedAt: Int64?
    private(set) var nextRefreshAt: Int64?
    /// An unknown `kid` arrived while fetching was not allowed: fetch once it is.
    private(set) var refetchWanted = false
    /// The keys were dropped for staleness (they stay dropped until a fetch succeeds).
    private(set) var expired = false
    private(set) var fetches = 0
    private(set) var failures = 0
    private(set) var lastError: String?

    init(policy: Policy) {
        self.policy = policy
    }

    /// Keys carried over from the previous configuration generation, fetched at `goodAt`:
    /// in use at once, and as stale as they were (before `.start`).
    mutating func seed(_ k: Keys, goodAt: Int64) {
        keys = k
        lastGoodAt = goodAt
    }

    /// Whether tokens of this issuer can be verified (a good set, not too old).
    var isReady: Bool { keys != nil && !expired }

    mutating func handle(_ event: Event, now: Int64) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .start:
            startFetch(.startup, now: now, into: &actions)
        case .fetched(let k, let maxAge):
            fetching = false
            let wasExpired = expired
            keys = k
            lastGoodAt = now
            expired = false
            refetchWanted = false
            lastError = nil
            let age = min(max(maxAge ?? policy.maxRefresh, policy.minRefresh), policy.maxRefresh)
            nextRefreshAt = now + age
            actions.append(.publish(k))
            if wasExpired { actions.append(.log(.info, "keys fetched again after they went stale")) }
        case .failed(let reason):
            fetching = false
            failures += 1
            lastError = reason
            refetchWanted = false
            nextRefreshAt = now + policy.unknownKidInterval
            if keys == nil || expired {
                actions.append(.log(.error, "key fetch failed, no usable keys: \(reason)"))
            } else {
                actions.append(.log(.warning, "key fetch failed, serving the last good keys: \(reason)"))
            }
        case .unknownKid:
            guard !fetching else { break }
            if mayFetch(now) {
                startFetch(.unknownKid, now: now, into: &actions)
            } else {
                refetchWanted = true
            }
        case .tick:
            break
        }
        // Staleness, then due fetches: a tick may need both.
        if let good = lastGoodAt, keys != nil, !expired, now - good >= policy.maxStaleness {
            expired = true
            actions.append(.publish(nil))
            actions.append(
                .log(
                    .error,
                    "keys are \((now - good) / 1000) s old (max_staleness \(policy.maxStaleness / 1000) s): "
                        + "tokens of this issuer are refused until a fetch succeeds"))
        }
        if !fetching {
            if refetchWanted, mayFetch(now) {
                refetchWanted = false
                startFetch(.unknownKid, now: now, into: &actions)
            } else if let due = nextRefreshAt, now >= due {
                startFetch(keys == nil || lastError != nil ? .retry : .refresh, now: now, into: &actions)
            }
        }
        return actions
    }

    /// When the driver must send `.tick` next (nil: only on events).
    var nextWakeup: Int64? {
        var t: [Int64] = []
        if !fetching {
            if let n = nextRefreshAt { t.append(n) }
            if refetchWanted, let last = lastFetchStartedAt { t.append(last + policy.unknownKidInterval) }
        }
        if let good = lastGoodAt, keys != nil, !expired { t.append(good + policy.maxStaleness) }
        return t.min()
    }

    private func mayFetch(_ now: Int64) -> Bool {
        guard let last = lastFetchStartedAt else { return true }
        return now - last >= policy.unknownKidInterval
    }

    private mutating func startFetch(_ reason: FetchReason, now: Int64, into actions: inout [Action]) {
        fetching = true
        fetches += 1
        lastFetchStartedAt = now
        nextRefreshAt = nil
        actions.append(.fetch(reason))
    }
}
