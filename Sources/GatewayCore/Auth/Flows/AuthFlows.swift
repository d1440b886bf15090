import JOSE
import TokenStore

/// Login, refresh with rotation and reuse detection, and logout (SPEC §2): the decisions,
/// independent of how the HTTP endpoints spell their inputs and answers. One per
/// configuration generation.
final class AuthFlows: Sendable {
    let services: TokenServices
    let keys: TokenKeys
    let auth: AuthSettings
    let authenticator: (any Authenticator)?
    let minter: TokenMinter
    /// Trusted outside issuers, whose valid tokens logout revokes by `jti`; nil without any.
    let issuers: IssuerDirectory?

    init(
        services: TokenServices, keys: TokenKeys, auth: AuthSettings, authenticator: (any Authenticator)?,
        issuers: IssuerDirectory? = nil
    ) {
        self.services = services
        self.keys = keys
        self.auth = auth
        self.authenticator = authenticator
        self.issuers = issuers
        minter = TokenMinter(keys: keys)
    }

    private var tokens: TokenSettings { keys.settings }
    /// How long a revocation must be remembered: until no access token it covers can be valid.
    var revocationTTL: Int64 { tokens.accessTTL + tokens.leeway }

    // MARK: Login

    /// Checks a login. The throttle slot of the username and of the client address is
    /// reserved before the password is hashed, so concurrent guesses cannot all pass the
    /// check first: a refused reservation is 429 before any hash runs. A wrong password keeps
    /// its slot (a failure); an undecided one (authenticator unavailable, pool full) gives it
    /// back; a success clears the username's counter and gives the address's slot back.
    /// The username is normalised (`Username`) for the throttle and the authenticator alike.
    func login(username: String, password: [UInt8], clientAddress: String, completion: @escaping GrantCompletion) {
        guard let authenticator else {
            completion(.failure(.unavailable("no authenticator is configured")))
            return
        }
        let name = Username.normalize(username)
        guard !name.isEmpty else {
            completion(.failure(.invalidRequest("username and password are required")))
            return
        }
        let t = auth.throttle
        let userKey = ThrottleKey(name: "u:" + name, limit: t.maxFailuresPerUser, window: t.window)
        let addressKey = ThrottleKey(name: "a:" + clientAddress, limit: t.maxFailuresPerAddress, window: t.window)
        let throttleKeys = [userKey, addressKey]
        let services = self.services
        services.throttle.reserve(throttleKeys, now: WallClock.millis()) { [self] answer in
            switch answer {
            case .failure(let e):
                completion(.failure(.unavailable("\(e)")))
                return
            case .success(let wait) where wait > 0:
                services.counters.count(.login_throttled)
                completion(.failure(.throttled(retryAfter: (wait + 999) / 1000)))
                return
            case .success:
                break
            }
            let submitted = services.pool.submit { [self] in
                var secret = password
                let result = authenticator.authenticate(username: name, password: secret)
                ConstantTime.wipe(&secret)
                switch result {
                case .rejected:
                    services.counters.count(.login_failed)
                    completion(.failure(.invalidGrant("The username or password is wrong")))
                case .unavailable(let reason):
                    services.throttle.release(throttleKeys, now: WallClock.millis()) { _ in }
                    services.logger.warning("authenticator unavailable: \(reason)")
                    completion(.failure(.unavailable("The authenticator is unavailable")))
                case .success(let identity):
                    services.throttle.reset(userKey) { _ in }
                    services.throttle.release([addressKey], now: WallClock.millis()) { _ in }
                    startFamily(identity, completion: completion)
                }
            }
            if !submitted {
                services.throttle.release(throttleKeys, now: WallClock.millis()) { _ in }
                completion(.failure(.unavailable("Too many logins in progress")))
            }
        }
    }

    private func startFamily(_ identity: LoginIdentity, completion: @escaping GrantCompletion) {
        let now = WallClock.millis()
        let sid = TokenMinter.newID()
        let jti = TokenMinter.newID()
        let refresh = RefreshToken.generate()
        let access: String
        do {
            access = try minter.accessToken(for: identity, sid: sid, jti: jti, now: now)
        } catch {
            services.logger.error("cannot sign an access token: \(error)")
            completion(.failure(.unavailable("cannot sign tokens")))
            return
        }
        let family = NewFamily(
            sid: sid, subject: identity.subject, claims: identity.familyClaims,
            lookupKey: refresh.lookupKey, refreshHash: refresh.hash, accessJti: jti, now: now,
            expiresAt: now + tokens.refreshTTL)
        let pair = TokenPair(
            accessToken: access, accessExpiresIn: tokens.accessTTL / 1000, refreshToken: refresh,
            refreshExpiresIn: tokens.refreshTTL / 1000, scope: identity.scope)
        services.store.createFamily(family) { [services] result in
            switch result {
            case .success:
                services.counters.count(.issued)
                completion(.success(pair))
            case .failure(let e):
                services.logger.error("login not recorded: \(e)")
                completion(.failure(.unavailable("The token store is unavailable")))
            }
        }
    }

