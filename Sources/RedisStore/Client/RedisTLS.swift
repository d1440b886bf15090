import TLS

/// TLS settings of a `rediss://` store (`store.tls` in gateway.json). Verification is always
/// on: the server's certificate must chain to `caFile` (or the system store) and cover
/// `serverName` (or the URL's host). There is no switch to skip it.
public struct RedisTLSSettings: Sendable, Equatable {
    /// CA bundle (PEM) the server's certificate must chain to; nil: the system store.
    public var caFile: String?
    /// Client certificate chain (PEM) for `tls-auth-clients`; needs `keyFile`.
    public var certFile: String?
    /// The client certificate's private key (PEM); needs `certFile`.
    public var keyFile: String?
    /// Name sent as SNI and checked against the certificate instead of the URL's host.
    public var serverName: String?

    public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, serverName: String? = nil) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.serverName = serverName
    }
}

/// Why Redis options were refused. No case carries a password or key material.
public enum RedisOptionsError: Error, Sendable, Equatable, CustomStringConvertible {
    case url(RedisURLError)
    /// TLS settings with a `redis://` URL: refused rather than silently sent in plaintext.
    case tlsNeedsRediss
    /// A client certificate without its key, or a key without its certificate.
    case incompleteClientCertificate
    /// `serverName` is empty or not a plain host name or IP address.
    case badServerName
    /// The TLS context could not be made: a file is missing, unreadable or does not match.
    case tls(String)

    public var description: String {
        switch self {
        case .url(let e): return e.description
        case .tlsNeedsRediss: return "TLS settings need a rediss:// URL (redis:// is plaintext)"
        case .incompleteClientCertificate: return "a client certificate needs both cert_file and key_file"
        case .badServerName: return "server_name must be a host name or an IP address"
        case .tls(let why): return why
        }
    }
}

/// The context every `rediss://` connection of a store starts from, made (and its files
/// checked) once, when the options are.
struct RedisTLSContext: Sendable {
    let context: TLSContext
    /// Sent as SNI and checked against the server's certificate.
    let serverName: String

    init(_ settings: RedisTLSSettings, host: String) throws(RedisOptionsError) {
        if (settings.certFile == nil) != (settings.keyFile == nil) { throw .incompleteClientCertificate }
        if let name = settings.serverName {
            let allowed = name.utf8.allSatisfy { b in
                b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: ":")
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
                    || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b | 0x20)
            }
            guard !name.isEmpty, name.utf8.count <= 253, allowed else { throw .badServerName }
        }
        var config = TLSClientConfiguration()
        config.caPath = settings.caFile
        if let cert = settings.certFile, let key = settings.keyFile {
            config.certificate = CertificateFiles(chainPath: cert, keyPath: key)
        }
        do {
            context = try TLSContext.client(config)
        } catch {
            throw .tls(error.description)
        }
        serverName = settings.serverName ?? host
    }
}
