/// The signature primitive under JWS sign and verify: the exact code path of
/// ``JWSKeySet/verify(token:allowedAlgorithms:limits:)``, exposed for vectors and tools.
extension JWSKey {
    /// Verifies a JWS signature (RFC 7515 §5.2 step 8) in its JWS form over `input`.
    ///
    /// Refuses, before any cryptography: an algorithm this key does not serve, a signature
    /// whose length is not exactly that of `algorithm` (HMAC: full hash output; RSA: modulus
    /// size; ECDSA: 2 × coordinate; EdDSA: 64), and ECDSA r or s outside [1, n−1].
    /// HMAC tags are compared in constant time.
    public func verifySignature(
        _ signature: UnsafeRawBufferPointer,
        input: UnsafeRawBufferPointer,
        algorithm: JWSAlgorithm
    ) -> Bool {
        guard accepts(algorithm), signature.count == signatureLength(algorithm) else { return false }
        switch material {
        case .hmac(let k):
            return k.verify(HMACKey.hash(algorithm), tag: signature, input: input)
        case .asymmetric(let k):
            if algorithm.family == .ec {
                // RFC 7518 §3.4: r ‖ s, each exactly the coordinate length; both in [1, n-1].
                let half = signature.count / 2
                guard DER.inScalarRange(UnsafeRawBufferPointer(rebasing: signature[0..<half]), order: k.ecOrder),
                    DER.inScalarRange(UnsafeRawBufferPointer(rebasing: signature[half...]), order: k.ecOrder)
                else { return false }
                return k.verifyECDSA(algorithm, raw: signature, input: input)
            }
            return k.verify(algorithm, signature: signature, input: input)
        }
    }

    /// Verifies a JWS signature given as bytes.
    public func verifySignature(_ signature: [UInt8], input: [UInt8], algorithm: JWSAlgorithm) -> Bool {
        signature.withUnsafeBytes { s in
            input.withUnsafeBytes { i in verifySignature(s, input: i, algorithm: algorithm) }
        }
    }

    /// Signs `input` and returns the JWS signature (RFC 7515 §5.1 step 5): for ES*, raw r ‖ s
    /// converted from OpenSSL's DER (RFC 7518 §3.4).
    public func sign(_ input: UnsafeRawBufferPointer, algorithm: JWSAlgorithm? = nil) throws(JOSEError) -> [UInt8] {
        let a = algorithm ?? self.algorithm
        guard accepts(a) else { throw .keyAlgorithmMismatch }
        switch material {
        case .hmac(let k):
            return [UInt8](unsafeUninitializedCapacity: 64) { buf, n in
                n = k.authenticate(HMACKey.hash(a), input, into: buf.baseAddress!)
            }
        case .asymmetric(let k):
            let sig = try k.sign(a, input: input)
            guard case .ec(let c) = k.shape else { return sig }
            guard let raw = DER.ecdsaSignature(der: sig, componentLength: c.coordinateLength) else {
                throw .cryptoFailure("ECDSA signature encoding")
            }
            return raw
        }
    }

    /// Signs bytes; see ``sign(_:algorithm:)-(UnsafeRawBufferPointer,_)``.
    public func sign(_ input: [UInt8], algorithm: JWSAlgorithm? = nil) throws(JOSEError) -> [UInt8] {
        try input.withBytes { (b) throws(JOSEError) in try sign(b, algorithm: algorithm) }
    }

    /// Produces a compact JWS (RFC 7515 §7.1) of `payload` with header
    /// `{"alg":<this key's algorithm>,"typ":typ,"kid":<this key's kid>}`.
    public func signCompact(payload: [UInt8], typ: String? = "at+jwt") throws(JOSEError) -> [UInt8] {
        guard canSign else { throw .invalidKey("not a signing key") }
        let header = JWSHeader(algorithm: algorithm, kid: kid, typ: typ).json()
        var out = [UInt8]()
        let sigLength = Base64URL.encodedLength(signatureLength(algorithm))
        out.reserveCapacity(
            Base64URL.encodedLength(header.count) + Base64URL.encodedLength(payload.count) + sigLength + 2
        )
        Base64URL.append(header, to: &out)
        out.append(UInt8(ascii: "."))
        Base64URL.append(payload, to: &out)
        let signature = try out.withBytes { (b) throws(JOSEError) in try sign(b) }
        out.append(UInt8(ascii: "."))
        Base64URL.append(signature, to: &out)
        return out
    }
}

extension HMACKey {
    static func hash(_ a: JWSAlgorithm) -> HashFunction {
        switch a.hashLength {
        case 32: return .sha256
        case 48: return .sha384
        default: return .sha512
        }
    }
}
