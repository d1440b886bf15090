internal import CTLS
import Glibc
import Synchronization

/// Cipher suites below TLS 1.3 (which has its own, all modern): forward secret AEAD only,
/// as Mozilla's "intermediate" profile.
let tls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/// One `SSL_CTX`: its certificate (server) or trust store (client) and its policy. Immutable
/// once made, so any loop may start connections on it; a reload makes a new one.
public final class TLSContext: @unchecked Sendable {
    let ctx: OpaquePointer
    /// Server: the certificate to check SNI names against (SSL_CTX_get0_certificate).
    let isServer: Bool
    /// Server contexts that SNI may switch to; the first is this context itself.
    private(set) var sniCandidates: [TLSContext] = []
    /// ALPN protocols in wire format (length-prefixed), for the server's select callback.
    private(set) var alpnWire: [UInt8] = []
    /// Client: the last session the server gave us, offered by the next connection for
    /// resumption (one server per context: the context is made per upstream setting).
    private let session = Mutex<SessionSlot>(SessionSlot())
    /// Client: how many sessions (TLS 1.3: tickets) servers have given this context.
    let sessionsReceived = Atomic<Int>(0)
    /// Server: the listener's session-ticket keys (nil: libssl's own, for this context only).
    private(set) var ticketKeys: TicketKeyRing?

    private init(ctx: OpaquePointer, isServer: Bool) {
        self.ctx = ctx
        self.isServer = isServer
    }

    deinit {
        session.withLock { if let s = $0.pointer { SSL_SESSION_free(s) } }
        SSL_CTX_free(ctx)
    }

    /// Keeps `new` (owned) as the session to resume, releasing the one before.
    func storeSession(_ new: OpaquePointer) {
        sessionsReceived.add(1, ordering: .relaxed)
        let old = session.withLock { slot -> SessionSlot in
            let o = slot
            slot = SessionSlot(pointer: new)
            return o
        }
        if let p = old.pointer { SSL_SESSION_free(p) }
    }

    /// Offers the stored session to `ssl` (which takes its own reference).
    func offerSession(to ssl: OpaquePointer) {
        session.withLock { slot in
            if let s = slot.pointer { _ = SSL_set_session(ssl, s) }
        }
    }

    /// A listener's context: every certificate loaded and checked against its key now, so a
    /// bad file is a start-up (or reload) error, never a failed handshake later.
    public static func server(_ config: TLSServerConfiguration, ticketKeys: TicketKeyRing? = nil) throws(TLSError)
        -> TLSContext
    {
        guard !config.certificates.isEmpty else { throw .context(reason: "no certificate") }
        var made: [TLSContext] = []
        for files in config.certificates {
            let c = try serverContext(files, config)
            if let ticketKeys {
                c.ticketKeys = ticketKeys
                _ = shim_SSL_CTX_set_app_data(c.ctx, Unmanaged.passUnretained(c).toOpaque())
                ticketKeys.install(on: c.ctx)
            }
            made.append(c)
        }
        let primary = made[0]
        primary.sniCandidates = made
        if made.count > 1 {
            // The callback's argument is the primary context, which every connection keeps alive.
            let arg = Unmanaged.passUnretained(primary).toOpaque()
            _ = shim_SSL_CTX_set_tlsext_servername_callback(primary.ctx, sniCallback, arg)
        }
        return primary
    }

