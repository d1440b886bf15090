#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a verified token's claims and header must satisfy (RFC 7519 §4.1, RFC 9068 §4).
public struct ClaimRules: Sendable, Hashable {
    /// Required `iss`, compared exactly (RFC 7519 §4.1.1); nil skips the check.
    public var issuer: String?
    /// Audiences of which `aud` must contain at least one (RFC 7519 §4.1.3); empty skips
    /// the check.
    public var audiences: [String]
    /// The single audience, when there is exactly one (`init(audience:)` sets it that way).
    public var audience: String? { audiences.count == 1 ? audiences[0] : nil }
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds (default 30).
    public var leeway: Double
    /// `exp` must be present (RFC 9068 §2.2: it is for access tokens).
    public var requireExpiration: Bool
    /// The header `typ` must be `at+jwt` or `application/at+jwt`, any case (RFC 9068 §2.1, §4).
    public var requireAccessTokenType: Bool
    /// Accept a token whose `exp` has passed (signature still checked by the verifier, all
    /// other rules still applied): for the access token presented with a refresh request.
    public var acceptExpired: Bool

    public init(
        issuer: String? = nil,
        audience: String? = nil,
        audiences: [String] = [],
        leeway: Double = 30,
        requireExpiration: Bool = true,
        requireAccessTokenType: Bool = true,
        acceptExpired: Bool = false
    ) {
        self.issuer = issuer
        self.audiences = audiences + (audience.map { [$0] } ?? [])
        self.leeway = leeway
        self.requireExpiration = requireExpiration
        self.requireAccessTokenType = requireAccessTokenType
        self.acceptExpired = acceptExpired
    }

    /// The same rules, accepting expired tokens (refresh-token binding check).
    public var allowingExpired: ClaimRules {
        var r = self
        r.acceptExpired = true
        return r
    }
}

/// Applies ``ClaimRules`` to a ``VerifiedJWS`` at an injected time.
///
/// Time is Unix seconds as `Double` (NumericDate, RFC 7519 §2), passed in by the caller so
/// that tests control it. With leeway L: expired when `now >= exp + L`; not yet valid when
/// `now < nbf - L`; issued in the future when `iat > now + L`.
public struct ClaimValidator: Sendable {
    public var rules: ClaimRules

    public init(rules: ClaimRules) { self.rules = rules }

    /// 9999-12-31T23:59:59Z: the last NumericDate accepted.
    public static let latestNumericDate: Double = 253_402_300_799

    /// - Throws: ``JOSEError/typeMismatch``, ``JOSEError/missingClaim(_:)``, ``JOSEError/expired``,
    ///   ``JOSEError/notYetValid``, ``JOSEError/issuedInFuture``, ``JOSEError/issuerMismatch`` or
    ///   ``JOSEError/audienceMismatch``.
    public func validate(_ token: VerifiedJWS, now: Double) throws(JOSEError) {
        if rules.requireAccessTokenType, !token.header.isAccessTokenType { throw .typeMismatch }
        try validate(token.claims, now: now)
    }

    /// Applies the claim rules (not the header `typ` rule) to `claims`.
    public func validate(_ claims: Claims, now: Double) throws(JOSEError) {
        // NumericDates outside 1970...9999 are nobody's real times, and beyond ±9.2e15 s they
        // do not even fit a millisecond Int64: refused here, whatever the other rules say.
        // (Three checks rather than a loop over an array literal, which allocated per token.)
        func inRange(_ v: Double?) -> Bool { v.map { $0 >= 0 && $0 <= ClaimValidator.latestNumericDate } ?? true }
        if !inRange(claims.exp) { throw .invalidClaim("exp") }
        if !inRange(claims.nbf) { throw .invalidClaim("nbf") }
        if !inRange(claims.iat) { throw .invalidClaim("iat") }
        if let exp = claims.exp {
            if !rules.acceptExpired, now >= exp + rules.leeway { throw .expired }
        } else if rules.requireExpiration {
            throw .missingClaim("exp")
        }
        if let nbf = claims.nbf, now < nbf - rules.leeway { throw .notYetValid }
        if let iat = claims.iat, iat > now + rules.leeway { throw .issuedInFuture }
        if let issuer = rules.issuer, claims.iss != issuer {
            throw claims.iss == nil ? .missingClaim("iss") : .issuerMismatch
        }
        if !rules.audiences.isEmpty, !claims.aud.contains(where: rules.audiences.contains) {
            throw claims.aud.isEmpty ? .missingClaim("aud") : .audienceMismatch
        }
    }

    /// The current wall-clock time as Unix seconds (`CLOCK_REALTIME`), for callers without a clock of their own.
    public static func currentTime() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Everything needed to accept an access token: keys, algorithm allow-list, limits and claim rules.
///
///     let verifier = AccessTokenVerifier(keys: keys, allowedAlgorithms: [.es256], rules: rules)
///     let token = try verifier.verify(token: bytes, now: now)
public struct AccessTokenVerifier: Sendable {
    public var keys: JWSKeySet
    public var allowedAlgorithms: JWSAlgorithmSet
    public var limits: JWSLimits
    public var validator: ClaimValidator

    public init(keys: JWSKeySet, allowedAlgorithms: JWSAlgorithmSet, limits: JWSLimits = JWSLimits(), rules: ClaimRules)
    {
        self.keys = keys
        self.allowedAlgorithms = allowedAlgorithms
        self.limits = limits
        self.validator = ClaimValidator(rules: rules)
    }

    /// Verifies the signature, then the claims, at `now` (Unix seconds).
    public func verify(token: UnsafeRawBufferPointer, now: Double) throws(JOSEError) -> VerifiedJWS {
        let v = try keys.verify(token: token, allowedAlgorithms: allowedAlgorithms, limits: limits)
        try validator.validate(v, now: now)
        return v
    }

    /// Verifies a token given as bytes.
    public func verify(token: [UInt8], now: Double) throws(JOSEError) -> VerifiedJWS {
        try token.withBytes { (b) throws(JOSEError) in try verify(token: b, now: now) }
    }
}
