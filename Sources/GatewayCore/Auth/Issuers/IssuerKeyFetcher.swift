import EventLoop
import HTTPClient
import JOSE
import TLS

/// Feeds one directory: runs every issuer's `KeyCacheState` on the background loop, does
/// the discovery and JWKS fetches with the non-blocking `HTTPClient`, and publishes each
/// good set. Its mutable state is touched on `loop` only (every entry point hops there).
final class IssuerKeyFetcher: @unchecked Sendable {
    /// What an issuer's keys come from at run time.
    struct Source {
        /// nil for a `jwks_file` issuer (keys loaded with the configuration).
        var jwksURL: HTTPClientURL?
        var discoveryURL: HTTPClientURL?
        var tls: TLSContext?
        /// Keys read from a file with the configuration.
        var staticKeys: IssuerKeys?
    }

    private final class Entry {
        let issuer: TrustedIssuer
        var source: Source
        var state: KeyCacheState<IssuerKeys>
        var timer: TimerHandle?

        init(issuer: TrustedIssuer, source: Source) {
            self.issuer = issuer
            self.source = source
            let s = issuer.settings
            state = KeyCacheState(
                policy: .init(
                    minRefresh: s.minRefresh, maxRefresh: s.maxRefresh, unknownKidInterval: s.unknownKidInterval,
                    maxStaleness: s.maxStaleness))
        }
    }

    let directory: IssuerDirectory
    let loop: EventLoop
    private let logger: Logger
    private let entries: [Entry]
    private var client: HTTPClient?
    private var stopped = false

    init(directory: IssuerDirectory, sources: [Source], loop: EventLoop, logger: Logger) {
        self.directory = directory
        self.loop = loop
        self.logger = logger
        entries = zip(directory.issuers, sources).map { Entry(issuer: $0, source: $1) }
    }

    /// Publishes `seeds` (keys carried over from the previous generation) and static keys,
    /// then starts fetching. From any thread.
    func start(seeds: [Int: (IssuerKeys, IssuerStatus)]) {
        directory.setRefetch { [weak self] index in
            guard let fetcher = self else { return }
            fetcher.loop.execute { fetcher.unknownKid(index) }
        }
        // Published before the runtime is swapped in: no worker sees a carried-over or
        // file-backed issuer without keys.
        for (i, e) in entries.enumerated() {
            if let k = e.source.staticKeys {
                directory.publish(i, k)
                directory.updateStatus(i) {
                    $0.ready = true
                    $0.keys = k.count
                    $0.lastGoodAt = WallClock.millis()
                }
            } else if let (k, status) = seeds[i] {
                // Carried over: usable now, refreshed by the start-up fetch.
                directory.publish(i, k)
                directory.updateStatus(i) { $0 = status }
            }
        }
        loop.execute { [self] in
            for (i, e) in entries.enumerated() where e.source.staticKeys == nil {
                if let (k, status) = seeds[i] {
                    let age = max(0, WallClock.millis() - (status.lastGoodAt ?? WallClock.millis()))
                    e.state.seed(k, goodAt: loop.now - age)
                }
                apply(i, e.state.handle(.start, now: loop.now))
            }
        }
    }

    /// Stops fetching (a reload replaced this generation). From any thread.
    func stop() {
        directory.setRefetch(nil)
        loop.execute { [self] in
            stopped = true
            for e in entries { e.timer?.cancel() }
        }
    }

    private func unknownKid(_ index: Int) {
        guard !stopped, index < entries.count, entries[index].source.staticKeys == nil else { return }
        apply(index, entries[index].state.handle(.unknownKid, now: loop.now))
    }

    private func apply(_ index: Int, _ actions: [KeyCacheState<IssuerKeys>.Action]) {
        guard !stopped else { return }
        let e = entries[index]
        let name = e.issuer.settings.issuer
        for action in actions {
            switch action {
            case .fetch(let reason):
                logger.debug("issuer \(name): fetching keys (\(reason.rawValue))")
                fetch(index)
            case .publish(let keys):
                directory.publish(index, keys)
            case .log(.info, let m): logger.info("issuer \(name): \(m)")
            case .log(.warning, let m): logger.warning("issuer \(name): \(m)")
            case .log(.error, let m): logger.error("issuer \(name): \(m)")
            }
        }
        let state = e.state
        directory.updateStatus(index) { s in
            s.ready = state.isReady
            s.fetches = state.fetches
            s.failures = state.failures
            s.keys = state.isReady ? (state.keys?.count ?? 0) : 0
            if case .publish(let k?)? = actions.first(where: { if case .publish = $0 { true } else { false } }) {
                _ = k
                s.lastGoodAt = WallClock.millis()
            }
        }
        e.timer?.cancel()
        e.timer = nil
        if let wake = e.state.nextWakeup {
            e.timer = loop.schedule(after: max(0, wake - loop.now)) { [weak self] in
                guard let self, !self.stopped else { return }
                self.apply(index, self.entries[index].state.handle(.tick, now: self.loop.now))
            }
        }
    }

