internal import COpenSSL

/// Owns one `EVP_PKEY` (public, or private with its public half) and, per algorithm it
/// serves, a verification template: an `EVP_MD_CTX` already through `EVP_DigestVerifyInit`,
/// copied per call so that the hot path neither fetches algorithms nor builds contexts.
///
/// Immutable after init, so it is shared across threads: OpenSSL allows concurrent reads of
/// an `EVP_PKEY` and concurrent `EVP_MD_CTX_copy_ex` from one source context.
final class EVPKey: @unchecked Sendable {
    let pkey: OpaquePointer
    let shape: AsymmetricShape
    let isPrivate: Bool
    /// Indexed by `JWSAlgorithm.rawValue`; nil where the key does not serve the algorithm.
    private let templates: [OpaquePointer?]
    /// Group order (big-endian, coordinate length) for the ECDSA scalar range check.
    let ecOrder: [UInt8]
    /// P-256 keys: the precomputed table ES256 verification moves to once the key is in use.
    let p256Table: P256KeyTableSlot?

    /// Takes ownership of `pkey` (freed on failure too).
    init(taking pkey: OpaquePointer) throws(JOSEError) {
        var ok = false
        defer { if !ok { EVP_PKEY_free(pkey) } }
        let shape: AsymmetricShape
        switch EVP_PKEY_get_base_id(pkey) {
        case EVP_PKEY_RSA:
            let bits = Int(EVP_PKEY_get_bits(pkey))
            guard bits >= 2048 else { throw .invalidKey("RSA keys must have at least 2048 bits") }
            guard bits <= 16384 else { throw .invalidKey("RSA key too large") }
            try RSAPublicKeyCheck.check(
                modulus: EVPKey.bnParam(pkey, OSSL_PKEY_PARAM_RSA_N),
                exponent: EVPKey.bnParam(pkey, OSSL_PKEY_PARAM_RSA_E)
            )
            shape = .rsa(bits: bits)
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            var len = 0
            guard EVP_PKEY_get_group_name(pkey, &name, name.count, &len) == 1 else {
                ERR_clear_error()
                throw .invalidKey("EC key without a named curve")
            }
            switch String(decoding: name.prefix(len).map { UInt8(bitPattern: $0) }, as: UTF8.self) {
            case "prime256v1", "P-256": shape = .ec(.p256)
            case "secp384r1", "P-384": shape = .ec(.p384)
            case "secp521r1", "P-521": shape = .ec(.p521)
            default: throw .invalidKey("unsupported EC curve")
            }
        case EVP_PKEY_ED25519:
            shape = .ed25519
        default:
            throw .invalidKey("unsupported key type")
        }
        self.pkey = pkey
        self.shape = shape
        self.isPrivate = EVPKey.hasPrivateComponent(pkey, shape)
        if case .ec(let c) = shape {
            ecOrder = EVPKey.groupOrder(c)
            guard ecOrder.count == c.coordinateLength else { throw .cryptoFailure("EC group order") }
            // RFC 8725 §3.4 / invalid-curve attacks: the public point must lie on the curve.
            guard let ctx = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else { throw .cryptoFailure("EVP_PKEY_CTX") }
            defer { EVP_PKEY_CTX_free(ctx) }
            guard EVP_PKEY_public_check(ctx) == 1 else {
                ERR_clear_error()
                throw .invalidKey("EC public key check failed")
            }
        } else {
            ecOrder = []
        }
        p256Table = shape == .ec(.p256) ? EVPKey.publicPoint(pkey).map(P256KeyTableSlot.init) : nil
        var t = [OpaquePointer?](repeating: nil, count: JWSAlgorithm.allCases.count)
        var built = true
        for a in JWSAlgorithm.allCases where shape.canServe(a) {
            t[Int(a.rawValue)] = EVPKey.makeContext(pkey, a, sign: false)
            if t[Int(a.rawValue)] == nil { built = false }
        }
        templates = t
        guard built else {
            for c in t { EVP_MD_CTX_free(c) }
            ERR_clear_error()
            throw .invalidKey("key cannot verify")
        }
        ok = true
    }

    deinit {
        for c in templates { EVP_MD_CTX_free(c) }
        EVP_PKEY_free(pkey)
    }

