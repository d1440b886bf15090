import Glibc

/// A bounded cache of verified tokens, so that a token seen again skips signature work
/// (Envoy `jwt_authn`'s `jwt_cache` idea).
///
/// Keyed by the token bytes. The index is an open-addressing table (linear probing,
/// backward-shift deletion) over a hash of the token's last 16 bytes, which lie in its
/// signature segment, mixed with a per-process random seed: a signature is unpredictable to
/// anyone but its signer and only verified tokens are inserted, and the seed keeps bucket
/// positions unguessable to everyone else. (Swift's `Hasher` over the segment plus a
/// `Dictionary<Int, Int>` lookup were ~1,700 instructions of a ~2,000-instruction hit.)
/// A hit is confirmed by comparing the whole token: its signature segment in constant time
/// (`CRYPTO_memcmp`), the header and payload with `memcmp`. Those two are base64url JSON that
/// any holder of the token can read and that prove nothing without the signature, so timing
/// may reveal them; the signature, which makes the token a credential, is never compared in
/// a way that leaks how much of it matched. Where the segment starts is taken from the
/// cached token, found once at insertion.
/// An entry lives until the token's `exp` (checked against the injected `now`, Unix seconds):
/// an expired entry is never returned. Lookup and insert are O(1); when full, the oldest
/// insertion is evicted (FIFO ring). With ``Admission/secondSighting`` a token is only
/// taken in the second time it is inserted (TinyLFU's doorkeeper), so a stream of one-off
/// tokens neither evicts the reused ones nor pays for entries nobody will hit.
///
/// Not thread-safe by design: keep one per event-loop thread. Only insert tokens that
/// passed verification *and* the claim rules; revocation must still be checked on a hit.
public final class VerifiedTokenCache {
    /// One cached token. `attachment` holds what the caller derived from it once (for
    /// example the identity headers it renders), so a hit costs no more work than a lookup.
    public final class Entry {
        let hash: Int
        let token: [UInt8]
        /// Where the signature segment starts in `token` (after its last '.'; 0 if none).
        let signatureStart: Int
        /// The verified token, unless it was inserted with its attachment only.
        public let value: VerifiedJWS?
        let expiresAt: Double
        public var attachment: AnyObject?

        init(hash: Int, token: [UInt8], signatureStart: Int, value: VerifiedJWS?, expiresAt: Double) {
            self.hash = hash
            self.token = token
            self.signatureStart = signatureStart
            self.value = value
            self.expiresAt = expiresAt
        }
    }

    /// One index bucket: a ring slot and its entry's hash (`slot` -1: empty).
    private struct Bucket {
        var hash: Int
        var slot: Int
    }

    /// Which inserted tokens the cache keeps.
    public enum Admission: Sendable, Equatable {
        /// Every insert is kept (the oldest entry evicted when full).
        case always
        /// A token is kept when it is inserted a second time while the doorkeeper still
        /// remembers the first: one 32-bit fingerprint per slot of a table as large as the
        /// cache, overwritten by any later token of that slot. A client that reuses its
        /// token pays one extra verification; a token seen once costs no entry and evicts
        /// nothing. A fingerprint collision only admits a verified token early.
        case secondSighting
    }

    public let capacity: Int
    public let admission: Admission
    /// The doorkeeper of ``Admission/secondSighting`` (fingerprints, 0: empty); nil otherwise.
    private let doorkeeper: UnsafeMutablePointer<UInt32>?
    private let doorkeeperMask: Int
    /// The FIFO ring of entries (`capacity` of them). Unsafe storage owned by this object:
    /// an `Array` would check uniqueness on every write.
    private let slots: UnsafeMutablePointer<Entry?>
    /// The index: a power of two ≥ 2 × capacity buckets, so probes stay short.
    private let buckets: UnsafeMutablePointer<Bucket>
    /// One byte per bucket, probed before the bucket: 0 empty, else 0x80 | 7 high bits of the
    /// hash. 8 KiB for 4,096 entries stays in cache better than the 128 KiB of buckets, whose
    /// first load was 94 % of `find` on a distinct-token load (perf; `find` 5.0–5.4 % of the
    /// request's user time without the tags, 3.2–3.8 % with them, machine loaded).
    private let tags: UnsafeMutablePointer<UInt8>
    private let mask: Int
    private var next = 0
    public private(set) var count = 0

