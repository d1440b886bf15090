import JOSE

/// One worker's token verification: the runtime's verifier in front of a verified-token
/// cache, so a client that reuses its token skips the signature (issue 3) and everything
/// derived from its claims. Not thread-safe: each worker owns one, rebuilt when a reload
/// brings new keys or header names.
final class BearerVerifier {
    let auth: AuthRuntime
    private let cache: VerifiedTokenCache
    private let names: IdentityHeaderNames

    init(auth: AuthRuntime, names: IdentityHeaderNames, capacity: Int = 4096) {
        self.auth = auth
        self.names = names
        cache = VerifiedTokenCache(capacity: capacity)
    }

    /// The grant of a valid token; `now` is Unix seconds.
    func grant(_ token: UnsafeRawBufferPointer, now: Double) -> Result<AccessGrant, JOSEError> {
        if let entry = cache.entry(token, now: now), let grant = entry.attachment as? AccessGrant {
            return .success(grant)
        }
        do {
            let verified = try auth.keys.verifier.verify(token: token, now: now)
            let grant = AccessGrant(verified.claims, names: names)
            cache.insert(token, verified, now: now)?.attachment = grant
            return .success(grant)
        } catch {
            return .failure(error)
        }
    }
}

/// The token side of one runtime generation: keys, realm, and the flows serving the
/// gateway's own auth paths.
final class AuthRuntime: Sendable {
    let realm: String
    let keys: TokenKeys

    init(realm: String, keys: TokenKeys) {
        self.realm = realm
        self.keys = keys
    }
}
