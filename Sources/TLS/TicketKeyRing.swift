internal import CTLS
import Synchronization

/// The keys that protect TLS session tickets: one current key that seals new tickets, and the
/// few before it that still open older ones. Rotated on a schedule (a stolen ticket key
/// exposes the sessions it sealed, so it must not live for the process's lifetime), kept
/// across certificate reloads (a reload does not end resumption), shared by every SNI
/// certificate of the listener. Process memory only: replicas do not share tickets.
public final class TicketKeyRing: Sendable {
    struct Key: Equatable, Sendable {
        var name: [UInt8]  // 16
        var aes: [UInt8]  // 32
        var hmac: [UInt8]  // 32
        var created: Int64
    }

    /// What opening a ticket found.
    enum Lookup: Equatable {
        case unknown
        /// Sealed with the current key.
        case current(Key)
        /// Sealed with an older key still kept: accept, and issue a fresh ticket.
        case previous(Key)
    }

    private let keys: Mutex<[Key]>
    let rotateEvery: Int64
    let keep: Int
    private let clock: @Sendable () -> Int64

    /// - Parameters: `rotateEvery` ms between new keys; `keep` older keys still accepted.
    public init(rotateEvery: Int64 = 3_600_000, keep: Int = 2, clock: @escaping @Sendable () -> Int64) {
        self.rotateEvery = rotateEvery
        self.keep = keep
        self.clock = clock
        keys = Mutex([Self.newKey(at: clock())])
    }

    /// The key for a new ticket, rotating first if the current one is due.
    func sealingKey() -> Key {
        let now = clock()
        return keys.withLock { ring in
            rotate(&ring, now)
            return ring[0]
        }
    }

    func lookup(name: UnsafeRawBufferPointer) -> Lookup {
        let now = clock()
        return keys.withLock { ring in
            rotate(&ring, now)
            for (i, k) in ring.enumerated() where k.name.elementsEqual(name) {
                return i == 0 ? .current(k) : .previous(k)
            }
            return .unknown
        }
    }

    /// A new current key once the last one is due; keys past the retention (`keep` periods
    /// after they stopped sealing) are dropped even if no ticket was sealed since.
    private func rotate(_ ring: inout [Key], _ now: Int64) {
        if now - ring[0].created >= rotateEvery { ring.insert(Self.newKey(at: now), at: 0) }
        while ring.count > 1,
            ring.count > keep + 1 || now - ring[ring.count - 1].created >= rotateEvery * Int64(keep + 1)
        {
            ring.removeLast()
        }
    }

    private static func newKey(at now: Int64) -> Key {
        var bytes = [UInt8](repeating: 0, count: 80)
        // A key ring without randomness would seal every session with a guessable key.
        precondition(RAND_bytes(&bytes, 80) == 1, "RAND_bytes failed")
        return Key(name: Array(bytes[0..<16]), aes: Array(bytes[16..<48]), hmac: Array(bytes[48..<80]), created: now)
    }

    func install(on ctx: OpaquePointer) {
        _ = SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticketCallback)
    }
}

/// libssl asks to seal (`enc` 1) or open (`enc` 0) a ticket. Returns 1 (done), 2 (opened: send
/// a new ticket), 0 (unknown key: full handshake), -1 (error).
///
/// A new ticket is sent when the ticket was sealed with an old key, and on every TLS 1.3
/// resumption: RFC 8446 (§4.6.1, §C.4) has clients use a ticket once, and OpenSSL's client
/// offers a used one no more, so a resumed connection that got no new ticket made its client's
/// next connection a full handshake (every other connection of wrk's, for one; libssl's own
/// ticket keys, nginx's default, renew them the same way).
private let ticketCallback:
    @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?, OpaquePointer?, OpaquePointer?,
        Int32
    ) -> Int32 = { ssl, keyName, iv, cipher, mac, enc in
        guard let ssl, let keyName, let iv, let cipher, let mac, let ctx = SSL_get_SSL_CTX(ssl),
            let arg = shim_SSL_CTX_get_app_data(ctx),
            let ring = Unmanaged<TLSContext>.fromOpaque(arg).takeUnretainedValue().ticketKeys
        else { return -1 }
        if enc == 1 {
            let key = ring.sealingKey()
            let ivLength = Int(EVP_CIPHER_get_iv_length(EVP_aes_256_cbc()))
            guard RAND_bytes(iv, Int32(ivLength)) == 1 else { return -1 }
            key.name.withUnsafeBufferPointer { keyName.update(from: $0.baseAddress!, count: 16) }
            return key.aes.withUnsafeBufferPointer { a in
                key.hmac.withUnsafeBufferPointer { h in
                    shim_ticket_crypto(cipher, mac, a.baseAddress, h.baseAddress, iv, 1)
                }
            } == 1 ? 1 : -1
        }
        let found = ring.lookup(name: UnsafeRawBufferPointer(start: keyName, count: 16))
        let key: TicketKeyRing.Key
        let answer: Int32
        switch found {
        case .unknown: return 0
        case .current(let k): (key, answer) = (k, SSL_version(ssl) == TLS1_3_VERSION ? 2 : 1)
        case .previous(let k): (key, answer) = (k, 2)
        }
        let ok = key.aes.withUnsafeBufferPointer { a in
            key.hmac.withUnsafeBufferPointer { h in shim_ticket_crypto(cipher, mac, a.baseAddress, h.baseAddress, iv, 0)
            }
        }
        return ok == 1 ? answer : -1
    }