    /// Per-process secret of the bucket hash.
    private static let processSeed: (UInt64, UInt64) = {
        var s: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &s) { SecureRandom.fill($0) }
        return s
    }()
    /// `processSeed`, copied here so that a lookup skips the lazy global's `swift_once`.
    private let seed: (UInt64, UInt64)

    public init(capacity: Int, admission: Admission = .always) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
        self.admission = admission
        seed = Self.processSeed
        var d = 8
        while d < capacity { d <<= 1 }
        doorkeeperMask = d - 1
        if admission == .secondSighting {
            let p = UnsafeMutablePointer<UInt32>.allocate(capacity: d)
            p.initialize(repeating: 0, count: d)
            doorkeeper = p
        } else {
            doorkeeper = nil
        }
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: nil, count: capacity)
        var n = 8
        while n < 2 * capacity { n <<= 1 }
        mask = n - 1
        buckets = .allocate(capacity: n)
        buckets.initialize(repeating: Bucket(hash: 0, slot: -1), count: n)
        tags = .allocate(capacity: n)
        tags.initialize(repeating: 0, count: n)
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
        buckets.deinitialize(count: mask + 1)
        buckets.deallocate()
        tags.deinitialize(count: mask + 1)
        tags.deallocate()
        if let doorkeeper {
            doorkeeper.deinitialize(count: doorkeeperMask + 1)
            doorkeeper.deallocate()
        }
    }

    /// Where the signature segment starts: after the last '.' (0 if there is none).
    static func signatureStart(_ token: UnsafeRawBufferPointer) -> Int {
        var start = token.count
        while start > 0, token[start - 1] != UInt8(ascii: ".") { start -= 1 }
        return start
    }

    /// The last 16 bytes (fewer, zero-padded, for a shorter input) and the length, mixed with
    /// the seed: two multiply-xorshift rounds, enough to spread already random bytes.
    static func hash(_ token: UnsafeRawBufferPointer, seed: (UInt64, UInt64) = processSeed) -> Int {
        let n = token.count
        var a: UInt64 = 0
        var b: UInt64 = 0
        if n >= 16 {
            a = token.loadUnaligned(fromByteOffset: n - 16, as: UInt64.self)
            b = token.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        } else if n > 0 {
            withUnsafeMutableBytes(of: &a) { p in
                p.baseAddress!.copyMemory(from: token.baseAddress!, byteCount: min(n, 8))
            }
            if n > 8 {
                withUnsafeMutableBytes(of: &b) { p in
                    p.baseAddress!.copyMemory(from: token.baseAddress! + 8, byteCount: n - 8)
                }
            }
        }
        var h = (a ^ seed.0) &* 0x9E37_79B9_7F4A_7C15
        h ^= (b ^ seed.1 ^ UInt64(truncatingIfNeeded: n)) &* 0xC2B2_AE3D_27D4_EB4F
        h ^= h >> 31
        h = h &* 0x94D0_49BB_1331_11EB
        h ^= h >> 29
        return Int(bitPattern: UInt(h))
    }

    /// Whether `token` is exactly `cached`, whose signature segment starts at `signatureStart`:
    /// lengths (not secret) first, then that segment in constant time, then the readable rest.
    static func same(_ cached: UnsafeRawBufferPointer, _ token: UnsafeRawBufferPointer, signatureStart sig: Int)
        -> Bool
    {
        guard cached.count == token.count, token.count > 0 else { return false }
        let signatureEqual = ConstantTime.equals(
            UnsafeRawBufferPointer(rebasing: cached[sig...]), UnsafeRawBufferPointer(rebasing: token[sig...]))
        let restEqual = sig == 0 || memcmp(cached.baseAddress!, token.baseAddress!, sig) == 0
        return signatureEqual && restEqual
    }

    /// `same(_:_:signatureStart:)` with the segment found in `cached`.
    static func same(_ cached: UnsafeRawBufferPointer, _ token: UnsafeRawBufferPointer) -> Bool {
        same(cached, token, signatureStart: signatureStart(cached))
    }

    /// The verified token for exactly these bytes, unless absent or expired at `now`.
    public func lookup(_ token: UnsafeRawBufferPointer, now: Double) -> VerifiedJWS? {
        entry(token, now: now)?.value
    }

    @inline(__always)
    private static func tag(_ hash: Int) -> UInt8 { 0x80 | UInt8(truncatingIfNeeded: UInt(bitPattern: hash) >> 57) }

    /// The bucket holding `hash`, or nil.
    private func find(_ hash: Int) -> Int? {
        let t = Self.tag(hash)
        var i = hash & mask
        while true {
            let k = tags[i]
            if k == 0 { return nil }
            if k == t, buckets[i].hash == hash { return i }
            i = (i + 1) & mask
        }
    }

    /// The cache entry for exactly these bytes (with its attachment), unless absent or expired.
    public func entry(_ token: UnsafeRawBufferPointer, now: Double) -> Entry? {
        let h = Self.hash(token, seed: seed)
        guard let bucket = find(h) else { return nil }
        let slot = buckets[bucket].slot
        guard let e = slots[slot] else { return nil }
        let same = e.token.withUnsafeBytes { Self.same($0, token, signatureStart: e.signatureStart) }
        guard same else { return nil }
        guard now < e.expiresAt else {
            remove(slot: slot)
            return nil
        }
        return e
    }

    /// Looks up a token given as bytes.
    public func lookup(_ token: [UInt8], now: Double) -> VerifiedJWS? {
        token.withUnsafeBytes { lookup($0, now: now) }
    }

    /// Remembers a verified token until its `exp`. Tokens without `exp`, already expired, or
    /// not admitted yet (``Admission/secondSighting``) are not kept: the result is then nil.
    @discardableResult
    public func insert(_ token: UnsafeRawBufferPointer, _ value: VerifiedJWS, now: Double) -> Entry? {
        guard let exp = value.claims.exp else { return nil }
        return insert(token, value: value, expiresAt: exp, now: now)
    }

    /// Remembers a verified token until `expiresAt` (its `exp`) with only what the caller
    /// derived from it: the claims are then freed with the request that verified them,
    /// while still in cache, instead of cold at eviction. `lookup` gives nil for it. Nil
    /// when the token is not kept (see the other `insert`).
    @discardableResult
    public func insert(_ token: UnsafeRawBufferPointer, expiresAt: Double, attachment: AnyObject, now: Double) -> Entry?
    {
        let e = insert(token, value: nil, expiresAt: expiresAt, now: now)
        e?.attachment = attachment
        return e
    }

    private func insert(_ token: UnsafeRawBufferPointer, value: VerifiedJWS?, expiresAt exp: Double, now: Double)
        -> Entry?
    {
        guard now < exp, token.count > 0 else { return nil }
        let h = Self.hash(token, seed: seed)
        let existing = find(h)
        if existing == nil, let doorkeeper, !Self.admit(h, doorkeeper, doorkeeperMask) { return nil }
        let entry = Entry(
            hash: h, token: Array(token), signatureStart: Self.signatureStart(token), value: value, expiresAt: exp)
        if let bucket = existing {
            slots[buckets[bucket].slot] = entry  // same token again, or a hash collision: the newer one wins
            return entry
        }
        let slot = next
        next = next + 1 == capacity ? 0 : next + 1
        if slots[slot] != nil { remove(slot: slot) }
        slots[slot] = entry
        var i = h & mask
        while tags[i] != 0 { i = (i + 1) & mask }
        buckets[i] = Bucket(hash: h, slot: slot)
        tags[i] = Self.tag(h)
        count += 1
        return entry
    }

    /// Whether the doorkeeper saw `hash` since its slot last changed: then the slot is
    /// cleared and the token admitted; otherwise its fingerprint takes the slot. The slot
    /// comes from the hash's high half, the bucket index from its low bits.
    private static func admit(_ hash: Int, _ table: UnsafeMutablePointer<UInt32>, _ mask: Int) -> Bool {
        let bits = UInt64(UInt(bitPattern: hash))
        let slot = Int(truncatingIfNeeded: bits >> 32) & mask
        let fingerprint = UInt32(truncatingIfNeeded: bits) | 1
        if table[slot] == fingerprint {
            table[slot] = 0
            return true
        }
        table[slot] = fingerprint
        return false
    }

    /// Inserts a token given as bytes.
    @discardableResult
    public func insert(_ token: [UInt8], _ value: VerifiedJWS, now: Double) -> Entry? {
        token.withUnsafeBytes { insert($0, value, now: now) }
    }

    /// Drops every entry, and what the doorkeeper remembers.
    public func removeAll() {
        for k in 0..<capacity { slots[k] = nil }
        doorkeeper?.update(repeating: 0, count: doorkeeperMask + 1)
        for k in 0...mask {
            buckets[k] = Bucket(hash: 0, slot: -1)
            tags[k] = 0
        }
        count = 0
        next = 0
    }

    private func remove(slot: Int) {
        guard let e = slots[slot] else { return }
        slots[slot] = nil
        count -= 1
        guard let bucket = find(e.hash), buckets[bucket].slot == slot else { return }
        // Backward-shift deletion: pull later members of the probe run into the hole, so
        // lookups never need tombstones.
        var hole = bucket
        var j = bucket
        while true {
            j = (j + 1) & mask
            if tags[j] == 0 { break }
            let b = buckets[j]
            let home = b.hash & mask
            // The bucket at j may move back to the hole unless its home lies cyclically in (hole, j].
            let stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j)
            if stays { continue }
            buckets[hole] = b
            tags[hole] = tags[j]
            hole = j
        }
        buckets[hole] = Bucket(hash: 0, slot: -1)
        tags[hole] = 0
    }
}
