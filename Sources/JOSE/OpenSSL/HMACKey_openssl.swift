internal import COpenSSL
import Glibc
import Synchronization

/// The SHA-2 hash functions used by HMAC, digests and PBKDF2.
public enum HashFunction: Sendable, Hashable {
    case sha256, sha384, sha512

    /// Output length in bytes.
    public var outputLength: Int {
        switch self {
        case .sha256: return 32
        case .sha384: return 48
        case .sha512: return 64
        }
    }

    var index: Int {
        switch self {
        case .sha256: return 0
        case .sha384: return 1
        case .sha512: return 2
        }
    }

    var md: OpaquePointer? {
        switch self {
        case .sha256: return OpenSSLAlgorithms.sha256
        case .sha384: return OpenSSLAlgorithms.sha384
        case .sha512: return OpenSSLAlgorithms.sha512
        }
    }
}

/// Algorithms fetched once per process (an implicit fetch per call costs a lock and a lookup).
enum OpenSSLAlgorithms {
    nonisolated(unsafe) static let hmac: OpaquePointer? = EVP_MAC_fetch(nil, "HMAC", nil)
    nonisolated(unsafe) static let sha256: OpaquePointer? = EVP_MD_fetch(nil, "SHA2-256", nil)
    nonisolated(unsafe) static let sha384: OpaquePointer? = EVP_MD_fetch(nil, "SHA2-384", nil)
    nonisolated(unsafe) static let sha512: OpaquePointer? = EVP_MD_fetch(nil, "SHA2-512", nil)
    nonisolated(unsafe) static let aes256gcm: OpaquePointer? = EVP_CIPHER_fetch(nil, "AES-256-GCM", nil)
}

/// An HMAC key with one keyed `EVP_MAC_CTX` template per hash (RFC 2104): keying is done
/// once, and each thread MACs with its own duplicate of the template, restarted per call
/// (`HMACThreadContexts`), so a MAC costs one digest-state copy and the hash itself.
///
/// Immutable after init; `EVP_MAC_CTX_dup` only reads its source, so it is shared across threads.
///
/// A duplicate per call cost about 7,000 instructions and six allocations per MAC
/// (callgrind). A hand-composed RFC 2104 HMAC over the SHA-2 block functions saved them
/// (tried in issue 15), but that is the gateway's own MAC over APIs OpenSSL 3 deprecates:
/// the MAC stays OpenSSL's.
final class HMACKey: @unchecked Sendable {
    let secretLength: Int
    private let templates: [OpaquePointer?]
    /// Names this key in the per-thread contexts: unique in the process, never reused (an
    /// address could be, by a later key).
    private let id: UInt64 = HMACKey.nextID.add(1, ordering: .relaxed).newValue
    private static let nextID = Atomic<UInt64>(0)

    init(secret: UnsafeRawBufferPointer) throws(JOSEError) {
        guard let mac = OpenSSLAlgorithms.hmac else { throw .cryptoFailure("EVP_MAC_fetch") }
        secretLength = secret.count
        var t = [OpaquePointer?]()
        for bits in [256, 384, 512] {
            guard let ctx = EVP_MAC_CTX_new(mac) else { break }
            // A zero-length key is passed as a valid pointer: OpenSSL refuses NULL.
            let base = secret.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
            if shim_EVP_MAC_init_hmac(ctx, base, secret.count, Int32(bits)) != 1 {
                EVP_MAC_CTX_free(ctx)
                break
            }
            t.append(ctx)
        }
        guard t.count == 3 else {
            for c in t { EVP_MAC_CTX_free(c) }
            ERR_clear_error()
            throw .cryptoFailure("HMAC init")
        }
        templates = t
    }

    deinit {
        for c in templates { EVP_MAC_CTX_free(c) }
    }

    /// Writes the full-length tag of `input` to `out` (capacity ≥ 64); returns its length.
    func authenticate(
        _ hash: HashFunction,
        _ input: UnsafeRawBufferPointer,
        into out: UnsafeMutablePointer<UInt8>
    ) -> Int {
        guard let ctx = HMACThreadContexts.current.context(id, hash.index, templates[hash.index]) else {
            ERR_clear_error()
            return 0
        }
        var outLength = 0
        guard EVP_MAC_update(ctx, input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count) == 1,
            EVP_MAC_final(ctx, out, &outLength, 64) == 1
        else {
            ERR_clear_error()
            return 0
        }
        return outLength
    }

    /// A tag over a fixed label: equal for equal secrets, and reveals nothing of the secret.
    /// Used only at load, to find one secret configured for two algorithms.
    var fingerprint: [UInt8] {
        let label: StaticString = "JWSKey material fingerprint"
        return [UInt8](unsafeUninitializedCapacity: 64) { buf, n in
            n = authenticate(
                .sha256,
                UnsafeRawBufferPointer(start: label.utf8Start, count: label.utf8CodeUnitCount),
                into: buf.baseAddress!
            )
        }
    }