    private static func serverContext(
        _ files: CertificateFiles, _ config: TLSServerConfiguration
    ) throws(TLSError) -> TLSContext {
        guard let raw = SSL_CTX_new(TLS_server_method()) else { throw .context(reason: OpenSSLErrors.drain()) }
        let c = TLSContext(ctx: raw, isServer: true)
        try c.applyCommon(minimum: config.minimumVersion, options: shim_SSL_OP_server_defaults())
        // Session resumption through tickets only (no per-process session cache to share).
        _ = shim_SSL_CTX_set_session_cache_mode(raw, Int(SSL_SESS_CACHE_OFF))
        OpenSSLErrors.clear()
        guard SSL_CTX_use_certificate_chain_file(raw, files.chainPath) == 1 else {
            throw .certificateChain(path: files.chainPath, reason: OpenSSLErrors.drain())
        }
        try usePrivateKey(raw, files)
        guard SSL_CTX_check_private_key(raw) == 1 else {
            OpenSSLErrors.clear()
            throw .keyMismatch(chain: files.chainPath, key: files.keyPath)
        }
        // Serving an expired certificate fails every verifying client: refuse it at load, so
        // a reload with one keeps the certificate that still works.
        if let leaf = SSL_CTX_get0_certificate(raw),
            X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0
                || X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0
        {
            throw .certificateNotValidNow(path: files.chainPath)
        }
        if let ca = config.clientCAPath {
            guard SSL_CTX_load_verify_locations(raw, ca, nil) == 1, let names = SSL_load_client_CA_file(ca) else {
                throw .caFile(path: ca, reason: OpenSSLErrors.drain())
            }
            SSL_CTX_set_client_CA_list(raw, names)
            let mode = SSL_VERIFY_PEER | (config.requireClientCertificate ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0)
            SSL_CTX_set_verify(raw, mode, nil)
        }
        if !config.alpn.isEmpty {
            c.alpnWire = wireFormat(config.alpn)
            SSL_CTX_set_alpn_select_cb(raw, alpnSelect, Unmanaged.passUnretained(c).toOpaque())
        }
        return c
    }

    /// An outgoing context: the peer is verified (CA bundle or the system store) unless a
    /// test turned it off; the host name is checked per connection.
    public static func client(_ config: TLSClientConfiguration) throws(TLSError) -> TLSContext {
        guard let raw = SSL_CTX_new(TLS_client_method()) else { throw .context(reason: OpenSSLErrors.drain()) }
        let c = TLSContext(ctx: raw, isServer: false)
        try c.applyCommon(minimum: config.minimumVersion, options: shim_SSL_OP_client_defaults())
        OpenSSLErrors.clear()
        if let ca = config.caPath {
            guard SSL_CTX_load_verify_locations(raw, ca, nil) == 1 else {
                throw .caFile(path: ca, reason: OpenSSLErrors.drain())
            }
        } else if SSL_CTX_set_default_verify_paths(raw) != 1 {
            throw .context(reason: "system CA store: \(OpenSSLErrors.drain())")
        }
        SSL_CTX_set_verify(raw, config.verifyPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        _ = shim_SSL_CTX_set_session_cache_mode(raw, shim_SSL_SESS_CACHE_client_external())
        _ = shim_SSL_CTX_set_app_data(raw, Unmanaged.passUnretained(c).toOpaque())
        SSL_CTX_sess_set_new_cb(raw, newSessionCallback)
        if let files = config.certificate {
            guard SSL_CTX_use_certificate_chain_file(raw, files.chainPath) == 1 else {
                throw .certificateChain(path: files.chainPath, reason: OpenSSLErrors.drain())
            }
            try usePrivateKey(raw, files)
            guard SSL_CTX_check_private_key(raw) == 1 else {
                OpenSSLErrors.clear()
                throw .keyMismatch(chain: files.chainPath, key: files.keyPath)
            }
        }
        if !config.alpn.isEmpty {
            let wire = wireFormat(config.alpn)
            // Unlike most of libssl, this one returns 0 on success.
            guard SSL_CTX_set_alpn_protos(raw, wire, UInt32(wire.count)) == 0 else {
                throw .context(reason: "ALPN list: \(OpenSSLErrors.drain())")
            }
        }
        return c
    }

    private static func usePrivateKey(_ raw: OpaquePointer, _ files: CertificateFiles) throws(TLSError) {
        guard SSL_CTX_use_PrivateKey_file(raw, files.keyPath, SSL_FILETYPE_PEM) == 1 else {
            let reason = OpenSSLErrors.drain()
            // libssl checks the key against the leaf as it loads it.
            if reason.contains("key values mismatch") { throw .keyMismatch(chain: files.chainPath, key: files.keyPath) }
            throw .privateKey(path: files.keyPath, reason: reason)
        }
    }

    private func applyCommon(minimum: TLSVersion, options: UInt64) throws(TLSError) {
        let version = minimum == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION
        guard shim_SSL_CTX_set_min_proto_version(ctx, version) == 1 else {
            throw .context(reason: "minimum version: \(OpenSSLErrors.drain())")
        }
        _ = SSL_CTX_set_options(ctx, options)
        _ = shim_SSL_CTX_set_mode(ctx, shim_SSL_MODE_nonblocking())
        _ = shim_SSL_CTX_set_read_ahead(ctx)
        guard SSL_CTX_set_cipher_list(ctx, tls12Ciphers) == 1 else {
            throw .context(reason: "cipher list: \(OpenSSLErrors.drain())")
        }
    }

    /// Caps the highest version (tests of the minimum; never needed in production).
    func capMaximumVersion(at version: TLSVersion) -> Bool {
        shim_SSL_CTX_set_max_proto_version(ctx, version == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION) == 1
    }

    /// The candidate whose certificate covers `name` (wildcards as X509_check_host has them).
    func context(forServerName name: UnsafePointer<CChar>) -> TLSContext? {
        let length = strlen(name)
        for c in sniCandidates {
            guard let cert = SSL_CTX_get0_certificate(c.ctx) else { continue }
            if X509_check_host(cert, name, length, 0, nil) == 1 { return c }
        }
        return nil
    }
}

/// A client connection got a session (TLS 1.3: after the handshake, in a ticket): keep it.
private let newSessionCallback: @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32 = { ssl, session in
    guard let ssl, let session, let ctx = SSL_get_SSL_CTX(ssl), let arg = shim_SSL_CTX_get_app_data(ctx) else {
        return 0
    }
    Unmanaged<TLSContext>.fromOpaque(arg).takeUnretainedValue().storeSession(session)
    return 1  // we own the reference now
}

/// An `SSL_SESSION` reference; libssl's sessions are reference-counted and thread-safe.
struct SessionSlot: @unchecked Sendable {
    var pointer: OpaquePointer?
}

/// `["http/1.1"]` -> `\x08http/1.1`.
func wireFormat(_ protocols: [String]) -> [UInt8] {
    var out: [UInt8] = []
    for p in protocols {
        let bytes = Array(p.utf8)
        guard !bytes.isEmpty, bytes.count < 256 else { continue }
        out.append(UInt8(bytes.count))
        out.append(contentsOf: bytes)
    }
    return out
}

/// SNI: switch the connection to the certificate that covers the name. An unknown name keeps
/// the default certificate (as nginx's default server does); the client's verification decides.
private let sniCallback:
    @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?) -> Int32 = {
        ssl, _, arg in
        guard let ssl, let arg else { return shim_SSL_TLSEXT_ERR_NOACK() }
        let primary = Unmanaged<TLSContext>.fromOpaque(arg).takeUnretainedValue()
        guard let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else { return shim_SSL_TLSEXT_ERR_NOACK() }
        if let chosen = primary.context(forServerName: name), chosen !== primary {
            _ = SSL_set_SSL_CTX(ssl, chosen.ctx)
        }
        return shim_SSL_TLSEXT_ERR_OK()
    }