    private var httpClient: HTTPClient {
        if let client { return client }
        let c = HTTPClient(loop: loop)
        client = c
        return c
    }

    private func options(_ s: TrustedIssuerSettings) -> HTTPClientOptions {
        var o = HTTPClientOptions()
        o.connectTimeout = min(s.fetchTimeout, 3_000)
        o.responseTimeout = s.fetchTimeout
        o.maxBodyBytes = s.maxJWKSBytes
        return o
    }

    private func fetch(_ index: Int) {
        let e = entries[index]
        if let url = e.source.jwksURL {
            fetchKeys(index, url)
            return
        }
        guard let discovery = e.source.discoveryURL else { return }
        let request = HTTPClientRequest(url: discovery, headers: [("Accept", "application/json")])
        httpClient.fetch(request, tls: e.source.tls, options: options(e.issuer.settings)) { [weak self] result in
            guard let self, !self.stopped else { return }
            switch result {
            case .success(let r) where r.status == 200:
                do throws(IssuerDocuments.Failure) {
                    let uri = try IssuerDocuments.jwksURI(discovery: r.body, issuer: e.issuer.settings.issuer)
                    guard let url = HTTPClientURL(uri) else { throw .badDiscovery("jwks_uri is not a URL") }
                    guard url.isTLS || !discovery.isTLS else { throw .badDiscovery("jwks_uri downgrades to http") }
                    e.source.jwksURL = url
                    self.fetchKeys(index, url)
                } catch {
                    self.failed(index, "discovery \(discovery): \(error)")
                }
            case .success(let r):
                self.failed(index, "discovery \(discovery) answered \(r.status)")
            case .failure(let err):
                self.failed(index, "discovery \(discovery): \(err)")
            }
        }
    }

    private func fetchKeys(_ index: Int, _ url: HTTPClientURL) {
        let e = entries[index]
        let request = HTTPClientRequest(
            url: url, headers: [("Accept", "application/jwk-set+json, application/json")])
        httpClient.fetch(request, tls: e.source.tls, options: options(e.issuer.settings)) { [weak self] result in
            guard let self, !self.stopped else { return }
            switch result {
            case .success(let r) where r.status == 200:
                do throws(IssuerDocuments.Failure) {
                    let set = try IssuerDocuments.keys(r.body)
                    let keys = IssuerKeys(e.issuer.verifier(set), count: set.keys.count)
                    let maxAge = IssuerDocuments.maxAge(cacheControl: r.header("cache-control"))
                    self.logger.info("issuer \(e.issuer.settings.issuer): \(set.keys.count) keys from \(url)")
                    self.apply(index, e.state.handle(.fetched(keys, maxAge: maxAge), now: self.loop.now))
                } catch {
                    self.failed(index, "\(url): \(error)")
                }
            case .success(let r):
                self.failed(index, "\(url) answered \(r.status)")
            case .failure(let err):
                self.failed(index, "\(url): \(err)")
            }
        }
    }

    private func failed(_ index: Int, _ reason: String) {
        let e = entries[index]
        // Discovery again next time: the jwks_uri itself may have moved.
        if e.source.discoveryURL != nil { e.source.jwksURL = nil }
        apply(index, e.state.handle(.failed(reason), now: loop.now))
    }
}

/// The one background loop of the process for outside fetches (JWKS, discovery): started
/// on first use, it keeps that work and its timers off the request loops.
enum BackgroundLoop {
    static let shared: EventLoop = {
        guard let loop = try? EventLoop(index: 1000) else { fatalError("cannot create the background event loop") }
        Thread.spawn(name: "gw-background") { loop.run() }
        return loop
    }()
}
