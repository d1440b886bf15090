/// Just enough DER (X.690) to build SubjectPublicKeyInfo and private-key structures from JWK
/// parameters, and to convert ECDSA signatures between DER and the JWS form.
enum DER {
    static func length(_ n: Int) -> [UInt8] {
        if n < 0x80 { return [UInt8(n)] }
        var bytes = [UInt8]()
        var v = n
        while v > 0 {
            bytes.insert(UInt8(v & 0xFF), at: 0)
            v >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] { [tag] + length(content.count) + content }

    static func sequence(_ parts: [UInt8]...) -> [UInt8] { tlv(0x30, parts.flatMap { $0 }) }

    /// A non-negative INTEGER from big-endian magnitude bytes.
    static func integer<C: Collection>(unsigned magnitude: C) -> [UInt8] where C.Element == UInt8 {
        var m = Array(magnitude.drop(while: { $0 == 0 }))
        if m.isEmpty { m = [0] }
        if m[0] & 0x80 != 0 { m.insert(0, at: 0) }
        return tlv(0x02, m)
    }

    static func integer(_ small: Int) -> [UInt8] { tlv(0x02, [UInt8(small)]) }
    static func octetString(_ b: [UInt8]) -> [UInt8] { tlv(0x04, b) }
    static func bitString(_ b: [UInt8]) -> [UInt8] { tlv(0x03, [0] + b) }
    static let null: [UInt8] = [0x05, 0x00]
    static func contextTagged(_ n: UInt8, _ content: [UInt8]) -> [UInt8] { tlv(0xA0 | n, content) }

    static let oidRSAEncryption: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]
    static let oidECPublicKey: [UInt8] = [0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]
    static let oidEd25519: [UInt8] = [0x06, 0x03, 0x2B, 0x65, 0x70]

    static func oid(_ curve: ECCurve) -> [UInt8] {
        switch curve {
        case .p256: return [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
        case .p384: return [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22]
        case .p521: return [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23]
        }
    }

    /// SubjectPublicKeyInfo (RFC 5280 §4.1) for an RSA key (RFC 8017 A.1.1).
    static func rsaPublicKey(n: [UInt8], e: [UInt8]) -> [UInt8] {
        sequence(sequence(oidRSAEncryption, null), bitString(sequence(integer(unsigned: n), integer(unsigned: e))))
    }

    /// RSAPrivateKey (RFC 8017 A.1.2), two-prime.
    static func rsaPrivateKey(
        _ n: [UInt8],
        _ e: [UInt8],
        _ d: [UInt8],
        _ p: [UInt8],
        _ q: [UInt8],
        _ dp: [UInt8],
        _ dq: [UInt8],
        _ qi: [UInt8]
    ) -> [UInt8] {
        sequence(
            integer(0),
            integer(unsigned: n),
            integer(unsigned: e),
            integer(unsigned: d),
            integer(unsigned: p),
            integer(unsigned: q),
            integer(unsigned: dp),
            integer(unsigned: dq),
            integer(unsigned: qi)
        )
    }

    /// SubjectPublicKeyInfo for an EC key (RFC 5480 §2) from an uncompressed point.
    static func ecPublicKey(curve: ECCurve, x: [UInt8], y: [UInt8]) -> [UInt8] {
        sequence(sequence(oidECPublicKey, oid(curve)), bitString([0x04] + x + y))
    }

    /// ECPrivateKey (RFC 5915 §3) with parameters and public key.
    static func ecPrivateKey(curve: ECCurve, d: [UInt8], x: [UInt8], y: [UInt8]) -> [UInt8] {
        sequence(integer(1), octetString(d), contextTagged(0, oid(curve)), contextTagged(1, bitString([0x04] + x + y)))
    }

    /// SubjectPublicKeyInfo for Ed25519 (RFC 8410 §4).
    static func ed25519PublicKey(_ x: [UInt8]) -> [UInt8] { sequence(sequence(oidEd25519), bitString(x)) }

    /// JWS ECDSA signature `r ‖ s` (RFC 7518 §3.4) to DER `ECDSA-Sig-Value` (RFC 3279 §2.2.3).
    /// The caller has checked the length (2 × coordinate length).
    static func ecdsaSignature(raw: UnsafeRawBufferPointer) -> [UInt8] {
        let half = raw.count / 2
        return sequence(integer(unsigned: raw[0..<half]), integer(unsigned: raw[half...]))
    }

    /// DER `ECDSA-Sig-Value` to JWS `r ‖ s`, each left-padded to `componentLength`.
    /// Returns nil for anything but one strict DER SEQUENCE of two positive INTEGERs that fit.
    static func ecdsaSignature(der: [UInt8], componentLength: Int) -> [UInt8]? {
        var i = 0
        func readLength() -> Int? {
            guard i < der.count else { return nil }
            let b = der[i]
            i += 1
            if b < 0x80 { return Int(b) }
            let k = Int(b & 0x7F)
            guard k >= 1, k <= 2, i + k <= der.count else { return nil }
            var v = 0
            for _ in 0..<k {
                v = v << 8 | Int(der[i])
                i += 1
            }
            return v < 0x80 ? nil : v
        }
        func readInteger() -> ArraySlice<UInt8>? {
            guard i < der.count, der[i] == 0x02 else { return nil }
            i += 1
            guard let len = readLength(), len >= 1, i + len <= der.count else { return nil }
            var v = der[i..<(i + len)]
            i += len
            guard v.first! & 0x80 == 0 else { return nil }  // negative
            if v.count > 1, v.first! == 0 {
                guard v[v.startIndex + 1] & 0x80 != 0 else { return nil }  // non-minimal
                v = v.dropFirst()
            }
            return v.count <= componentLength ? v : nil
        }
        guard der.first == 0x30 else { return nil }
        i = 1
        guard let total = readLength(), i + total == der.count else { return nil }
        guard let r = readInteger(), let s = readInteger(), i == der.count else { return nil }
        var out = [UInt8](repeating: 0, count: 2 * componentLength)
        out.replaceSubrange((componentLength - r.count)..<componentLength, with: r)
        out.replaceSubrange((2 * componentLength - s.count)..<(2 * componentLength), with: s)
        return out
    }

    /// True if the big-endian `value` (of the order's length) is in `[1, order - 1]`.
    static func inScalarRange(_ value: UnsafeRawBufferPointer, order: [UInt8]) -> Bool {
        guard value.count == order.count else { return false }
        var nonZero = false
        var decided = false
        var less = false
        for k in 0..<value.count {
            let v = value[k], o = order[k]
            if v != 0 { nonZero = true }
            if !decided, v != o {
                decided = true
                less = v < o
            }
        }
        return nonZero && decided && less
    }
}
