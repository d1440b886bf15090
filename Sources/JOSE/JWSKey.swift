/// One signing or verification key: a `kid`, the one algorithm it is used with, and its material.
///
/// One key, one algorithm (RFC 8725 §3.1): a key signs and verifies exactly its
/// ``algorithm``, never another member of its family. An RSA key for PS512 refuses RS256,
/// an HS256 key with a 64-byte secret refuses HS512. At load the algorithm must fit the
/// material: HS* no longer than the secret, RS*/PS* for RSA (≥ 2048 bits), the ES algorithm
/// of an EC key's curve (RFC 7518 §3.4), EdDSA for Ed25519.
///
/// A value type over immutable, thread-safe storage: share it freely between threads.
public struct JWSKey: Sendable {
    /// The key id (RFC 7515 §4.1.4, RFC 7517 §4.5).
    public let kid: String
    /// The algorithm this key signs with and is published for (RFC 7517 §4.4).
    public let algorithm: JWSAlgorithm
    // Two plain optionals rather than a two-case enum: an enum keeps its case in the spare
    // bits of the pointer, which hides the reference from LeakSanitizer (false leak reports).
    private let hmacKey: HMACKey?
    private let evpKey: EVPKey?

    enum Material: Sendable {
        case hmac(HMACKey)
        case asymmetric(EVPKey)
    }

    var material: Material {
        if let hmacKey { return .hmac(hmacKey) }
        return .asymmetric(evpKey!)
    }

    init(kid: String, algorithm: JWSAlgorithm, material: Material) throws(JOSEError) {
        guard !kid.isEmpty else { throw .invalidKey("empty kid") }
        self.kid = kid
        self.algorithm = algorithm
        switch material {
        case .hmac(let k):
            hmacKey = k
            evpKey = nil
        case .asymmetric(let k):
            hmacKey = nil
            evpKey = k
        }
        guard fits(algorithm) else { throw .keyAlgorithmMismatch }
    }

    /// The key family (RFC 7518 §6.1 `kty`).
    public var family: JWSAlgorithm.Family { algorithm.family }

    /// True for HMAC keys (never published in a JWKS).
    public var isSymmetric: Bool {
        if case .hmac = material { return true }
        return false
    }

    /// True if the key can sign: an HMAC secret, or an asymmetric key with its private half.
    public var canSign: Bool {
        switch material {
        case .hmac: return true
        case .asymmetric(let k): return k.isPrivate
        }
    }

    /// The RSA modulus size in bits, or nil for other keys.
    public var rsaBits: Int? {
        if case .asymmetric(let k) = material, case .rsa(let bits) = k.shape { return bits }
        return nil
    }

    /// Whether this key may sign or verify with `a`: only its own ``algorithm`` (RFC 8725 §3.1).
    public func accepts(_ a: JWSAlgorithm) -> Bool { a == algorithm }

    /// Whether the material can serve `a` at all (family, curve, secret length): the load-time check.
    private func fits(_ a: JWSAlgorithm) -> Bool {
        switch material {
        case .hmac(let k): return a.family == .hmac && k.secretLength >= a.hashLength
        case .asymmetric(let k): return k.shape.canServe(a)
        }
    }

    /// Exact JWS signature length for `a` with this key.
    func signatureLength(_ a: JWSAlgorithm) -> Int {
        switch material {
        case .hmac: return a.hashLength
        case .asymmetric(let k): return k.shape.signatureLength(a)
        }
    }

    // MARK: Loading

    /// An HMAC key (RFC 7518 §3.2) from secret bytes the caller read from a file or the environment.
    /// - Throws: ``JOSEError/invalidKey(_:)`` if the secret is shorter than the hash output
    ///   (32, 48 or 64 bytes for HS256, HS384, HS512; RFC 7518 §3.2).
    public static func hmac(secret: [UInt8], algorithm: JWSAlgorithm = .hs256, kid: String) throws(JOSEError) -> JWSKey
    {
        guard algorithm.family == .hmac else { throw .keyAlgorithmMismatch }
        guard secret.count >= algorithm.hashLength else {
            throw .invalidKey("HMAC secret shorter than the hash output")
        }
        guard secret.count <= 1024 else { throw .invalidKey("HMAC secret longer than 1024 bytes") }
        let k = try secret.withBytes { (b) throws(JOSEError) in try HMACKey(secret: b) }
        return try JWSKey(kid: kid, algorithm: algorithm, material: .hmac(k))
    }

