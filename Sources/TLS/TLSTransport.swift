internal import CTLS
import EventLoop
import Glibc

/// A certificate the peer presented and libssl verified.
public struct PeerCertificate: Sendable, Equatable {
    /// The subject as an RFC 2253 string (`CN=client,O=Example`).
    public var subject: String
    /// SHA-256 of the DER certificate, lower-case hex.
    public var sha256: String

    public init(subject: String, sha256: String) {
        self.subject = subject
        self.sha256 = sha256
    }
}

/// TLS over a non-blocking socket: libssl reads and writes the fd itself (`SSL_set_fd`), and
/// every call returns at once with what it needs next. The handshake runs inside the first
/// reads and writes, on the loop, without blocking it.
public final class TLSTransport: Transport {
    public enum Role: Sendable, Equatable {
        case server
        /// `serverName` is checked against the certificate and sent as SNI (not for IP literals).
        case client(serverName: String)
    }

    public let fd: Int32
    private let ssl: OpaquePointer
    /// Keeps the context (and the SNI candidates its callback points at) alive.
    private let context: TLSContext
    private var closed = false
    public private(set) var handshakeComplete = false
    /// A TLS or socket error was seen: the session is not offered again.
    private var failed = false
    public var isLayered: Bool { true }
    public private(set) var readBlockedOnWrite = false
    /// Set by libssl's socket BIO callback: its last read(2) was short or EAGAIN.
    private let socketDrained = UnsafeMutablePointer<Int32>.allocate(capacity: 1)

    /// Reads one byte, if any: the connection is dropped when this says `.bytes` (it is only
    /// asked of an idle connection, whose every application byte is unwanted).
    public func pendingInput() -> Syscall.Pending {
        var byte: UInt8 = 0
        do {
            switch try withUnsafeMutableBytes(of: &byte, { try read(into: $0) }) {
            case .bytes: return .bytes
            case .closed: return .endOfStream
            case .wantRead, .wantWrite: return .nothing
            }
        } catch let error as TransportError {
            if case .io(let e) = error { return .failed(errno: e.errno) }
            return .failed(errno: EPROTO)
        } catch {
            return .failed(errno: EPROTO)
        }
    }

    public init(fd: Int32, context: TLSContext, role: Role) throws(TLSError) {
        guard let ssl = SSL_new(context.ctx) else { throw .context(reason: OpenSSLErrors.drain()) }
        self.fd = fd
        self.ssl = ssl
        self.context = context
        guard SSL_set_fd(ssl, fd) == 1 else {
            // deinit frees `ssl`; the fd stays the caller's, which closes it.
            closed = true
            throw .context(reason: OpenSSLErrors.drain())
        }
        socketDrained.pointee = 0
        shim_SSL_probe_reads(ssl, socketDrained)
        switch role {
        case .server:
            SSL_set_accept_state(ssl)
        case .client(let name):
            if Self.isIPLiteral(name) {
                let param = SSL_get0_param(ssl)
                _ = X509_VERIFY_PARAM_set1_ip_asc(param, name)
            } else {
                _ = shim_SSL_set_tlsext_host_name(ssl, name)
                _ = SSL_set1_host(ssl, name)
            }
            context.offerSession(to: ssl)
            SSL_set_connect_state(ssl)
        }
    }

