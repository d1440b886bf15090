/// The lowest protocol version a context accepts.
public enum TLSVersion: String, Sendable, Equatable {
    case tls12 = "1.2"
    case tls13 = "1.3"
}

/// A certificate chain and its private key, as PEM files (the chain leaf first).
public struct CertificateFiles: Sendable, Equatable {
    public var chainPath: String
    public var keyPath: String

    public init(chainPath: String, keyPath: String) {
        self.chainPath = chainPath
        self.keyPath = keyPath
    }
}

/// What a listener's TLS context is made from (value type: compared across reloads).
public struct TLSServerConfiguration: Sendable, Equatable {
    /// The certificates to serve; the first is the default when SNI names none of the others.
    public var certificates: [CertificateFiles]
    public var minimumVersion: TLSVersion = .tls12
    /// Protocols offered by ALPN, most preferred first.
    public var alpn: [String] = ["http/1.1"]
    /// CA bundle that client certificates must chain to; nil: client certificates are not asked for.
    public var clientCAPath: String?
    /// With `clientCAPath`: refuse clients without a certificate (otherwise it is optional).
    public var requireClientCertificate = true

    public init(certificates: [CertificateFiles]) {
        self.certificates = certificates
    }
}

/// What an outgoing TLS connection (https upstream, rediss, the HTTP client) checks.
public struct TLSClientConfiguration: Sendable, Equatable {
    /// CA bundle to verify the server against; nil: the system's default store.
    public var caPath: String?
    /// Verify the server's certificate and host name. Only a test may turn it off, and
    /// the configuration loader says so loudly.
    public var verifyPeer = true
    /// A client certificate for mutual TLS.
    public var certificate: CertificateFiles?
    public var minimumVersion: TLSVersion = .tls12
    public var alpn: [String] = []

    public init() {}
}
