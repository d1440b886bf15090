import JOSE
import Synchronization

/// What workers verify an outside issuer's tokens with: its current keys, wrapped in a
/// verifier. Immutable; a fetch publishes a new one.
final class IssuerKeys: Sendable {
    let verifier: AccessTokenVerifier
    let count: Int

    init(_ verifier: AccessTokenVerifier, count: Int) {
        self.verifier = verifier
        self.count = count
    }
}

/// Per issuer, for `/metrics` and `/readyz`.
struct IssuerStatus: Sendable {
    var ready = false
    var fetches = 0
    var failures = 0
    var keys = 0
    /// Wall-clock ms of the last good set.
    var lastGoodAt: Int64?
}

/// The trusted issuers of one runtime generation and their published keys. The fetcher
/// publishes; workers read. A worker compares one atomic generation number per
/// verification and takes the lock only when it changed (a fetch brought new keys), so
/// no lock is contended on the request path.
final class IssuerDirectory: Sendable {
    let issuers: [TrustedIssuer]
    private let byName: [String: Int]
    private let generationCounter = Atomic<UInt64>(1)
    private let published: Mutex<[IssuerKeys?]>
    private let statuses: Mutex<[IssuerStatus]>
    /// Asks the fetcher for a refetch of issuer `index` (an unknown `kid`).
    private let refetch: Mutex<(@Sendable (Int) -> Void)?> = Mutex(nil)

    init(issuers: [TrustedIssuer]) {
        self.issuers = issuers
        var names: [String: Int] = [:]
        for (i, t) in issuers.enumerated() { names[t.settings.issuer] = i }
        byName = names
        published = Mutex(Array(repeating: nil, count: issuers.count))
        statuses = Mutex(Array(repeating: IssuerStatus(), count: issuers.count))
    }

    func index(of issuer: String) -> Int? { byName[issuer] }

    var generation: UInt64 { generationCounter.load(ordering: .acquiring) }

    /// The keys and the generation they belong to.
    func snapshot() -> (generation: UInt64, keys: [IssuerKeys?]) {
        published.withLock { (generationCounter.load(ordering: .relaxed), $0) }
    }

    func publish(_ index: Int, _ keys: IssuerKeys?) {
        published.withLock {
            $0[index] = keys
            generationCounter.add(1, ordering: .releasing)
        }
    }

    func updateStatus(_ index: Int, _ body: (inout IssuerStatus) -> Void) {
        statuses.withLock { body(&$0[index]) }
    }

    func status() -> [IssuerStatus] { statuses.withLock { $0 } }

    func setRefetch(_ handler: (@Sendable (Int) -> Void)?) { refetch.withLock { $0 = handler } }

    func requestRefetch(_ index: Int) {
        let handler = refetch.withLock { $0 }
        handler?(index)
    }

    /// The first issuer without usable keys, for `/readyz`.
    var notReady: String? {
        let s = status()
        for (i, st) in s.enumerated() where !st.ready { return issuers[i].settings.issuer }
        return nil
    }
}

/// One worker's view of a directory: the keys it last saw, and when it last asked for a
/// refetch per issuer (so a storm of unknown `kid`s posts at most one ask per interval).
/// Loop-confined.
final class IssuerView {
    let directory: IssuerDirectory
    private(set) var generation: UInt64 = 0
    private(set) var keys: [IssuerKeys?]
    private var lastAsk: [Int64]

    init(directory: IssuerDirectory) {
        self.directory = directory
        keys = Array(repeating: nil, count: directory.issuers.count)
        lastAsk = Array(repeating: Int64.min / 2, count: directory.issuers.count)
    }

    /// Picks up newly published keys; true when they changed since the last call.
    func refresh() -> Bool {
        guard directory.generation != generation else { return false }
        (generation, keys) = directory.snapshot()
        return true
    }

    /// An unknown `kid` for issuer `index` at monotonic `now` ms.
    func unknownKid(_ index: Int, now: Int64) {
        let interval = directory.issuers[index].settings.unknownKidInterval
        guard now - lastAsk[index] >= interval else { return }
        lastAsk[index] = now
        directory.requestRefetch(index)
    }
}

/// The directory of the runtime in service, for `/readyz` and `/metrics` (which outlive
/// reloads), and the fetcher that feeds it.
final class IssuerRegistry: Sendable {
    private let current = Mutex<(IssuerDirectory, IssuerKeyFetcher)?>(nil)

    /// Makes `directory` (fed by `fetcher`) the current one: keys of unchanged issuers are
    /// carried over at once, so a reload does not make them unready; the old fetcher stops.
    func install(_ directory: IssuerDirectory, fetcher: IssuerKeyFetcher) {
        let old = current.withLock { c -> (IssuerDirectory, IssuerKeyFetcher)? in
            let o = c
            c = (directory, fetcher)
            return o
        }
        var seeds: [Int: (IssuerKeys, IssuerStatus)] = [:]
        if let (oldDirectory, oldFetcher) = old {
            oldFetcher.stop()
            let (_, keys) = oldDirectory.snapshot()
            let statuses = oldDirectory.status()
            for (i, t) in directory.issuers.enumerated() {
                if let j = oldDirectory.index(of: t.settings.issuer), oldDirectory.issuers[j].settings == t.settings,
                    let k = keys[j], statuses[j].ready
                {
                    seeds[i] = (k, statuses[j])
                }
            }
        }
        fetcher.start(seeds: seeds)
    }

    var notReady: String? { current.withLock { $0?.0 }?.notReady }

    /// Prometheus lines for every issuer.
    func metrics(now wallMillis: Int64) -> String {
        guard let directory = current.withLock({ $0?.0 }) else { return "" }
        let statuses = directory.status()
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ value: (IssuerStatus) -> String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (i, s) in statuses.enumerated() {
                out += "\(name){issuer=\"\(Metrics.escape(directory.issuers[i].settings.issuer))\"} \(value(s))\n"
            }
        }
        guard !statuses.isEmpty else { return "" }
        family("gateway_issuer_key_fetches_total", "counter", "JWKS fetches started per trusted issuer.") {
            "\($0.fetches)"
        }
        family("gateway_issuer_key_fetch_failures_total", "counter", "Failed JWKS fetches per trusted issuer.") {
            "\($0.failures)"
        }
        family("gateway_issuer_keys", "gauge", "Signature keys in use per trusted issuer.") { "\($0.keys)" }
        family("gateway_issuer_ready", "gauge", "1 when the issuer's keys are usable.") { $0.ready ? "1" : "0" }
        family("gateway_issuer_keys_age_seconds", "gauge", "Age of the issuer's last good key set (-1: none).") {
            s in s.lastGoodAt.map { "\(max(0, wallMillis - $0) / 1000)" } ?? "-1"
        }
        return out
    }
}
