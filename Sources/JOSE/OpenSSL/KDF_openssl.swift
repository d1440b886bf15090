internal import COpenSSL

/// Password-based key derivation through OpenSSL: scrypt (RFC 7914) and PBKDF2 (RFC 8018 §5.2).
enum KDF {
    /// scrypt with N = 2^ln. `maxmem` is passed explicitly: OpenSSL's default (32 MiB) is
    /// below the 128·r·N bytes that ln=17, r=8 needs (128 MiB).
    static func scrypt(
        password: UnsafeRawBufferPointer,
        salt: [UInt8],
        ln: Int,
        r: Int,
        p: Int,
        length: Int
    ) throws(JOSEError) -> [UInt8] {
        let n = UInt64(1) << UInt64(ln)
        let needed = 128 * UInt64(r) * (n + 2) + 128 * UInt64(r) * UInt64(p)
        let maxmem = needed + 1 << 20
        var out = [UInt8](repeating: 0, count: length)
        let rc = out.withUnsafeMutableBufferPointer { o in
            EVP_PBE_scrypt(
                password.baseAddress?.assumingMemoryBound(to: CChar.self),
                password.count,
                salt,
                salt.count,
                n,
                UInt64(r),
                UInt64(p),
                maxmem,
                o.baseAddress,
                length
            )
        }
        guard rc == 1 else {
            ERR_clear_error()
            throw .cryptoFailure("scrypt")
        }
        return out
    }

    /// PBKDF2-HMAC with `hash`.
    static func pbkdf2(
        password: UnsafeRawBufferPointer,
        salt: [UInt8],
        iterations: Int,
        hash: HashFunction,
        length: Int
    ) throws(JOSEError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        let rc = out.withUnsafeMutableBufferPointer { o in
            PKCS5_PBKDF2_HMAC(
                password.baseAddress?.assumingMemoryBound(to: CChar.self),
                Int32(password.count),
                salt,
                Int32(salt.count),
                Int32(iterations),
                hash.md,
                Int32(length),
                o.baseAddress
            )
        }
        guard rc == 1 else {
            ERR_clear_error()
            throw .cryptoFailure("PBKDF2")
        }
        return out
    }
}
