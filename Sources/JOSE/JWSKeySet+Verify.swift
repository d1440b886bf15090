#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension JWSKeySet {
    /// Verifies a compact JWS (RFC 7515 §5.2, §7.1) and scans its claims.
    ///
    /// Checks, in order: size limits; exactly three segments; strict base64url (no padding,
    /// canonical); header a JSON object without duplicates or `crit`; `alg` not `none`, in
    /// `allowedAlgorithms`; a key for `kid`/`alg` of the right family; signature of exact
    /// length that verifies; payload a strict JSON object. Claims are *not* validated here:
    /// use ``ClaimValidator``. `jku`, `x5u`, `jwk` and `x5c` are ignored (RFC 8725 §3.10).
    ///
    /// - Parameter token: the token bytes (e.g. a slice of the request buffer).
    public func verify(
        token: UnsafeRawBufferPointer,
        allowedAlgorithms: JWSAlgorithmSet,
        limits: JWSLimits = JWSLimits()
    ) throws(JOSEError) -> VerifiedJWS {
        let (header, payload, kid) = try verifyCompact(token, allowedAlgorithms, limits)
        let claims = try ClaimsScanner.scan(payload, maxDepth: limits.maxDepth)
        return VerifiedJWS(header: header, claims: claims, keyID: kid)
    }

    /// Verifies a compact JWS whose payload need not be JSON (RFC 7515 §5.2): the same checks
    /// as ``verify(token:allowedAlgorithms:limits:)-(UnsafeRawBufferPointer,_,_)`` but the
    /// payload is returned as bytes, unscanned.
    public func verifyJWS(
        token: UnsafeRawBufferPointer,
        allowedAlgorithms: JWSAlgorithmSet,
        limits: JWSLimits = JWSLimits()
    ) throws(JOSEError) -> (header: JWSHeader, payload: [UInt8]) {
        let (header, payload, _) = try verifyCompact(token, allowedAlgorithms, limits)
        return (header, payload)
    }

    /// Verifies a compact JWS given as bytes; the payload need not be JSON.
    public func verifyJWS(
        token: [UInt8],
        allowedAlgorithms: JWSAlgorithmSet,
        limits: JWSLimits = JWSLimits()
    ) throws(JOSEError) -> (header: JWSHeader, payload: [UInt8]) {
        try token.withBytes { (b) throws(JOSEError) in
            try verifyJWS(token: b, allowedAlgorithms: allowedAlgorithms, limits: limits)
        }
    }

    private func verifyCompact(
        _ token: UnsafeRawBufferPointer,
        _ allowedAlgorithms: JWSAlgorithmSet,
        _ limits: JWSLimits
    ) throws(JOSEError) -> (JWSHeader, [UInt8], String) {
        let n = token.count
        guard n <= limits.maxTokenBytes else { throw .tooLarge("token") }
        guard n > 0, let base = token.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw .malformed("empty token")
        }
        guard let dot1 = memchr(base, 0x2E, n) else { throw .malformed("not a compact JWS") }
        let h = UnsafeRawPointer(dot1) - UnsafeRawPointer(base)
        guard let dot2 = memchr(base + h + 1, 0x2E, n - h - 1) else { throw .malformed("not a compact JWS") }
        let d2 = UnsafeRawPointer(dot2) - UnsafeRawPointer(base)
        guard memchr(base + d2 + 1, 0x2E, n - d2 - 1) == nil else { throw .malformed("not a compact JWS") }
        guard h > 0, d2 > h + 1 else { throw .malformed("empty header or payload") }

        // Header.
        guard let headerLength = Base64URL.decodedLength(h) else { throw .malformed("base64url") }
        guard headerLength <= limits.maxHeaderBytes else { throw .tooLarge("header") }
        let header = try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: headerLength) {
            (buf) throws(JOSEError) -> JWSHeader in
            guard let w = Base64URL.decode(UnsafeRawBufferPointer(start: base, count: h), into: buf.baseAddress!) else {
                throw .malformed("base64url")
            }
            return try JWSHeader.parse(
                UnsafeRawBufferPointer(start: buf.baseAddress, count: w),
                maxDepth: limits.maxDepth
            )
        }
        let alg = header.algorithm
        guard allowedAlgorithms.contains(alg) else { throw .algorithmNotAllowed }
        let key = try key(kid: header.kid, algorithm: alg)

        // Payload length before any cryptography.
        let payloadChars = d2 - h - 1
        guard let payloadLength = Base64URL.decodedLength(payloadChars) else { throw .malformed("base64url") }
        guard payloadLength <= limits.maxPayloadBytes else { throw .tooLarge("claims") }

        // Signature.
        // A segment of any other length than the algorithm's exact signature (padding included)
        // is a bad signature; one of the right length that is not canonical base64url is malformed.
        let sigChars = n - d2 - 1
        let sigLength = key.signatureLength(alg)
        guard sigChars == Base64URL.encodedLength(sigLength) else { throw .badSignature }
        let good = try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(sigLength, 1)) {
            (buf) throws(JOSEError) -> Bool in
            guard
                Base64URL.decode(UnsafeRawBufferPointer(start: base + d2 + 1, count: sigChars), into: buf.baseAddress!)
                    != nil
            else { throw .malformed("base64url") }
            return key.verifySignature(
                UnsafeRawBufferPointer(start: buf.baseAddress, count: sigLength),
                input: UnsafeRawBufferPointer(start: base, count: d2),
                algorithm: alg
            )
        }
        guard good else { throw .badSignature }

        // Payload: decoded and scanned only once the signature holds.
        var ok = true
        let payload = [UInt8](unsafeUninitializedCapacity: payloadLength) { buf, count in
            if let w = Base64URL.decode(
                UnsafeRawBufferPointer(start: base + h + 1, count: payloadChars),
                into: buf.baseAddress!
            ) {
                count = w
            } else {
                ok = false
                count = 0
            }
        }
        guard ok else { throw .malformed("base64url") }
        return (header, payload, key.kid)
    }

    /// Verifies a token given as bytes.
    public func verify(
        token: [UInt8],
        allowedAlgorithms: JWSAlgorithmSet,
        limits: JWSLimits = JWSLimits()
    ) throws(JOSEError) -> VerifiedJWS {
        try token.withBytes { (b) throws(JOSEError) in
            try verify(token: b, allowedAlgorithms: allowedAlgorithms, limits: limits)
        }
    }

    /// Verifies a token given as a slice of a larger buffer.
    public func verify(
        token: ArraySlice<UInt8>,
        allowedAlgorithms: JWSAlgorithmSet,
        limits: JWSLimits = JWSLimits()
    ) throws(JOSEError) -> VerifiedJWS {
        try token.withBytes { (b) throws(JOSEError) in
            try verify(token: b, allowedAlgorithms: allowedAlgorithms, limits: limits)
        }
    }

    /// Verifies a token given as a `String`.
    public func verify(
        token: String,
        allowedAlgorithms: JWSAlgorithmSet,
        limits: JWSLimits = JWSLimits()
    ) throws(JOSEError) -> VerifiedJWS {
        try verify(token: Array(token.utf8), allowedAlgorithms: allowedAlgorithms, limits: limits)
    }
}
