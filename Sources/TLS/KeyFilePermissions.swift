import Glibc

extension TLSServerConfiguration {
    /// Private key files that users other than the owner may read: worth a warning, not a
    /// refusal (Kubernetes mounts secrets 0644 unless `defaultMode` says otherwise).
    public var looseKeyFiles: [String] {
        certificates.map(\.keyPath).filter { path in
            var st = stat()
            return stat(path, &st) == 0 && st.st_mode & 0o044 != 0
        }
    }
}
