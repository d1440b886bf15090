/// The shape of an asymmetric key: which algorithms its material can serve (RFC 7518
/// §3.3–3.5, RFC 8037 §3.1). A ``JWSKey`` is bound to exactly one of them.
enum AsymmetricShape: Sendable, Hashable {
    case rsa(bits: Int)
    case ec(ECCurve)
    case ed25519

    var family: JWSAlgorithm.Family {
        switch self {
        case .rsa: return .rsa
        case .ec: return .ec
        case .ed25519: return .okp
        }
    }

    /// RSA material can serve RS*/PS*; EC only the ES algorithm of its curve; Ed25519 only EdDSA.
    func canServe(_ a: JWSAlgorithm) -> Bool {
        switch self {
        case .rsa: return a.family == .rsa
        case .ec(let c): return a == c.algorithm
        case .ed25519: return a == .edDSA
        }
    }

    /// Exact signature length for `a` (RFC 7518 §3.3: modulus size; §3.4: 2 × coordinate).
    func signatureLength(_ a: JWSAlgorithm) -> Int {
        switch self {
        case .rsa(let bits): return (bits + 7) / 8
        case .ec(let c): return 2 * c.coordinateLength
        case .ed25519: return 64
        }
    }
}
