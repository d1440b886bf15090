internal import COpenSSL

/// AES-256-GCM (NIST SP 800-38D) with a random 96-bit nonce.
///
/// A sealed box is `nonce (12) ‖ ciphertext ‖ tag (16)`. With random nonces, one key should
/// seal fewer than 2^32 messages (SP 800-38D §8.3); rotate keys well before that.
public struct AESGCM: Sendable {
    public static let keyLength = 32
    public static let nonceLength = 12
    public static let tagLength = 16

    private let key: [UInt8]

    /// - Throws: ``JOSEError/invalidKey(_:)`` unless `key` is 32 bytes.
    public init(key: [UInt8]) throws(JOSEError) {
        guard key.count == AESGCM.keyLength else { throw .invalidKey("AES-256-GCM key must be 32 bytes") }
        self.key = key
    }

    /// A key from 32 fresh random bytes.
    public static func randomKey() -> AESGCM { try! AESGCM(key: SecureRandom.bytes(count: keyLength)) }

    /// Encrypts and authenticates `plaintext` (and `aad`, which is not encrypted).
    public func seal(_ plaintext: [UInt8], aad: [UInt8] = []) throws(JOSEError) -> [UInt8] {
        guard let cipher = OpenSSLAlgorithms.aes256gcm else { throw .cryptoFailure("AES-256-GCM fetch") }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw .cryptoFailure("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        let nonce = SecureRandom.bytes(count: AESGCM.nonceLength)
        var out = nonce + [UInt8](repeating: 0, count: plaintext.count + AESGCM.tagLength)
        let ok = out.withUnsafeMutableBufferPointer { o -> Bool in
            let base = o.baseAddress!
            var n: Int32 = 0
            guard EVP_EncryptInit_ex2(ctx, cipher, key, nonce, nil) == 1 else { return false }
            if !aad.isEmpty, EVP_EncryptUpdate(ctx, nil, &n, aad, Int32(aad.count)) != 1 { return false }
            if !plaintext.isEmpty {
                guard EVP_EncryptUpdate(ctx, base + AESGCM.nonceLength, &n, plaintext, Int32(plaintext.count)) == 1
                else { return false }
            }
            guard EVP_EncryptFinal_ex(ctx, base + AESGCM.nonceLength + plaintext.count, &n) == 1 else { return false }
            return EVP_CIPHER_CTX_ctrl(
                ctx,
                EVP_CTRL_AEAD_GET_TAG,
                Int32(AESGCM.tagLength),
                base + AESGCM.nonceLength + plaintext.count
            ) == 1
        }
        guard ok else {
            ERR_clear_error()
            throw .cryptoFailure("AES-GCM seal")
        }
        return out
    }

    /// Authenticates and decrypts a box made by ``seal(_:aad:)``.
    /// - Throws: ``JOSEError/decryptionFailed`` if the box, the key or `aad` do not match.
    public func open(_ box: [UInt8], aad: [UInt8] = []) throws(JOSEError) -> [UInt8] {
        guard box.count >= AESGCM.nonceLength + AESGCM.tagLength else { throw .decryptionFailed }
        guard let cipher = OpenSSLAlgorithms.aes256gcm else { throw .cryptoFailure("AES-256-GCM fetch") }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw .cryptoFailure("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        let ctLength = box.count - AESGCM.nonceLength - AESGCM.tagLength
        var out = [UInt8](repeating: 0, count: ctLength)
        let ok = box.withUnsafeBufferPointer { b -> Bool in
            let base = b.baseAddress!
            var tag = Array(b[(AESGCM.nonceLength + ctLength)...])
            return out.withUnsafeMutableBufferPointer { o -> Bool in
                var n: Int32 = 0
                guard EVP_DecryptInit_ex2(ctx, cipher, key, base, nil) == 1 else { return false }
                if !aad.isEmpty, EVP_DecryptUpdate(ctx, nil, &n, aad, Int32(aad.count)) != 1 { return false }
                if ctLength > 0 {
                    guard EVP_DecryptUpdate(ctx, o.baseAddress, &n, base + AESGCM.nonceLength, Int32(ctLength)) == 1
                    else { return false }
                }
                guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, Int32(AESGCM.tagLength), &tag) == 1 else {
                    return false
                }
                var fin = [UInt8](repeating: 0, count: 16)
                return EVP_DecryptFinal_ex(ctx, &fin, &n) == 1
            }
        }
        guard ok else {
            ERR_clear_error()
            ConstantTime.wipe(&out)
            throw .decryptionFailed
        }
        return out
    }
}