    private static func hasPrivateComponent(_ pkey: OpaquePointer, _ shape: AsymmetricShape) -> Bool {
        defer { ERR_clear_error() }
        switch shape {
        case .rsa, .ec:
            var bn: OpaquePointer?
            let name = shape.family == .rsa ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY
            let ok = EVP_PKEY_get_bn_param(pkey, name, &bn) == 1
            BN_clear_free(bn)
            return ok
        case .ed25519:
            var len = 0
            return EVP_PKEY_get_raw_private_key(pkey, nil, &len) == 1 && len == 32
        }
    }

    /// The encoded EC public point (SEC 1 §2.3.3), as the key holds it.
    private static func publicPoint(_ pkey: OpaquePointer) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 133)
        var len = 0
        guard EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, &out, out.count, &len) == 1 else {
            ERR_clear_error()
            return nil
        }
        return Array(out.prefix(len))
    }

    private static func groupOrder(_ c: ECCurve) -> [UInt8] {
        let nid: Int32
        switch c {
        case .p256: nid = NID_X9_62_prime256v1
        case .p384: nid = NID_secp384r1
        case .p521: nid = NID_secp521r1
        }
        guard let g = EC_GROUP_new_by_curve_name(nid) else { return [] }
        defer { EC_GROUP_free(g) }
        guard let order = EC_GROUP_get0_order(g) else { return [] }
        var out = [UInt8](repeating: 0, count: c.coordinateLength)
        guard BN_bn2binpad(order, &out, Int32(out.count)) == Int32(out.count) else { return [] }
        return out
    }

    static func digest(_ a: JWSAlgorithm) -> OpaquePointer? {
        switch a {
        case .edDSA: return nil
        default:
            switch a.hashLength {
            case 32: return EVP_sha256()
            case 48: return EVP_sha384()
            default: return EVP_sha512()
            }
        }
    }

    /// A fresh `EVP_MD_CTX` through `EVP_DigestVerifyInit`/`EVP_DigestSignInit` for `a`,
    /// with RSASSA-PSS padding, MGF1 over the same hash and salt = hash length for PS*
    /// (RFC 7518 §3.5).
    private static func makeContext(_ pkey: OpaquePointer, _ a: JWSAlgorithm, sign: Bool) -> OpaquePointer? {
        guard let ctx = EVP_MD_CTX_new() else { return nil }
        var pctx: OpaquePointer?
        let md = digest(a)
        let rc = sign ? EVP_DigestSignInit(ctx, &pctx, md, nil, pkey) : EVP_DigestVerifyInit(ctx, &pctx, md, nil, pkey)
        guard rc == 1, let pctx else {
            EVP_MD_CTX_free(ctx)
            return nil
        }
        if a == .ps256 || a == .ps384 || a == .ps512 {
            guard EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1,
                EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1,
                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1
            else {
                EVP_MD_CTX_free(ctx)
                return nil
            }
        } else if a.family == .rsa {
            guard EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 else {
                EVP_MD_CTX_free(ctx)
                return nil
            }
        }
        return ctx
    }

    /// Verifies an OpenSSL-format signature (DER for ECDSA) over `input` with `a`.
    func verify(_ a: JWSAlgorithm, signature: UnsafeRawBufferPointer, input: UnsafeRawBufferPointer) -> Bool {
        guard let template = templates[Int(a.rawValue)] else { return false }
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_MD_CTX_copy_ex(ctx, template) == 1 else {
            ERR_clear_error()
            return false
        }
        // The copy is ours alone: let the final step use it in place instead of duplicating it again.
        EVP_MD_CTX_set_flags(ctx, EVP_MD_CTX_FLAG_FINALISE)
        let rc = EVP_DigestVerify(
            ctx,
            signature.baseAddress?.assumingMemoryBound(to: UInt8.self),
            signature.count,
            input.baseAddress?.assumingMemoryBound(to: UInt8.self),
            input.count
        )
        if rc != 1 {
            ERR_clear_error()
            return false
        }
        return true
    }

    /// Verifies a JWS ECDSA signature (`r ‖ s`, RFC 7518 §3.4) over `input` with `a`: through
    /// the key's P-256 table once it is built, else `EVP_DigestVerify` on the DER form.
    func verifyECDSA(_ a: JWSAlgorithm, raw: UnsafeRawBufferPointer, input: UnsafeRawBufferPointer) -> Bool {
        if a == .es256, let table = p256Table?.table { return table.verify(signature: raw, input: input) }
        let der = DER.ecdsaSignature(raw: raw)
        let ok = der.withUnsafeBytes { verify(a, signature: $0, input: input) }
        if ok, a == .es256 { p256Table?.noteVerified() }
        return ok
    }

    /// Signs `input` with `a`; the result is DER for ECDSA.
    func sign(_ a: JWSAlgorithm, input: UnsafeRawBufferPointer) throws(JOSEError) -> [UInt8] {
        guard isPrivate else { throw .invalidKey("not a private key") }
        guard shape.canServe(a) else { throw .keyAlgorithmMismatch }
        guard let ctx = EVPKey.makeContext(pkey, a, sign: true) else {
            ERR_clear_error()
            throw .cryptoFailure("EVP_DigestSignInit")
        }
        defer { EVP_MD_CTX_free(ctx) }
        var len = Int(EVP_PKEY_get_size(pkey))
        var out = [UInt8](repeating: 0, count: len)
        let rc = out.withUnsafeMutableBufferPointer { o in
            EVP_DigestSign(
                ctx,
                o.baseAddress,
                &len,
                input.baseAddress?.assumingMemoryBound(to: UInt8.self),
                input.count
            )
        }
        guard rc == 1 else {
            ERR_clear_error()
            throw .cryptoFailure("EVP_DigestSign")
        }
        out.removeSubrange(len...)
        return out
    }

    // MARK: Loading

    /// Decodes PEM or DER: PKCS#8, SubjectPublicKeyInfo, PKCS#1 RSA and SEC1 EC structures.
    /// Encrypted private keys are refused (no passphrase source is ever consulted).
    static func decode(_ bytes: UnsafeRawBufferPointer, pem: Bool) throws(JOSEError) -> EVPKey {
        for selection in [shim_EVP_PKEY_KEYPAIR(), shim_EVP_PKEY_PUBLIC_KEY()] {
            var pkey: OpaquePointer?
            guard let dctx = shim_OSSL_DECODER_CTX_new_for_pkey(&pkey, pem ? 1 : 0, selection) else {
                ERR_clear_error()
                throw .cryptoFailure("OSSL_DECODER_CTX")
            }
            _ = OSSL_DECODER_CTX_set_passphrase_cb(dctx, { _, _, _, _, _ in 0 }, nil)
            var data = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
            var len = bytes.count
            let rc = OSSL_DECODER_from_data(dctx, &data, &len)
            OSSL_DECODER_CTX_free(dctx)
            ERR_clear_error()
            if rc == 1, let pkey { return try EVPKey(taking: pkey) }
            if let pkey { EVP_PKEY_free(pkey) }
        }
        throw .invalidKey(pem ? "PEM not understood (or encrypted)" : "DER not understood")
    }

    static func ed25519(publicKey: [UInt8]) throws(JOSEError) -> EVPKey {
        guard publicKey.count == 32 else { throw .invalidKey("Ed25519 public key must be 32 bytes") }
        guard let k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, publicKey, 32) else {
            ERR_clear_error()
            throw .invalidKey("Ed25519 public key")
        }
        return try EVPKey(taking: k)
    }

    static func ed25519(privateKey: [UInt8]) throws(JOSEError) -> EVPKey {
        guard privateKey.count == 32 else { throw .invalidKey("Ed25519 private key must be 32 bytes") }
        guard let k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, privateKey, 32) else {
            ERR_clear_error()
            throw .invalidKey("Ed25519 private key")
        }
        return try EVPKey(taking: k)
    }

    /// Checks that a private key's halves belong together (used on keys built from JWK).
    func pairwiseCheck() -> Bool {
        guard let ctx = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else { return false }
        defer {
            EVP_PKEY_CTX_free(ctx)
            ERR_clear_error()
        }
        let rc = EVP_PKEY_pairwise_check(ctx)
        return rc == 1 || rc == -2  // -2: the check is not implemented for this type
    }

    // MARK: Generation

    static func generate(_ shape: AsymmetricShape) throws(JOSEError) -> EVPKey {
        let id: Int32
        switch shape {
        case .rsa: id = EVP_PKEY_RSA
        case .ec: id = EVP_PKEY_EC
        case .ed25519: id = EVP_PKEY_ED25519
        }
        guard let ctx = EVP_PKEY_CTX_new_id(id, nil) else { throw .cryptoFailure("EVP_PKEY_CTX_new_id") }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1 else {
            ERR_clear_error()
            throw .cryptoFailure("EVP_PKEY_keygen_init")
        }
        switch shape {
        case .rsa(let bits):
            guard EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, Int32(bits)) == 1 else {
                ERR_clear_error()
                throw .invalidKey("RSA key size")
            }
        case .ec(let c):
            let nid: Int32 =
                c == .p256 ? NID_X9_62_prime256v1 : c == .p384 ? NID_secp384r1 : NID_secp521r1
            guard EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, nid) == 1 else {
                ERR_clear_error()
                throw .cryptoFailure("EC curve")
            }
        case .ed25519:
            break
        }
        var pkey: OpaquePointer?
        guard EVP_PKEY_generate(ctx, &pkey) == 1, let pkey else {
            ERR_clear_error()
            throw .cryptoFailure("EVP_PKEY_generate")
        }
        return try EVPKey(taking: pkey)
    }

    // MARK: Export

    /// The private key as PKCS#8 PEM (`BEGIN PRIVATE KEY`, RFC 5958), unencrypted.
    func privateKeyPEM() throws(JOSEError) -> [UInt8] {
        guard isPrivate else { throw .invalidKey("not a private key") }
        // The secure-memory BIO clears its buffer when freed.
        guard let bio = BIO_new(BIO_s_secmem()) else { throw .cryptoFailure("BIO_new") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil) == 1 else {
            ERR_clear_error()
            throw .cryptoFailure("PEM_write_bio_PrivateKey")
        }
        let n = Int(BIO_ctrl_pending(bio))
        var out = [UInt8](repeating: 0, count: n)
        guard BIO_read(bio, &out, Int32(n)) == Int32(n) else { throw .cryptoFailure("BIO_read") }
        return out
    }

    /// SubjectPublicKeyInfo DER.
    func publicKeyDER() -> [UInt8] {
        let n = i2d_PUBKEY(pkey, nil)
        guard n > 0 else {
            ERR_clear_error()
            return []
        }
        var out = [UInt8](repeating: 0, count: Int(n))
        out.withUnsafeMutableBufferPointer { b in
            var p = b.baseAddress
            _ = i2d_PUBKEY(pkey, &p)
        }
        return out
    }

    private func bnParam(_ name: String, pad: Int? = nil) -> [UInt8] { EVPKey.bnParam(pkey, name, pad: pad) }

    private static func bnParam(_ pkey: OpaquePointer, _ name: String, pad: Int? = nil) -> [UInt8] {
        var bn: OpaquePointer?
        guard EVP_PKEY_get_bn_param(pkey, name, &bn) == 1, let bn else {
            ERR_clear_error()
            return []
        }
        defer { BN_free(bn) }
        let len = pad ?? (Int(BN_num_bits(bn)) + 7) / 8
        var out = [UInt8](repeating: 0, count: len)
        _ = BN_bn2binpad(bn, &out, Int32(len))
        return out
    }

    /// Public JWK parameters (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2) as raw big-endian bytes.
    func publicParameters() -> [(String, [UInt8])] {
        switch shape {
        case .rsa:
            return [("n", bnParam(OSSL_PKEY_PARAM_RSA_N)), ("e", bnParam(OSSL_PKEY_PARAM_RSA_E))]
        case .ec(let c):
            return [
                ("x", bnParam(OSSL_PKEY_PARAM_EC_PUB_X, pad: c.coordinateLength)),
                ("y", bnParam(OSSL_PKEY_PARAM_EC_PUB_Y, pad: c.coordinateLength)),
            ]
        case .ed25519:
            var out = [UInt8](repeating: 0, count: 32)
            var len = 32
            guard EVP_PKEY_get_raw_public_key(pkey, &out, &len) == 1, len == 32 else {
                ERR_clear_error()
                return []
            }
            return [("x", out)]
        }
    }
}
