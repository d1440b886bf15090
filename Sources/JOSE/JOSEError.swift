/// What went wrong while parsing, verifying or validating a JWS, or while loading a key.
///
/// Reasons are fixed texts written in this module: an error never carries token bytes,
/// claim values or key material, so it is always safe to log.
public enum JOSEError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The token, its header or its claims are not well formed (RFC 7515 §5.2, RFC 8259).
    case malformed(String)
    /// A size limit was exceeded (whole token, header or claims JSON).
    case tooLarge(String)
    /// `alg` is `none` in some casing (RFC 8725 §3.1: never accepted).
    case algorithmNone
    /// `alg` names an algorithm this module does not implement.
    case unsupportedAlgorithm
    /// `alg` is implemented but not in the caller's allow-list (RFC 8725 §3.1).
    case algorithmNotAllowed
    /// No key with the token's `kid`, or no single key for `alg` when `kid` is absent.
    case unknownKey
    /// The selected key is bound to another algorithm than `alg`, or (at load) its material
    /// cannot serve `alg` (RFC 8725 §3.1, §3.2: one key, one algorithm; no algorithm confusion).
    case keyAlgorithmMismatch
    /// The signature does not verify, or has the wrong length for `alg`.
    case badSignature
    /// The header carries `crit` (RFC 7515 §4.1.11): no extension is understood here.
    case unsupportedCritical
    /// A claim the rules require is absent (for example `exp` on an access token).
    case missingClaim(String)
    /// A registered claim has the wrong JSON type (for example `exp` as a string).
    case invalidClaim(String)
    /// `exp` has passed, leeway included (RFC 7519 §4.1.4).
    case expired
    /// `nbf` lies in the future, leeway included (RFC 7519 §4.1.5).
    case notYetValid
    /// `iat` lies in the future, leeway included (RFC 7519 §4.1.6).
    case issuedInFuture
    /// `iss` differs from the configured issuer (RFC 7519 §4.1.1).
    case issuerMismatch
    /// `aud` does not contain the configured audience (RFC 7519 §4.1.3).
    case audienceMismatch
    /// The header `typ` is not the one required (RFC 9068 §2.1, `at+jwt`).
    case typeMismatch
    /// A key could not be loaded or is unfit (too short, too small, wrong curve, ...).
    case invalidKey(String)
    /// A stored password hash string is not understood.
    case invalidPasswordHash(String)
    /// AES-GCM authentication failed: wrong key, wrong data or tampered box.
    case decryptionFailed
    /// OpenSSL failed where it should not (allocation, internal error).
    case cryptoFailure(String)

    /// A stable, low-cardinality name of the case (`"malformed"`, `"expired"`, ...), for
    /// metrics and logs (for example a `denied_<code>` counter).
    public var code: String {
        switch self {
        case .malformed: return "malformed"
        case .tooLarge: return "too_large"
        case .algorithmNone: return "algorithm_none"
        case .unsupportedAlgorithm: return "unsupported_algorithm"
        case .algorithmNotAllowed: return "algorithm_not_allowed"
        case .unknownKey: return "unknown_key"
        case .keyAlgorithmMismatch: return "key_algorithm_mismatch"
        case .badSignature: return "bad_signature"
        case .unsupportedCritical: return "unsupported_critical"
        case .missingClaim: return "missing_claim"
        case .invalidClaim: return "invalid_claim"
        case .expired: return "expired"
        case .notYetValid: return "not_yet_valid"
        case .issuedInFuture: return "issued_in_future"
        case .issuerMismatch: return "issuer_mismatch"
        case .audienceMismatch: return "audience_mismatch"
        case .typeMismatch: return "type_mismatch"
        case .invalidKey: return "invalid_key"
        case .invalidPasswordHash: return "invalid_password_hash"
        case .decryptionFailed: return "decryption_failed"
        case .cryptoFailure: return "crypto_failure"
        }
    }

    public var description: String {
        switch self {
        case .malformed(let r): return "malformed token: \(r)"
        case .tooLarge(let r): return "too large: \(r)"
        case .algorithmNone: return "algorithm none is never accepted"
        case .unsupportedAlgorithm: return "unsupported algorithm"
        case .algorithmNotAllowed: return "algorithm not allowed"
        case .unknownKey: return "unknown key"
        case .keyAlgorithmMismatch: return "key does not fit the algorithm"
        case .badSignature: return "bad signature"
        case .unsupportedCritical: return "unsupported critical header"
        case .missingClaim(let c): return "missing claim \(c)"
        case .invalidClaim(let c): return "invalid claim \(c)"
        case .expired: return "token expired"
        case .notYetValid: return "token not yet valid"
        case .issuedInFuture: return "token issued in the future"
        case .issuerMismatch: return "issuer mismatch"
        case .audienceMismatch: return "audience mismatch"
        case .typeMismatch: return "token type mismatch"
        case .invalidKey(let r): return "invalid key: \(r)"
        case .invalidPasswordHash(let r): return "invalid password hash: \(r)"
        case .decryptionFailed: return "decryption failed"
        case .cryptoFailure(let r): return "crypto failure: \(r)"
        }
    }
}