    /// Recomputes the tag and compares it in constant time with `tag` (whose length must be the full output).
    func verify(_ hash: HashFunction, tag: UnsafeRawBufferPointer, input: UnsafeRawBufferPointer) -> Bool {
        guard tag.count == hash.outputLength else { return false }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buf in
            let n = authenticate(hash, input, into: buf.baseAddress!)
            guard n == tag.count else { return false }
            let equal = CRYPTO_memcmp(buf.baseAddress!, tag.baseAddress!, n) == 0
            OPENSSL_cleanse(buf.baseAddress!, 64)
            return equal
        }
    }
}

/// Each thread's HMAC contexts, one per SHA-2 size, kept between MACs.
///
/// Duplicating a keyed template per MAC (`EVP_MAC_CTX_dup`, then a free) costs six
/// allocations. Here a thread keeps its own duplicate of the last template it used per size
/// and restarts it with `EVP_MAC_init(ctx, NULL, 0, NULL)`, which for HMAC reuses the key
/// already set (one digest-state copy). A thread that meets another key duplicates that key's
/// template, as before. The contexts are freed (their key state cleansed) when the thread exits.
final class HMACThreadContexts {
    private var owners: (UInt64, UInt64, UInt64) = (0, 0, 0)
    private var contexts: (OpaquePointer?, OpaquePointer?, OpaquePointer?) = (nil, nil, nil)

    deinit {
        EVP_MAC_CTX_free(contexts.0)
        EVP_MAC_CTX_free(contexts.1)
        EVP_MAC_CTX_free(contexts.2)
    }

    /// The pthread key whose per-thread value is this thread's instance (retained once; the
    /// key's destructor releases it at thread exit).
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        let rc = pthread_key_create(&k) { p in
            if let p { Unmanaged<HMACThreadContexts>.fromOpaque(p).release() }
        }
        precondition(rc == 0, "pthread_key_create")
        return k
    }()

    /// The calling thread's instance.
    static var current: HMACThreadContexts {
        if let p = pthread_getspecific(key) { return Unmanaged<HMACThreadContexts>.fromOpaque(p).takeUnretainedValue() }
        let c = HMACThreadContexts()
        pthread_setspecific(key, Unmanaged.passRetained(c).toOpaque())
        return c
    }

    /// This thread's context for the key named `owner` at hash `index` (0...2), ready for
    /// `EVP_MAC_update`; nil on failure. Owned here: not to be freed by the caller.
    func context(_ owner: UInt64, _ index: Int, _ template: OpaquePointer?) -> OpaquePointer? {
        let (o, c): (UInt64, OpaquePointer?)
        switch index {
        case 0: (o, c) = (owners.0, contexts.0)
        case 1: (o, c) = (owners.1, contexts.1)
        default: (o, c) = (owners.2, contexts.2)
        }
        if o == owner, let c, EVP_MAC_init(c, nil, 0, nil) == 1 { return c }
        let fresh = EVP_MAC_CTX_dup(template)
        EVP_MAC_CTX_free(c)
        let newOwner = fresh == nil ? 0 : owner
        switch index {
        case 0: (owners.0, contexts.0) = (newOwner, fresh)
        case 1: (owners.1, contexts.1) = (newOwner, fresh)
        default: (owners.2, contexts.2) = (newOwner, fresh)
        }
        return fresh
    }
}

/// HMAC (RFC 2104) with a SHA-2 hash, keyed once and reusable from any thread.
///
/// For JWS keys use ``JWSKey/hmac(secret:algorithm:kid:)``, which also enforces RFC 7518 §3.2
/// minimum key lengths; this type accepts any key length, as RFC 2104 does.
public struct HMAC: Sendable {
    let key: HMACKey
    public let hash: HashFunction

    public init(key: [UInt8], hash: HashFunction = .sha256) throws(JOSEError) {
        self.key = try key.withBytes { (b) throws(JOSEError) in try HMACKey(secret: b) }
        self.hash = hash
    }

    /// The full-length tag of `message`.
    public func authenticate(_ message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { authenticate($0) }
    }

    /// The full-length tag of `message`.
    public func authenticate(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 64) { buf, count in
            count = key.authenticate(hash, message, into: buf.baseAddress!)
        }
    }

    /// True if `tag` is the full-length tag of `message`, compared in constant time.
    public func isValid(tag: [UInt8], for message: [UInt8]) -> Bool {
        tag.withUnsafeBytes { t in message.withUnsafeBytes { m in key.verify(hash, tag: t, input: m) } }
    }

    /// One-shot HMAC.
    public static func authenticate(
        _ message: [UInt8],
        key: [UInt8],
        hash: HashFunction = .sha256
    ) throws(JOSEError) -> [UInt8] {
        try HMAC(key: key, hash: hash).authenticate(message)
    }
}
