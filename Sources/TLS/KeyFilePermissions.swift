import Glibc

/// Private key files that every user may read: worth a warning, not a refusal (Kubernetes
/// mounts secrets 0644 unless `defaultMode` says otherwise). Group-readable is not warned
/// about: that is how a pod's `fsGroup` gives a non-root process its Secret.
public enum KeyFilePermissions {
    public static func isReadableByEveryone(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & 0o004 != 0
    }
}

extension TLSServerConfiguration {
    /// The listener's key files that every user may read.
    public var looseKeyFiles: [String] {
        certificates.map(\.keyPath).filter(KeyFilePermissions.isReadableByEveryone)
    }
}
