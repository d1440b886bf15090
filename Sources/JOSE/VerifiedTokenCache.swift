import Glibc

/// A bounded cache of verified tokens, so that a token seen again skips signature work
/// (Envoy `jwt_authn`'s `jwt_cache` idea).
///
/// Keyed by the token bytes: the signature segment is hashed with Swift's per-process
/// seeded `Hasher`, and a hit is confirmed by comparing the whole token: its signature
/// segment in constant time (`CRYPTO_memcmp`), the header and payload with `memcmp`. Those
/// two are base64url JSON that any holder of the token can read and that prove nothing
/// without the signature, so timing may reveal them; the signature, which makes the token a
/// credential, is never compared in a way that leaks how much of it matched. (Comparing all
/// ~250 bytes of a token with `CRYPTO_memcmp` was 2,500 instructions, most of a cache hit.)
/// An entry lives until the token's `exp` (checked against the injected `now`, Unix seconds):
/// an expired entry is never returned. Lookup and insert are O(1); when full, the oldest
/// insertion is evicted (FIFO ring).
///
/// Not thread-safe by design: keep one per event-loop thread. Only insert tokens that
/// passed verification *and* the claim rules; revocation must still be checked on a hit.
public final class VerifiedTokenCache {
    /// One cached token. `attachment` holds what the caller derived from it once (for
    /// example the identity headers it renders), so a hit costs no more work than a lookup.
    public final class Entry {
        let hash: Int
        let token: [UInt8]
        public let value: VerifiedJWS
        let expiresAt: Double
        public var attachment: AnyObject?

        init(hash: Int, token: [UInt8], value: VerifiedJWS, expiresAt: Double) {
            self.hash = hash
            self.token = token
            self.value = value
            self.expiresAt = expiresAt
        }
    }

    public let capacity: Int
    private var slots: [Entry?]
    private var index: [Int: Int]
    private var next = 0
    public private(set) var count = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
        slots = [Entry?](repeating: nil, count: capacity)
        index = [Int: Int](minimumCapacity: capacity)
    }

    /// Where the signature segment starts: after the last '.' (0 if there is none).
    private static func signatureStart(_ token: UnsafeRawBufferPointer) -> Int {
        var start = token.count
        while start > 0, token[start - 1] != UInt8(ascii: ".") { start -= 1 }
        return start
    }

    private static func hash(_ token: UnsafeRawBufferPointer) -> Int {
        var h = Hasher()
        h.combine(bytes: UnsafeRawBufferPointer(rebasing: token[signatureStart(token)...]))
        h.combine(token.count)
        return h.finalize()
    }

    /// Whether `token` is exactly `cached`: lengths (not secret) first, then the signature
    /// segment in constant time, then the readable rest.
    static func same(_ cached: UnsafeRawBufferPointer, _ token: UnsafeRawBufferPointer) -> Bool {
        guard cached.count == token.count, token.count > 0 else { return false }
        let sig = signatureStart(token)
        let signatureEqual = ConstantTime.equals(
            UnsafeRawBufferPointer(rebasing: cached[sig...]), UnsafeRawBufferPointer(rebasing: token[sig...]))
        let restEqual = sig == 0 || memcmp(cached.baseAddress!, token.baseAddress!, sig) == 0
        return signatureEqual && restEqual
    }

    /// The verified token for exactly these bytes, unless absent or expired at `now`.
    public func lookup(_ token: UnsafeRawBufferPointer, now: Double) -> VerifiedJWS? {
        entry(token, now: now)?.value
    }

    /// The cache entry for exactly these bytes (with its attachment), unless absent or expired.
    public func entry(_ token: UnsafeRawBufferPointer, now: Double) -> Entry? {
        let h = Self.hash(token)
        guard let slot = index[h], let e = slots[slot] else { return nil }
        let same = e.token.withUnsafeBytes { Self.same($0, token) }
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

    /// Remembers a verified token until its `exp`. Tokens without `exp`, or already expired, are not kept.
    @discardableResult
    public func insert(_ token: UnsafeRawBufferPointer, _ value: VerifiedJWS, now: Double) -> Entry? {
        guard let exp = value.claims.exp, now < exp, token.count > 0 else { return nil }
        let h = Self.hash(token)
        let entry = Entry(hash: h, token: Array(token), value: value, expiresAt: exp)
        if let slot = index[h] {
            slots[slot] = entry  // same token again, or a hash collision: the newer one wins
            return entry
        }
        let slot = next
        next = next + 1 == capacity ? 0 : next + 1
        if slots[slot] != nil { remove(slot: slot) }
        slots[slot] = entry
        index[h] = slot
        count += 1
        return entry
    }

    /// Inserts a token given as bytes.
    @discardableResult
    public func insert(_ token: [UInt8], _ value: VerifiedJWS, now: Double) -> Entry? {
        token.withUnsafeBytes { insert($0, value, now: now) }
    }

    /// Drops every entry.
    public func removeAll() {
        for k in slots.indices { slots[k] = nil }
        index.removeAll(keepingCapacity: true)
        count = 0
        next = 0
    }

    private func remove(slot: Int) {
        guard let e = slots[slot] else { return }
        if index[e.hash] == slot { index[e.hash] = nil }
        slots[slot] = nil
        count -= 1
    }
}
