internal import COpenSSL
import Dispatch
import Synchronization

/// ES256 verification (ECDSA over P-256 with SHA-256, FIPS 186-5 §6.4.2) with a precomputed
/// table of the public key's multiples.
///
/// Why: OpenSSL's ECDSA verify computes `u1·G + u2·Q` with a built-in table for the generator
/// `G` but builds a fresh window for the public point `Q` on every call, and that
/// variable-base multiplication is most of a verification. A token issuer's key verifies many
/// tokens, so the gateway keeps for `Q` the kind of table OpenSSL keeps for `G`: an `EC_GROUP`
/// whose generator is `Q`, through `EC_GROUP_precompute_mult` (about 150 KiB and 40 ms per
/// key, built once, off the event loops, by ``P256KeyTableSlot``). A verification is then two
/// fixed-base multiplications, an inversion mod n and a point addition, about half the time
/// of `EVP_DigestVerify` (docs/security.md, "ES256 verification").
///
/// Every arithmetic step is OpenSSL's (`BN_*`, `EC_POINT_*`); this type composes the
/// verification equation only, over public inputs (no secret, so no timing concern). It is
/// checked against every Wycheproof P-256 vector and against `EVP_DigestVerify` on random
/// and tampered signatures (`P256KeyTableTests`).
///
/// Immutable after init: `EC_POINT_mul` only reads the group, so one table serves every thread.
final class P256KeyTable: @unchecked Sendable {
    /// P-256 with `Q` as its generator and the generator's multiples precomputed.
    private let group: OpaquePointer

    /// Builds the table for an encoded public point (SEC 1 §2.3.3, compressed or not); nil
    /// if the point is not on P-256 or OpenSSL cannot build the table.
    init?(publicPoint: [UInt8]) {
        let c = P256Curve.shared
        guard let g = EC_GROUP_dup(c.group) else { return nil }
        var ok = false
        defer {
            if !ok {
                EC_GROUP_free(g)
                ERR_clear_error()
            }
        }
        guard let q = EC_POINT_new(g) else { return nil }
        defer { EC_POINT_free(q) }
        guard EC_POINT_oct2point(g, q, publicPoint, publicPoint.count, nil) == 1,
            EC_POINT_is_at_infinity(g, q) == 0,
            EC_POINT_is_on_curve(g, q, nil) == 1,
            // P-256 has prime order, so any point but infinity generates the whole group.
            EC_GROUP_set_generator(g, q, c.order, BN_value_one()) == 1,
            shim_EC_GROUP_precompute_mult(g, nil) == 1
        else { return nil }
        // The table's first entry is Q itself: 1·Q through the table must give Q back.
        guard let one = EC_POINT_new(g) else { return nil }
        defer { EC_POINT_free(one) }
        guard EC_POINT_mul(g, one, BN_value_one(), nil, nil, nil) == 1, EC_POINT_cmp(g, one, q, nil) == 0 else {
            return nil
        }
        group = g
        ok = true
    }

    deinit { EC_GROUP_free(group) }

    /// Verifies a JWS ES256 signature (`r ‖ s`, 32 bytes each, RFC 7518 §3.4) over `input`.
    func verify(signature: UnsafeRawBufferPointer, input: UnsafeRawBufferPointer) -> Bool {
        guard signature.count == 64, let sig = signature.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return false
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digest in
            var n: UInt32 = 0
            guard
                EVP_Digest(
                    input.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!,
                    input.count,
                    digest.baseAddress,
                    &n,
                    OpenSSLAlgorithms.sha256,
                    nil
                ) == 1, n == 32
            else {
                ERR_clear_error()
                return false
            }
            let ok = check(r: sig, s: sig + 32, digest: digest.baseAddress!)
            if !ok { ERR_clear_error() }
            return ok
        }
    }

    /// FIPS 186-5 §6.4.2 steps 2-8, with `e` the whole SHA-256 digest (its length is n's).
    private func check(r rBytes: UnsafePointer<UInt8>, s sBytes: UnsafePointer<UInt8>, digest: UnsafePointer<UInt8>)
        -> Bool
    {
        let c = P256Curve.shared
        guard let ctx = BN_CTX_new() else { return false }
        defer { BN_CTX_free(ctx) }
        BN_CTX_start(ctx)
        defer { BN_CTX_end(ctx) }
        let r = BN_CTX_get(ctx), s = BN_CTX_get(ctx), e = BN_CTX_get(ctx), w = BN_CTX_get(ctx)
        let u1 = BN_CTX_get(ctx), u2 = BN_CTX_get(ctx), x = BN_CTX_get(ctx), y = BN_CTX_get(ctx)
        let z = BN_CTX_get(ctx), t = BN_CTX_get(ctx)
        // BN_CTX_get fails only by returning nil, and then every later call does too.
        guard t != nil else { return false }
        guard BN_bin2bn(rBytes, 32, r) != nil, BN_bin2bn(sBytes, 32, s) != nil, BN_bin2bn(digest, 32, e) != nil
        else { return false }
        // Step 2: r and s in [1, n−1].
        guard BN_is_zero(r) == 0, BN_is_zero(s) == 0, BN_cmp(r, c.order) < 0, BN_cmp(s, c.order) < 0 else {
            return false
        }
        // Steps 4-5: w = s⁻¹, u1 = e·w, u2 = r·w (mod n); e may exceed n, BN_mod_mul reduces.
        guard BN_mod_inverse(w, s, c.order, ctx) != nil,
            BN_mod_mul(u1, e, w, c.order, ctx) == 1,
            BN_mod_mul(u2, r, w, c.order, ctx) == 1
        else { return false }
        // Step 6: R = u1·G + u2·Q, each a fixed-base multiplication over its own table.
        guard let p = EC_POINT_new(c.group) else { return false }
        defer { EC_POINT_free(p) }
        guard let sum = EC_POINT_new(group) else { return false }
        defer { EC_POINT_free(sum) }
        guard EC_POINT_mul(c.group, p, u1, nil, nil, ctx) == 1,
            EC_POINT_mul(group, sum, u2, nil, nil, ctx) == 1,
            EC_POINT_add(group, sum, sum, p, ctx) == 1,
            EC_POINT_is_at_infinity(group, sum) == 0
        else { return false }
        // Steps 7-8: accept iff x(R) mod n = r. With Jacobian (X, Y, Z), x(R) = X/Z² and
        // x(R) < p, so x(R) is r or, when r + n < p, r + n: compare X with r·Z² (and (r+n)·Z²)
        // instead of inverting Z.
        guard shim_EC_POINT_get_Jprojective_coordinates(group, sum, x, y, z, ctx) == 1,
            BN_nnmod(x, x, c.prime, ctx) == 1,
            BN_mod_sqr(z, z, c.prime, ctx) == 1,
            BN_mod_mul(t, r, z, c.prime, ctx) == 1
        else { return false }
        if BN_cmp(t, x) == 0 { return true }
        guard BN_cmp(r, c.primeMinusOrder) < 0 else { return false }
        guard BN_add(t, r, c.order) == 1, BN_mod_mul(t, t, z, c.prime, ctx) == 1 else { return false }
        return BN_cmp(t, x) == 0
    }
}