    // MARK: Refresh

    /// Verifies the access token a refresh or logout carries (expired is fine, the
    /// signature and every other rule are still checked).
    func boundAccessToken(_ token: String) -> Result<VerifiedJWS, JOSEError> {
        do {
            return .success(
                try keys.lenientVerifier.verify(token: Array(token.utf8), now: ClaimValidator.currentTime()))
        } catch {
            return .failure(error)
        }
    }

    /// The claims of a currently valid token of a trusted outside issuer (its keys, its `iss`,
    /// its policy), or nil: what logout needs to revoke such a token by `jti`.
    func outsideAccessToken(_ token: String) -> Claims? {
        guard let directory = issuers, !directory.issuers.isEmpty else { return nil }
        let view = IssuerView(directory: directory)
        _ = view.refresh()  // the keys published now
        return Array(token.utf8).withUnsafeBytes { b -> Claims? in
            guard let index = OutsideToken.issuerIndex(b, directory), let issuerKeys = view.keys[index],
                let verified = try? issuerKeys.verifier.verify(token: b, now: ClaimValidator.currentTime()),
                (try? directory.issuers[index].check(verified)) != nil
            else { return nil }
            return verified.claims
        }
    }

    func refresh(_ presented: RefreshToken, bound: BoundAccessToken?, completion: @escaping GrantCompletion) {
        let now = WallClock.millis()
        let successor = presented.successor()
        let jti = TokenMinter.newID()
        let request = RotationRequest(
            lookupKey: presented.lookupKey, presentedHash: presented.hash, boundAccess: bound,
            requireBinding: tokens.requireBoundAccessToken, newRefreshHash: successor.hash, newAccessJti: jti,
            graceBlob: presented.seal(successor: successor), now: now, refreshTTL: tokens.refreshTTL,
            grace: tokens.refreshReuseGrace, revocationTTL: revocationTTL)
        let services = self.services
        services.store.rotate(request) { [self] result in
            switch result {
            case .failure(let e):
                services.logger.error("refresh not recorded: \(e)")
                completion(.failure(.unavailable("The token store is unavailable")))
            case .success(.rotated(let family)):
                services.counters.count(.refreshed)
                issue(family, refresh: successor, jti: jti, now: now, completion: completion)
            case .success(.graceReplay(let family, let blob, let accessJti)):
                // A concurrent presentation of the token just rotated: the same successor.
                services.counters.count(.grace_replayed)
                guard let again = presented.open(graceBlob: blob) else {
                    completion(.failure(.invalidGrant("The refresh token is not valid")))
                    return
                }
                issue(family, refresh: again, jti: accessJti, now: now, completion: completion)
            case .success(.reuseDetected(let revocation)):
                services.counters.count(.reuse_detected)
                services.logger.warning("refresh token reuse detected: family revoked")
                services.hub.broadcast([revocation], now: now) {
                    completion(.failure(.invalidGrant("The refresh token was already used: the session is revoked")))
                }
            case .success(.bindingMismatch(let revocation)):
                services.counters.count(.binding_mismatch)
                services.logger.warning("refresh with another access token of the subject: family revoked")
                services.hub.broadcast([revocation], now: now) {
                    completion(
                        .failure(
                            .invalidGrant(
                                "The access token does not belong to this refresh token: the session is revoked")))
                }
            case .success(.rejected(let why)):
                completion(.failure(.invalidGrant(Self.describe(why))))
            }
        }
    }

    private func issue(
        _ family: FamilySnapshot, refresh: RefreshToken, jti: String, now: Int64,
        completion: GrantCompletion
    ) {
        let identity = LoginIdentity(subject: family.subject, familyClaims: family.claims)
        do {
            let access = try minter.accessToken(for: identity, sid: family.sid, jti: jti, now: now)
            completion(
                .success(
                    TokenPair(
                        accessToken: access, accessExpiresIn: tokens.accessTTL / 1000,
                        refreshToken: refresh,
                        refreshExpiresIn: max(0, (family.refreshExpiresAt - now) / 1000),
                        scope: identity.scope)))
        } catch {
            services.logger.error("cannot sign an access token: \(error)")
            completion(.failure(.unavailable("cannot sign tokens")))
        }
    }

    private static func describe(_ why: RotationRejection) -> String {
        switch why {
        case .unknown: return "The refresh token is not valid"
        case .expired: return "The refresh token expired"
        case .revoked: return "The session was revoked"
        case .foreignSubject: return "The access token belongs to another subject"
        case .bindingMissing: return "The access token issued with this refresh token is required"
        }
    }