    /// A key from PEM text: PKCS#8 (`PRIVATE KEY`), SubjectPublicKeyInfo (`PUBLIC KEY`),
    /// PKCS#1 (`RSA PRIVATE KEY`, `RSA PUBLIC KEY`) or SEC1 (`EC PRIVATE KEY`). Encrypted keys are refused.
    ///
    /// - Parameters:
    ///   - algorithm: defaults to ES256/ES384/ES512 by curve, EdDSA for Ed25519, RS256 for RSA.
    ///   - kid: defaults to the RFC 7638 thumbprint of the public key.
    public static func pem(
        _ pem: [UInt8],
        algorithm: JWSAlgorithm? = nil,
        kid: String? = nil
    ) throws(JOSEError) -> JWSKey {
        let k = try pem.withBytes { (b) throws(JOSEError) in try EVPKey.decode(b, pem: true) }
        return try asymmetric(k, algorithm: algorithm, kid: kid)
    }

    /// A key from DER: PKCS#8, SubjectPublicKeyInfo, PKCS#1 or SEC1. See ``pem(_:algorithm:kid:)``.
    public static func der(
        _ der: [UInt8],
        algorithm: JWSAlgorithm? = nil,
        kid: String? = nil
    ) throws(JOSEError) -> JWSKey {
        let k = try der.withBytes { (b) throws(JOSEError) in try EVPKey.decode(b, pem: false) }
        return try asymmetric(k, algorithm: algorithm, kid: kid)
    }

    static func asymmetric(_ k: EVPKey, algorithm: JWSAlgorithm?, kid: String?) throws(JOSEError) -> JWSKey {
        let alg: JWSAlgorithm
        if let algorithm {
            alg = algorithm
        } else {
            switch k.shape {
            case .rsa: alg = .rs256
            case .ec(let c): alg = c.algorithm
            case .ed25519: alg = .edDSA
            }
        }
        guard k.shape.canServe(alg) else { throw .keyAlgorithmMismatch }
        let id = kid ?? JWK.thumbprint(k)
        return try JWSKey(kid: id, algorithm: alg, material: .asymmetric(k))
    }

    // MARK: Generation

    /// Generates a new private key for an asymmetric `algorithm` (RSA of `rsaBits` bits for
    /// RS*/PS*, the curve of ES*, Ed25519 for EdDSA). For HS* use ``generateHMACSecret(for:)``.
    public static func generate(
        algorithm: JWSAlgorithm,
        kid: String? = nil,
        rsaBits: Int = 2048
    ) throws(JOSEError) -> JWSKey {
        let shape: AsymmetricShape
        switch algorithm.family {
        case .hmac: throw .invalidKey("use generateHMACSecret for HMAC")
        case .rsa:
            guard [2048, 3072, 4096].contains(rsaBits) else { throw .invalidKey("RSA size must be 2048, 3072 or 4096") }
            shape = .rsa(bits: rsaBits)
        case .ec: shape = .ec(algorithm.curve!)
        case .okp: shape = .ed25519
        }
        return try asymmetric(try EVPKey.generate(shape), algorithm: algorithm, kid: kid)
    }

    /// A fresh random HMAC secret as long as the hash output (RFC 7518 §3.2): 32, 48 or 64 bytes.
    public static func generateHMACSecret(for algorithm: JWSAlgorithm) -> [UInt8] {
        SecureRandom.bytes(count: algorithm.family == .hmac ? algorithm.hashLength : 64)
    }

    // MARK: Export

    /// The private key as unencrypted PKCS#8 PEM (RFC 5958, `BEGIN PRIVATE KEY`).
    public func privateKeyPEM() throws(JOSEError) -> [UInt8] {
        guard case .asymmetric(let k) = material else { throw .invalidKey("HMAC keys have no PEM form") }
        return try k.privateKeyPEM()
    }

    /// The public key as SubjectPublicKeyInfo DER (RFC 5280 §4.1.2.7); nil for HMAC keys.
    public func publicKeyDER() -> [UInt8]? {
        guard case .asymmetric(let k) = material else { return nil }
        return k.publicKeyDER()
    }

    /// The public JWK (RFC 7517 §4) as JSON bytes: `kty`, `kid`, `use: "sig"`, `alg` and the
    /// public parameters only. Nil for HMAC keys: secrets are never published.
    public func publicJWK() -> [UInt8]? {
        guard case .asymmetric(let k) = material else { return nil }
        return JWK.publicJSON(k, kid: kid, algorithm: algorithm)
    }

    /// The RFC 7638 JWK thumbprint (base64url SHA-256); nil for HMAC keys.
    public var thumbprint: String? {
        guard case .asymmetric(let k) = material else { return nil }
        return JWK.thumbprint(k)
    }
}
