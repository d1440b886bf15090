import HTTP1
import TLS

extension GatewayConfig {
    /// `tls`: the public listener speaks TLS only. Either one certificate (`cert_file` +
    /// `key_file`) or several chosen by SNI (`certificates[]`, the first the default).
    static func readListenerTLS(_ root: inout ConfigReader, base: String) -> TLSServerConfiguration? {
        guard var r = root.object("tls") else { return nil }
        var certificates: [CertificateFiles] = []
        func pair(_ c: inout ConfigReader) -> CertificateFiles? {
            let cert = c.string("cert_file", required: true)
            let key = c.string("key_file", required: true)
            guard let cert, let key else { return nil }
            return CertificateFiles(
                chainPath: FileIO.resolve(cert, against: base), keyPath: FileIO.resolve(key, against: base))
        }
        if r.has("certificates") {
            if r.has("cert_file") || r.has("key_file") {
                r.issues.add(r.child("certificates"), "give either certificates[] or cert_file and key_file, not both")
            }
            if case .array(let items)? = r.raw("certificates"), !items.isEmpty {
                for (i, item) in items.enumerated() {
                    guard var c = ConfigReader(item, path: "\(r.child("certificates"))[\(i)]", issues: r.issues)
                    else { continue }
                    if let p = pair(&c) { certificates.append(p) }
                    c.finish()
                }
            } else {
                r.issues.add(r.child("certificates"), "must be a non-empty array of {cert_file, key_file}")
            }
        } else if let p = pair(&r) {
            certificates.append(p)
        }
        var settings = TLSServerConfiguration(certificates: certificates)
        switch r.string("min_version") ?? "1.2" {
        case "1.2": settings.minimumVersion = .tls12
        case "1.3": settings.minimumVersion = .tls13
        case let other:
            r.issues.add(r.child("min_version"), "\(JSONWriter.quoted(other)) must be \"1.2\" or \"1.3\"")
        }
        if let ca = r.string("client_ca_file") {
            settings.clientCAPath = FileIO.resolve(ca, against: base)
        }
        switch r.string("client_certificates") ?? "required" {
        case "required": settings.requireClientCertificate = true
        case "optional": settings.requireClientCertificate = false
        case let other:
            r.issues.add(
                r.child("client_certificates"), "\(JSONWriter.quoted(other)) must be \"required\" or \"optional\"")
        }
        if r.has("client_certificates") && settings.clientCAPath == nil {
            r.issues.add(r.child("client_certificates"), "needs client_ca_file")
        }
        r.finish()
        return settings
    }

    /// A route's `upstream_tls`: how its `https://` upstreams are verified, and the client
    /// certificate it shows them. There is no switch to skip verification.
    static func readUpstreamTLS(_ root: inout ConfigReader, key: String = "upstream_tls", base: String)
        -> UpstreamTLS?
    {
        guard var r = root.object(key) else { return nil }
        var t = UpstreamTLS(serverName: "")
        t.caFile = r.string("ca_file").map { FileIO.resolve($0, against: base) }
        t.certFile = r.string("cert_file").map { FileIO.resolve($0, against: base) }
        t.keyFile = r.string("key_file").map { FileIO.resolve($0, against: base) }
        if (t.certFile == nil) != (t.keyFile == nil) {
            r.issues.add(r.path, "cert_file and key_file go together (the client certificate for mTLS)")
        }
        if let name = r.string("server_name") {
            if let c = try? HostCanonicalizer.canonicalize(name), c.port < 0, !c.host.hasPrefix("[") {
                t.serverName = c.host
            } else {
                r.issues.add(r.child("server_name"), "\(JSONWriter.quoted(name)) must be a host name or IP literal")
            }
        }
        r.finish()
        return t
    }
}

extension GatewayConfig {
    /// Every private key file of the configuration (listener, https upstreams, the
    /// authenticator, Redis) that every user may read: warned about by `check` and at start.
    var looseKeyFiles: [String] {
        var keys = tls?.certificates.map(\.keyPath) ?? []
        keys += routes.flatMap { $0.upstreams.compactMap { $0.tls?.keyFile } }
        if case .upstream(let url, _, _)? = auth.authenticator, let k = url.tls?.keyFile { keys.append(k) }
        if case .redis(_, _, _, let t) = store, let k = t?.keyFile { keys.append(k) }
        var seen = Set<String>()
        return keys.filter { seen.insert($0).inserted && KeyFilePermissions.isReadableByEveryone($0) }
    }

    /// The files a running gateway reloads when they change: the listener's certificates,
    /// keys and client CA.
    var watchedFiles: [String] {
        guard let tls else { return [] }
        return tls.certificates.flatMap { [$0.chainPath, $0.keyPath] } + (tls.clientCAPath.map { [$0] } ?? [])
    }
}
