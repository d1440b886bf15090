import EventLoop
import JOSE

/// One worker's token verification: the runtime's verifier in front of a verified-token
/// cache, so a client that reuses its token skips the signature (issue 3) and everything
/// derived from its claims. A token is cached on its second verification (the cache's
/// doorkeeper): one-off tokens, a scan of many distinct tokens among them, neither evict
/// the tokens clients reuse nor pay for an entry (docs/architecture.md, the token cache). Not thread-safe: each worker owns one, rebuilt when a reload
/// brings new keys or header names. Tokens of trusted outside issuers are verified with
/// the keys their fetcher last published (`IssuerView`); new keys empty the cache.
final class BearerVerifier {
    let auth: AuthRuntime
    /// `auth.keys.verifier`, held here: reached through the runtime's struct it was copied
    /// (its arrays and strings retained and released) on every verification.
    private let verifier: AccessTokenVerifier
    private let cache: VerifiedTokenCache
    private let names: IdentityHeaderNames
    private let issuers: IssuerView?

    init(auth: AuthRuntime, names: IdentityHeaderNames, capacity: Int = 4096) {
        self.auth = auth
        verifier = auth.keys.verifier
        self.names = names
        cache = VerifiedTokenCache(capacity: capacity, admission: .secondSighting)
        issuers = auth.issuers.flatMap { $0.issuers.isEmpty ? nil : IssuerView(directory: $0) }
    }

    /// The grant of a valid token for `route`; `now` is Unix seconds.
    func grant(_ token: UnsafeRawBufferPointer, now: Double, route: RouteConfig? = nil) -> Result<
        AccessGrant, JOSEError
    > {
        cached(token, now: now, route: route) ?? verify(token, now: now, route: route)
    }

    /// The answer for a token this worker verified before (a hash lookup and a compare), or
    /// nil when it is not in the cache. A hit is byte for byte a token that verified, so it
    /// needs no check but its expiry, revocation and route.
    func cached(_ token: UnsafeRawBufferPointer, now: Double, route: RouteConfig?) -> Result<
        AccessGrant, JOSEError
    >? {
        // A key set published since the last call (rotation, staleness): cached tokens of a
        // dropped key must not outlive it.
        if let issuers, issuers.refresh() { cache.removeAll() }
        guard let entry = cache.entry(token, now: now), let attachment = entry.attachment else { return nil }
        // Only `verify` below attaches, and always an AccessGrant: no dynamic cast needed.
        return IssuerPolicy.admit(unsafeDowncast(attachment, to: AccessGrant.self), route: route)
    }

    /// Verifies a token the cache does not hold, and caches its grant.
    func verify(_ token: UnsafeRawBufferPointer, now: Double, route: RouteConfig?) -> Result<AccessGrant, JOSEError> {
        do {
            let grant: AccessGrant
            if let issuers, let index = OutsideToken.issuerIndex(token, issuers.directory) {
                grant = try outside(token, index: index, view: issuers, now: now)
            } else {
                let verified = try verifier.verify(token: token, now: now)
                grant = AccessGrant(verified.claims, names: names, issuer: verifier.validator.rules.issuer)
                remember(token, verified, grant, now: now)
            }
            return IssuerPolicy.admit(grant, route: route)
        } catch {
            return .failure(error)
        }
    }

    private func outside(_ token: UnsafeRawBufferPointer, index: Int, view: IssuerView, now: Double)
        throws(JOSEError) -> AccessGrant
    {
        let issuer = view.directory.issuers[index]
        guard let keys = view.keys[index] else {
            throw .invalidKey("no usable keys for this issuer (not fetched yet, or stale)")
        }
        let verified: VerifiedJWS
        do {
            verified = try keys.verifier.verify(token: token, now: now)
        } catch .unknownKey {
            // Maybe a rotation at the IdP: ask for a refetch (rate-limited here and in the fetcher).
            view.unknownKid(index, now: EventLoop.monotonicMillis())
            throw .unknownKey
        }
        try issuer.check(verified)
        let grant = issuer.grant(verified.claims, names: names)
        remember(token, verified, grant, now: now)
        return grant
    }

    /// Caches the grant alone (the claims die with this request) until the token's `exp`.
    private func remember(_ token: UnsafeRawBufferPointer, _ verified: VerifiedJWS, _ grant: AccessGrant, now: Double) {
        guard let exp = verified.claims.exp else { return }
        cache.insert(token, expiresAt: exp, attachment: grant, now: now)
    }
}

/// The token side of one runtime generation: keys, realm, and the flows serving the
/// gateway's own auth paths.
final class AuthRuntime: Sendable {
    let realm: String
    let keys: TokenKeys
    /// The trusted outside issuers and their published keys; nil without any.
    let issuers: IssuerDirectory?

    init(realm: String, keys: TokenKeys, issuers: IssuerDirectory? = nil) {
        self.realm = realm
        self.keys = keys
        self.issuers = issuers
    }
}