/// ALPN: the server's preference among what the client offers; nothing in common means no
/// ALPN answer (the client may still speak HTTP/1.1), not a failed handshake.
private let alpnSelect:
    @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<UInt8>?,
        UnsafePointer<UInt8>?, UInt32, UnsafeMutableRawPointer?
    ) -> Int32 = { _, out, outlen, input, inlen, arg in
        guard let out, let outlen, let input, let arg else { return shim_SSL_TLSEXT_ERR_NOACK() }
        let context = Unmanaged<TLSContext>.fromOpaque(arg).takeUnretainedValue()
        return context.alpnWire.withUnsafeBufferPointer { ours -> Int32 in
            var i = 0
            while i < ours.count {
                let n = Int(ours[i])
                let candidate = UnsafeBufferPointer(rebasing: ours[(i + 1)..<(i + 1 + n)])
                var j = 0
                while j < Int(inlen) {
                    let m = Int(input[j])
                    if m == n, j + 1 + m <= Int(inlen), memcmp(input + j + 1, candidate.baseAddress!, n) == 0 {
                        // Point into the client's list: it lives as long as the handshake.
                        out.pointee = input + j + 1
                        outlen.pointee = UInt8(n)
                        return shim_SSL_TLSEXT_ERR_OK()
                    }
                    j += 1 + m
                }
                i += 1 + n
            }
            return shim_SSL_TLSEXT_ERR_NOACK()
        }
    }
