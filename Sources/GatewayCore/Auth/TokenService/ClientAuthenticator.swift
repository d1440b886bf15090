import JOSE
import Synchronization
import TokenStore

/// Why a client could not be authenticated.
enum ClientAuthFailure: Error, Sendable, Equatable {
    /// Unknown client, wrong secret: 401 invalid_client.
    case invalidClient
    /// Too many failures for this client id or address; seconds until the next try.
    case throttled(retryAfter: Int64)
    case unavailable(String)
}

/// Checks `client_secret_basic` / `client_secret_post` secrets against the clients file's
/// hashes, throttled like logins (per client id and per address, the same counters and
/// limits as `auth.throttle`). One per configuration generation: a reload that changes a
/// secret forgets every remembered one.
///
/// The hashes are slow on purpose (scrypt or PBKDF2, as passwords), so a verified secret is
/// remembered as an HMAC under a key that lives only in this process, one per client: the
/// next request with the same secret costs one HMAC and a constant-time comparison
/// instead of a slow hash. A wrong secret never matches that tag and goes the slow,
/// throttled way.
final class ClientAuthenticator: Sendable {
    let registry: ClientRegistry
    private let services: TokenServices
    private let throttle: ThrottleSettings
    private let tagKey: HMAC
    /// client id → HMAC(tagKey, id NUL secret) of its last verified secret; at most one per client.
    private let verified = Mutex<[String: [UInt8]]>([:])

    init(registry: ClientRegistry, services: TokenServices, throttle: ThrottleSettings) {
        self.registry = registry
        self.services = services
        self.throttle = throttle
        // A 256-bit key is always accepted.
        tagKey = try! HMAC(key: SecureRandom.bytes(count: 32))
    }

    private func tag(_ id: String, _ secret: String) -> [UInt8] {
        tagKey.authenticate(Array(id.utf8) + [0] + Array(secret.utf8))
    }

    /// Authenticates `id` with `secret`; `completion` runs on any thread.
    func authenticate(
        id: String, secret: String, clientAddress: String,
        completion: @escaping @Sendable (Result<RegisteredClient, ClientAuthFailure>) -> Void
    ) {
        let client = registry[id]
        if let client, secret.utf8.count <= 1024 {
            let t = tag(id, secret)
            let known = verified.withLock { $0[id] }
            if let known, ConstantTime.equals(known, t) { return completion(.success(client)) }
        }
        let idKey = ThrottleKey(name: "c:" + id, limit: throttle.maxFailuresPerUser, window: throttle.window)
        let addressKey = ThrottleKey(
            name: "a:" + clientAddress, limit: throttle.maxFailuresPerAddress, window: throttle.window)
        let keys = [idKey, addressKey]
        let services = self.services
        services.throttle.reserve(keys, now: WallClock.millis()) { [self] answer in
            switch answer {
            case .failure(let e): return completion(.failure(.unavailable("\(e)")))
            case .success(let wait) where wait > 0:
                services.counters.count(.login_throttled)
                return completion(.failure(.throttled(retryAfter: (wait + 999) / 1000)))
            case .success: break
            }
            let submitted = services.pool.submit { [self] in
                var bytes = Array(secret.utf8)
                defer { ConstantTime.wipe(&bytes) }
                let ok: Bool
                if let client, bytes.count <= 1024 {
                    ok = PasswordHash.verify(password: bytes, against: client.secretHash)
                } else {
                    // An unknown client costs what the slowest known one costs.
                    PasswordHash.burnTime(password: bytes, scheme: registry.decoy)
                    ok = false
                }
                guard ok, let client else {
                    services.counters.count(.login_failed)
                    return completion(.failure(.invalidClient))
                }
                let t = tag(id, secret)
                verified.withLock { $0[id] = t }
                services.throttle.reset(idKey) { _ in }
                services.throttle.release([addressKey], now: WallClock.millis()) { _ in }
                completion(.success(client))
            }
            if !submitted {
                services.throttle.release(keys, now: WallClock.millis()) { _ in }
                completion(.failure(.unavailable("Too many client authentications in progress")))
            }
        }
    }
}
