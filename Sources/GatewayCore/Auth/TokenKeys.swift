import JOSE

/// The keys of one configuration generation and the verifiers built on them. Loaded at
/// start-up and on every reload, before the new runtime is swapped in, so that a key that
/// cannot be read keeps the running configuration (SPEC §4).
struct TokenKeys: Sendable {
    let settings: TokenSettings
    let keySet: JWSKeySet
    /// For bearer tokens on protected routes.
    let verifier: AccessTokenVerifier
    /// For the access token bound to a refresh or logout request: expired is fine.
    let lenientVerifier: AccessTokenVerifier
    /// The JWK Set document served at the JWKS path.
    let jwks: [UInt8]

    /// Reads every key source. Problems are reported with the JSON path of their key.
    init(settings: TokenSettings, environment: [String: String]) throws(ConfigError) {
        self.settings = settings
        var issues: [ConfigError.Issue] = []
        var keys: [JWSKey] = []
        for source in settings.keys {
            do throws(KeyLoadFailure) {
                keys += try Self.load(source, environment: environment)
            } catch {
                issues.append(.init(path: source.path, message: error.message))
            }
        }
        var signing: JWSKey?
        if let kid = settings.signingKey {
            signing = keys.first { $0.kid == kid }
            if signing == nil && issues.isEmpty {  // else the key that failed to load says why
                issues.append(.init(path: "tokens.signing_key", message: "no key has kid \(JSONWriter.quoted(kid))"))
            } else if signing?.canSign == false {
                issues.append(
                    .init(
                        path: "tokens.signing_key",
                        message: "key \(JSONWriter.quoted(kid)) is a public key and cannot sign"))
            }
        } else {
            signing = keys.first { $0.canSign }
        }
        var allowed = JWSAlgorithmSet()
        if settings.algorithms.isEmpty {
            for k in keys { allowed.insert(k.algorithm) }
        } else {
            for name in settings.algorithms {
                if let a = try? JWSAlgorithm(name: name) { allowed.insert(a) }
            }
        }
        if let signing, !allowed.contains(signing.algorithm) {
            issues.append(
                .init(
                    path: "tokens.algorithms",
                    message: "does not include \(signing.algorithm.name), the signing key's algorithm"))
        }
        guard issues.isEmpty else { throw ConfigError(issues: issues) }
        let set: JWSKeySet
        do {
            set = try JWSKeySet(verificationKeys: keys, signingKey: signing)
        } catch {
            throw ConfigError("tokens.keys", "\(error)")
        }
        keySet = set
        let rules = ClaimRules(
            issuer: settings.issuer, audiences: settings.audience, leeway: Double(settings.leeway) / 1000,
            requireExpiration: true, requireAccessTokenType: true)
        verifier = AccessTokenVerifier(keys: set, allowedAlgorithms: allowed, rules: rules)
        lenientVerifier = AccessTokenVerifier(keys: set, allowedAlgorithms: allowed, rules: rules.allowingExpired)
        jwks = set.jwks()
    }

    var canSign: Bool { keySet.signingKey != nil }

    private struct KeyLoadFailure: Error {
        var message: String
    }

    private static func load(_ source: KeySource, environment: [String: String]) throws(KeyLoadFailure) -> [JWSKey] {
        let alg: JWSAlgorithm?
        do {
            alg = try source.alg.map { (n) throws(JOSEError) in try JWSAlgorithm(name: n) }
        } catch {
            throw KeyLoadFailure(message: "alg: \(error)")
        }
        func file(_ path: String) throws(KeyLoadFailure) -> [UInt8] {
            do {
                return try FileIO.read(path, limit: 1 << 20)
            } catch {
                throw KeyLoadFailure(message: "cannot read key file: \(error)")
            }
        }
        do {
            switch source.material {
            case .privateKeyFile(let p), .publicKeyFile(let p):
                let key = try JWSKey.pem(try file(p), algorithm: alg, kid: source.kid)
                if case .privateKeyFile = source.material, !key.canSign {
                    throw KeyLoadFailure(message: "private_key_file holds a public key")
                }
                return [key]
            case .jwkFile(let p):
                return [try JWSKey.jwk(try file(p), algorithm: alg, kid: source.kid)]
            case .jwksFile(let p):
                let keys = try JWSKey.jwks(try file(p), algorithm: alg)
                if keys.isEmpty { throw KeyLoadFailure(message: "the JWK Set holds no key") }
                return keys
            case .secretFile(let p):
                var secret = try file(p)
                // A trailing newline from `echo` or an editor is not part of the secret.
                while let last = secret.last, last == 0x0A || last == 0x0D { secret.removeLast() }
                return [try JWSKey.hmac(secret: secret, algorithm: alg ?? .hs256, kid: source.kid ?? "")]
            case .secretEnv(let name):
                guard let value = environment[name], !value.isEmpty else {
                    throw KeyLoadFailure(message: "environment variable \(name) is not set")
                }
                return [try JWSKey.hmac(secret: Array(value.utf8), algorithm: alg ?? .hs256, kid: source.kid ?? "")]
            }
        } catch let e as KeyLoadFailure {
            throw e
        } catch {
            throw KeyLoadFailure(message: "\(error)")
        }
    }
}
