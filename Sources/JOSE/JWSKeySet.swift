/// The keys of one issuer: several verification keys at once (rotation) and at most one
/// signing key, looked up by `kid` (RFC 7515 §4.1.4).
///
///     let keys = try JWSKeySet(verificationKeys: [old, current], signingKey: current)
///     let token = try keys.sign(payload: claimsJSON)
///     let verified = try keys.verify(token: token, allowedAlgorithms: [.es256])
///
/// A value type over immutable keys: share it between threads, replace it on reload.
public struct JWSKeySet: Sendable {
    /// Every key that verifies, the signing key included.
    public let keys: [JWSKey]
    /// The key new tokens are signed with.
    public let signingKey: JWSKey?

    /// - Throws: ``JOSEError/invalidKey(_:)`` for two different keys with one `kid` (a token
    ///   naming it would be ambiguous), one key's material under two algorithms (RFC 8725
    ///   §3.1: one key, one algorithm), or a signing key without its private half. The same
    ///   key (material, `kid` and algorithm) given twice is kept once.
    public init(verificationKeys: [JWSKey], signingKey: JWSKey? = nil) throws(JOSEError) {
        var all = [JWSKey]()
        for k in verificationKeys + (signingKey.map { [$0] } ?? []) {
            if let existing = all.first(where: { $0.kid == k.kid }) {
                guard existing.isSameKey(as: k) else {
                    throw .invalidKey("two different keys have kid \(JSONWriter.quoted(k.kid)): ambiguous")
                }
                continue
            }
            if let other = all.first(where: { $0.algorithm != k.algorithm && $0.hasSameMaterial(as: k) }) {
                throw .invalidKey(
                    "keys \(JSONWriter.quoted(other.kid)) and \(JSONWriter.quoted(k.kid)) are one key for "
                        + "\(other.algorithm) and \(k.algorithm): a key is used with one algorithm only"
                )
            }
            all.append(k)
        }
        if let signingKey, !signingKey.canSign { throw .invalidKey("signing key has no private part") }
        keys = all
        self.signingKey = signingKey
    }

    /// The key for a token with `kid` and `alg` (RFC 8725 §3.1–3.2).
    ///
    /// With a `kid`: that key, whose one algorithm must be `alg`. Without: the one key whose
    /// algorithm is `alg`; none or several is an error.
    /// - Throws: ``JOSEError/unknownKey`` or ``JOSEError/keyAlgorithmMismatch``.
    public func key(kid: String?, algorithm: JWSAlgorithm) throws(JOSEError) -> JWSKey {
        if let kid {
            for k in keys where k.kid == kid {
                guard k.accepts(algorithm) else { throw .keyAlgorithmMismatch }
                return k
            }
            throw .unknownKey
        }
        var found: JWSKey?
        for k in keys where k.accepts(algorithm) {
            if found != nil { throw .unknownKey }  // ambiguous without kid
            found = k
        }
        guard let found else { throw keys.isEmpty ? .unknownKey : .keyAlgorithmMismatch }
        return found
    }

    /// The JWK Set (RFC 7517 §5) of the public keys, as JSON: asymmetric keys only, each with
    /// `kty`, `kid`, `use: "sig"`, `alg` and public parameters. No `d`, no HMAC secret, ever.
    public func jwks() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.beginArray("keys")
        for k in keys {
            if case .asymmetric(let e) = k.material {
                JWK.publicObject(e, kid: k.kid, algorithm: k.algorithm, into: &w)
            }
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// Signs `payload` (the claims JSON the caller built) with the signing key:
    /// header `{"alg":..,"typ":typ,"kid":..}` (RFC 9068 §2.1: `typ` `at+jwt` for access tokens).
    public func sign(payload: [UInt8], typ: String? = "at+jwt") throws(JOSEError) -> [UInt8] {
        guard let signingKey else { throw .invalidKey("no signing key") }
        return try signingKey.signCompact(payload: payload, typ: typ)
    }
}

extension JWSKey {
    func isSameKey(as other: JWSKey) -> Bool {
        guard kid == other.kid, algorithm == other.algorithm else { return false }
        switch (material, other.material) {
        case (.hmac(let a), .hmac(let b)): return a === b
        case (.asymmetric(let a), .asymmetric(let b)): return a === b || a.publicKeyDER() == b.publicKeyDER()
        default: return false
        }
    }

    /// Whether both keys hold the same material, whatever their `kid` and algorithm: the
    /// same public key, or HMAC secrets with the same fingerprint.
    func hasSameMaterial(as other: JWSKey) -> Bool {
        switch (material, other.material) {
        case (.hmac(let a), .hmac(let b)):
            return a === b || ConstantTime.equals(a.fingerprint, b.fingerprint)
        case (.asymmetric(let a), .asymmetric(let b)): return a === b || a.publicKeyDER() == b.publicKeyDER()
        default: return false
        }
    }
}

/// Size limits applied before any work (RFC 8725 §3.x spirit: bound what an attacker can make us parse).
public struct JWSLimits: Sendable, Hashable {
    /// Whole compact token, in bytes (default 8 KiB).
    public var maxTokenBytes: Int
    /// Decoded header JSON (default 1 KiB).
    public var maxHeaderBytes: Int
    /// Decoded payload (claims JSON) (default 4 KiB).
    public var maxPayloadBytes: Int
    /// JSON nesting depth of header and claims (default 16).
    public var maxDepth: Int

    public init(maxTokenBytes: Int = 8192, maxHeaderBytes: Int = 1024, maxPayloadBytes: Int = 4096, maxDepth: Int = 16)
    {
        self.maxTokenBytes = maxTokenBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxPayloadBytes = maxPayloadBytes
        self.maxDepth = maxDepth
    }
}

/// A JWS whose signature verified: its header, payload bytes and claims.
public struct VerifiedJWS: Sendable, Equatable {
    public let header: JWSHeader
    /// The decoded payload, exactly as signed.
    public var payload: [UInt8] { claims.json }
    public let claims: Claims
    /// The `kid` of the key that verified it (also when the token had no `kid`).
    public let keyID: String
}