/// P-256's group with OpenSSL's built-in generator table, and the constants verification needs.
private final class P256Curve: @unchecked Sendable {
    static let shared = P256Curve()

    let group: OpaquePointer
    /// n, the group order.
    let order: OpaquePointer
    /// p, the field prime.
    let prime: OpaquePointer
    /// p − n: below it, r + n is still a field element, so x(R) = r + n must be checked too.
    let primeMinusOrder: OpaquePointer

    private init() {
        // Static data of OpenSSL: failing here means libcrypto is unusable.
        guard let g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1), let n = BN_dup(EC_GROUP_get0_order(g)),
            let p = BN_new(), let d = BN_new(), EC_GROUP_get_curve(g, p, nil, nil, nil) == 1, BN_sub(d, p, n) == 1
        else { fatalError("OpenSSL has no P-256 group") }
        group = g
        order = n
        prime = p
        primeMinusOrder = d
    }
}

/// The table of one P-256 key, built once the key has proven itself in use: after
/// ``threshold`` successful verifications on the `EVP_DigestVerify` path, on a background
/// queue, never on the caller's thread (an event loop). Until then, and for good if the
/// process already holds ``maxTables`` tables, verification stays on `EVP_DigestVerify`.
///
/// Only signatures that verified count, so a key set of many keys (a JWKS can carry hundreds)
/// gets tables only for the keys its issuer actually signs with, and forged tokens build none.
final class P256KeyTableSlot: @unchecked Sendable {
    /// Successful verifications before a table is built: a key used a few times pays nothing.
    static let threshold = 64
    /// Tables alive in the process at most (about 150 KiB each).
    static let maxTables = 64

    private static let live = Atomic<Int>(0)
    private static let builder = DispatchQueue(label: "jose.p256-key-tables", qos: .utility)

    private let publicPoint: [UInt8]
    private let published = Atomic<Unmanaged<P256KeyTable>?>(nil)
    private let successes = Atomic<Int>(0)

    init(publicPoint: [UInt8]) { self.publicPoint = publicPoint }

    deinit {
        if let t = published.load(ordering: .acquiring) {
            t.release()
            Self.live.subtract(1, ordering: .relaxed)
        }
    }

    /// The table, once built.
    var table: P256KeyTable? { published.load(ordering: .acquiring)?.takeUnretainedValue() }

    /// Counts a successful `EVP_DigestVerify`; the ``threshold``-th schedules the build.
    func noteVerified() {
        guard successes.wrappingAdd(1, ordering: .relaxed).newValue == Self.threshold else { return }
        guard Self.reserve() else { return }
        Self.builder.async { [weak self] in
            guard let self else {
                P256KeyTableSlot.live.subtract(1, ordering: .relaxed)
                return
            }
            self.build()
        }
    }

    /// Builds and publishes the table now, on the caller's thread (tests and tools); false if
    /// it cannot be built or the process holds ``maxTables`` already.
    @discardableResult
    func buildNow() -> Bool {
        guard published.load(ordering: .acquiring) == nil else { return true }
        guard Self.reserve() else { return false }
        build()
        return published.load(ordering: .acquiring) != nil
    }

    /// With one slot of the budget reserved: builds, then publishes or returns the slot.
    private func build() {
        guard let t = P256KeyTable(publicPoint: publicPoint) else {
            Self.live.subtract(1, ordering: .relaxed)
            return
        }
        let u = Unmanaged.passRetained(t)
        let (exchanged, _) = published.compareExchange(
            expected: nil,
            desired: u,
            successOrdering: .releasing,
            failureOrdering: .relaxed
        )
        if !exchanged {
            u.release()
            Self.live.subtract(1, ordering: .relaxed)
        }
    }

    private static func reserve() -> Bool {
        if live.wrappingAdd(1, ordering: .relaxed).newValue <= maxTables { return true }
        live.subtract(1, ordering: .relaxed)
        return false
    }

    /// Tables alive in the process (tests).
    static var liveTables: Int { live.load(ordering: .relaxed) }
}