    // MARK: Logout

    /// An access token may start "logout everywhere" until `access_ttl` after its expiry: long
    /// enough for a client whose token just expired (in cookie mode it holds no refresh
    /// token), but an old token found in a log or a cache cannot end every session of its
    /// subject. Past that, the refresh token is required.
    func mayLogOutEverywhere(_ access: Claims, now: Int64) -> Bool {
        guard let exp = access.exp, exp.isFinite else { return false }
        return Double(now) <= exp * 1000 + Double(tokens.accessTTL)
    }

    /// Revokes the family of the presented token, or every family of the subject (`all`).
    /// `outside`: `access` is a trusted outside issuer's token. Only its `jti` is revoked: its
    /// `sid` and `sub` name sessions and users of another issuer, not the gateway's families.
    func logout(
        access: Claims?, refresh: RefreshToken?, all: Bool, outside: Bool = false,
        completion: @escaping @Sendable (Result<Void, GrantFailure>) -> Void
    ) {
        let now = WallClock.millis()
        let store = services.store
        let hub = services.hub
        let ttl = revocationTTL
        let finish: @Sendable (Result<[Revocation], TokenStoreError>) -> Void = { [services] result in
            switch result {
            case .success(let revocations):
                services.counters.count(.revoked, by: revocations.count)
                hub.broadcast(revocations, now: now) { completion(.success(())) }
            case .failure(let e):
                services.logger.error("logout not recorded: \(e)")
                completion(.failure(.unavailable("The token store is unavailable")))
            }
        }
        if outside {
            guard !all, let access, let jti = access.jti, let exp = access.exp else {
                completion(
                    .failure(
                        .invalidRequest(
                            all
                                ? "Logging out everywhere needs the gateway's own token"
                                : "This token has no jti and exp to revoke it by")))
                return
            }
            store.revokeToken(jti: jti, expiresAt: saturatingSum(epochMillis(exp), tokens.leeway), now: now) {
                finish($0.map { [$0] })
            }
            return
        }
        if all {
            if let access, let subject = access.sub, mayLogOutEverywhere(access, now: now) {
                store.revokeSubject(subject, revocationTTL: ttl, now: now) { finish($0) }
                return
            }
            guard let refresh else {
                if access?.sub != nil {
                    completion(
                        .failure(
                            .staleAccessToken(
                                "The access token expired too long ago to log out everywhere: present the refresh token"
                            )))
                } else {
                    completion(.failure(.invalidRequest("No token to log out")))
                }
                return
            }
            // Only the family knows its subject: a last rotation proves the token is live and
            // names the subject, whose families (this one included) are then all revoked.
            let probe = RotationRequest(
                lookupKey: refresh.lookupKey, presentedHash: refresh.hash, boundAccess: nil, requireBinding: false,
                newRefreshHash: refresh.successor().hash, newAccessJti: TokenMinter.newID(), graceBlob: [], now: now,
                refreshTTL: tokens.refreshTTL, grace: 0, revocationTTL: ttl)
            store.rotate(probe) { result in
                switch result {
                case .success(.rotated(let family)), .success(.graceReplay(let family, _, _)):
                    store.revokeSubject(family.subject, revocationTTL: ttl, now: now) { finish($0) }
                case .success(.reuseDetected(let r)), .success(.bindingMismatch(let r)):
                    finish(.success([r]))
                case .success(.rejected):
                    finish(.success([]))
                case .failure(let e):
                    finish(.failure(e))
                }
            }
        } else if let access, let sid = access.sid {
            let jti = access.jti
            let exp = access.exp
            store.revokeFamily(sid: sid, revocationTTL: ttl, now: now) { [leeway = tokens.leeway] result in
                // An unknown family (an expired session, or a token of another issuer's
                // session id) still gets its token revoked.
                if case .success(nil) = result, let jti, let exp {
                    store.revokeToken(jti: jti, expiresAt: saturatingSum(epochMillis(exp), leeway), now: now) { r in
                        finish(r.map { [$0] })
                    }
                } else {
                    finish(result.map { $0.map { [$0] } ?? [] })
                }
            }
        } else if let access, let jti = access.jti, let exp = access.exp {
            store.revokeToken(jti: jti, expiresAt: saturatingSum(epochMillis(exp), tokens.leeway), now: now) {
                finish($0.map { [$0] })
            }
        } else if let refresh {
            store.revokeFamily(
                byRefreshToken: refresh.lookupKey, presentedHash: refresh.hash, revocationTTL: ttl,
                now: now
            ) { finish($0.map { $0.map { [$0] } ?? [] }) }
        } else {
            completion(.failure(.invalidRequest("No token to log out")))
        }
    }
}
