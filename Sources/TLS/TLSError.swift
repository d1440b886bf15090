internal import CTLS

/// Why a TLS context could not be made. Each case names the file or setting at fault and
/// OpenSSL's reason; none carries key material.
public enum TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    case certificateChain(path: String, reason: String)
    case privateKey(path: String, reason: String)
    /// The key does not belong to the chain's leaf certificate.
    case keyMismatch(chain: String, key: String)
    case caFile(path: String, reason: String)
    /// The leaf certificate is past its notAfter (or before its notBefore).
    case certificateNotValidNow(path: String)
    case context(reason: String)

    public var description: String {
        switch self {
        case .certificateChain(let p, let r): return "certificate chain \(p): \(r)"
        case .privateKey(let p, let r): return "private key \(p): \(r)"
        case .keyMismatch(let c, let k): return "private key \(k) does not match the certificate in \(c)"
        case .caFile(let p, let r): return "CA file \(p): \(r)"
        case .certificateNotValidNow(let p): return "certificate \(p) has expired (or is not valid yet)"
        case .context(let r): return "TLS context: \(r)"
        }
    }
}

/// OpenSSL's per-thread error queue, drained into one line (and left empty: a stale entry
/// would be blamed on the next, unrelated call on this thread).
enum OpenSSLErrors {
    static func drain() -> String {
        var parts: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if parts.count >= 4 { continue }
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buf, buf.count)
            parts.append(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return parts.isEmpty ? "unknown error" : parts.joined(separator: "; ")
    }

    /// Empties this thread's error queue before an `SSL_*` call, so that `SSL_get_error` reads
    /// only what that call left. `ERR_clear_error` walks all 16 slots of the queue (about 800
    /// instructions in OpenSSL 3.0, twice or more per TLS request); the queue is almost always
    /// empty already (every failure path drains it), which one `ERR_peek_error` tells.
    @inline(__always)
    static func clear() {
        if ERR_peek_error() != 0 { ERR_clear_error() }
    }
}
