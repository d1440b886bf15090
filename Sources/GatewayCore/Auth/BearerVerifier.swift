import JOSE

/// One worker's token verification: the runtime's verifier in front of a verified-token
/// cache, so a client that reuses its token skips the signature (issue 3). Not thread-safe:
/// each worker owns one, rebuilt when a reload brings new keys.
final class BearerVerifier {
    let auth: AuthRuntime
    private let cache: VerifiedTokenCache

    init(auth: AuthRuntime, capacity: Int = 4096) {
        self.auth = auth
        cache = VerifiedTokenCache(capacity: capacity)
    }

    func verify(_ token: UnsafeRawBufferPointer) -> Result<VerifiedJWS, JOSEError> {
        let now = ClaimValidator.currentTime()
        if let hit = cache.lookup(token, now: now) { return .success(hit) }
        do {
            let verified = try auth.keys.verifier.verify(token: token, now: now)
            cache.insert(token, verified, now: now)
            return .success(verified)
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
