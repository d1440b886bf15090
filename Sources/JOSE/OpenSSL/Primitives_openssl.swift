internal import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's DRBG (`RAND_bytes`).
public enum SecureRandom {
    /// `count` random bytes. Traps if the DRBG fails: no caller can continue safely without
    /// randomness (the same policy as Swift's `SystemRandomNumberGenerator`).
    public static func bytes(count: Int) -> [UInt8] {
        precondition(count >= 0)
        return [UInt8](unsafeUninitializedCapacity: count) { buf, n in
            fill(UnsafeMutableRawBufferPointer(buf))
            n = count
        }
    }

    /// Fills `buffer` with random bytes.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        guard RAND_bytes(base.assumingMemoryBound(to: UInt8.self), Int32(buffer.count)) == 1 else {
            fatalError("RAND_bytes failed")
        }
    }
}

/// SHA-256 (FIPS 180-4).
public enum SHA256 {
    /// The 32-byte digest of `data`.
    public static func hash(_ data: UnsafeRawBufferPointer) -> [UInt8] { Digest.hash(.sha256, data) }
    /// The 32-byte digest of `data`.
    public static func hash(_ data: [UInt8]) -> [UInt8] { data.withUnsafeBytes { hash($0) } }
    /// The 32-byte digest of the UTF-8 bytes of `text`.
    public static func hash(_ text: String) -> [UInt8] { hash(Array(text.utf8)) }
}

/// One-shot SHA-2 digests.
public enum Digest {
    /// The digest of `data` with `function`.
    public static func hash(_ function: HashFunction, _ data: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 64) { buf, count in
            var n: UInt32 = 0
            guard
                EVP_Digest(
                    data.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!,
                    data.count,
                    buf.baseAddress,
                    &n,
                    function.md,
                    nil
                ) == 1
            else { fatalError("EVP_Digest failed") }
            count = Int(n)
        }
    }
}

/// Comparison whose time does not depend on where the inputs differ.
public enum ConstantTime {
    /// True if `a` and `b` are equal. Time depends on the length only (lengths are not secret).
    public static func equals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard a.count > 0 else { return true }
        return CRYPTO_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
    }

    /// True if `a` and `b` are equal, in constant time for equal lengths.
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in equals(x, y) } }
    }

    /// Overwrites `buffer` with zeros in a way the compiler cannot elide (`OPENSSL_cleanse`).
    public static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        OPENSSL_cleanse(base, buffer.count)
    }

    /// Overwrites the bytes of `array` with zeros.
    public static func wipe(_ array: inout [UInt8]) {
        array.withUnsafeMutableBytes { wipe($0) }
    }
}