    deinit {
        // libssl marks the session of a connection freed without a shutdown as not
        // resumable; a connection that ended without a TLS error keeps its session usable.
        if handshakeComplete && !failed { SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN) }
        SSL_free(ssl)
        socketDrained.deallocate()
        if !closed { Syscall.close(fd) }
    }

    /// Drained when libssl holds no unread bytes and its last read(2) found the socket empty:
    /// everything the kernel had then has been consumed, and what arrives later raises a new
    /// edge. (Read ahead: one read(2) can bring several records, which then need no call.)
    public func readDrained(got: Int, asked: Int) -> Bool {
        socketDrained.pointee != 0 && SSL_has_pending(ssl) == 0
    }

    /// Drives the handshake alone (without application data); `.bytes(0)` once complete.
    public func handshake() throws(TransportError) -> TransportIO {
        if handshakeComplete { return .bytes(0) }
        OpenSSLErrors.clear()
        readBlockedOnWrite = false
        let r = SSL_do_handshake(ssl)
        if r == 1 {
            handshakeComplete = true
            return .bytes(0)
        }
        let result = try outcome(r, reading: false)
        readBlockedOnWrite = result == .wantWrite
        return result
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> TransportIO {
        OpenSSLErrors.clear()
        var n = 0
        readBlockedOnWrite = false
        if SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &n) == 1 {
            handshakeComplete = true
            return .bytes(n)
        }
        let result = try outcome(0, reading: true)
        readBlockedOnWrite = result == .wantWrite
        return result
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(TransportError) -> TransportIO {
        OpenSSLErrors.clear()
        var n = 0
        if SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &n) == 1 {
            handshakeComplete = true
            return .bytes(n)
        }
        return try outcome(0, reading: false)
    }

    /// Sends close_notify, then ends the TCP sending side. Does not wait for the peer's.
    public func shutdownWrite() throws(TransportError) -> TransportIO {
        OpenSSLErrors.clear()
        if handshakeComplete {
            // One try: a close_notify that does not fit the socket now is dropped; the HTTP
            // framing already told the peer where the data ends.
            _ = SSL_shutdown(ssl)
            OpenSSLErrors.clear()
        }
        Socket.shutdownWrite(fd)
        return .bytes(0)
    }

    public func close() {
        guard !closed else { return }
        closed = true
        Syscall.close(fd)
    }

    /// The protocol ALPN settled on, if any.
    public var negotiatedProtocol: String? {
        var p: UnsafePointer<UInt8>?
        var n: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &p, &n)
        guard let p, n > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(n)), as: UTF8.self)
    }

    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// Whether the handshake resumed an earlier session.
    public var resumedSession: Bool { SSL_session_reused(ssl) == 1 }

    /// The server name the client asked for (SNI), on the server side.
    public var requestedServerName: String? {
        guard let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else { return nil }
        return String(cString: name)
    }

    /// The peer's certificate, only if it was presented and verified.
    public var verifiedPeerCertificate: PeerCertificate? {
        guard handshakeComplete, let cert = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(cert) }
        guard SSL_get_verify_result(ssl) == X509_V_OK else { return nil }
        return PeerCertificate(subject: Self.subject(of: cert), sha256: Self.fingerprint(of: cert))
    }

    private func outcome(_ r: Int32, reading: Bool) throws(TransportError) -> TransportIO {
        let e = SSL_get_error(ssl, r)
        if e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_ZERO_RETURN { failed = true }
        switch e {
        case SSL_ERROR_WANT_READ:
            return .wantRead
        case SSL_ERROR_WANT_WRITE:
            return .wantWrite
        case SSL_ERROR_ZERO_RETURN:
            // close_notify, or (SSL_OP_IGNORE_UNEXPECTED_EOF) a bare TCP close: HTTP framing
            // above decides whether the message was complete.
            return .closed
        case SSL_ERROR_SYSCALL:
            let code = errno
            OpenSSLErrors.clear()
            if code == 0 || code == ECONNRESET && reading { return .closed }
            throw .io(IOError(errno: code, function: reading ? "SSL_read" : "SSL_write"))
        default:
            let reason = OpenSSLErrors.drain()
            if !handshakeComplete {
                let verify = SSL_get_verify_result(ssl)
                if verify != X509_V_OK {
                    throw .handshake(
                        reason: "certificate: " + String(cString: X509_verify_cert_error_string(Int(verify))))
                }
                throw .handshake(reason: reason)
            }
            throw .protocolViolation(reason: reason)
        }
    }

    static func isIPLiteral(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }

    static func subject(of cert: OpaquePointer) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        _ = X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, shim_XN_FLAG_RFC2253())
        var p: UnsafeMutablePointer<CChar>?
        let n = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &p)
        guard let p, n > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
    }

    static func fingerprint(of cert: OpaquePointer) -> String {
        var md = [UInt8](repeating: 0, count: 32)
        var n: UInt32 = 0
        guard X509_digest(cert, EVP_sha256(), &md, &n) == 1 else { return "" }
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in md.prefix(Int(n)) {
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
