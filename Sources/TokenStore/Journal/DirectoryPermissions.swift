#if canImport(Glibc)
import Glibc
#endif

/// The data directory holds every live refresh token's hash and the revocations: nobody but
/// the gateway's user may read it, and nobody else may plant files in it (a forged snapshot
/// would be replayed at the next start). New directories and files are created 0700/0600;
/// this decides what to do with a directory that already existed.
enum DirectoryPermissions {
    /// What `check` found, for the caller to carry out and log.
    enum Verdict: Equatable {
        /// Only the owner has access: nothing to do.
        case tight
        /// Ours, with group or other bits set: tighten it to 0700.
        case tighten(from: mode_t)
        /// Not ours (a mounted volume, e.g. Kubernetes `fsGroup`), readable or writable by its
        /// group: we cannot chmod it, and the group is the deployment's choice. Warn.
        case groupAccess(mode: mode_t)
        /// Anyone may write or read in it and we cannot fix that: refuse to start.
        case refuse(mode: mode_t, owner: uid_t)
    }

    /// Pure: from the directory's mode and owner and our effective user id.
    static func check(mode: mode_t, owner: uid_t, user: uid_t) -> Verdict {
        let bits = mode & 0o7777
        if owner == user {
            return bits & 0o077 == 0 ? .tight : .tighten(from: bits)
        }
        if bits & 0o007 != 0 { return .refuse(mode: bits, owner: owner) }
        return bits & 0o070 != 0 ? .groupAccess(mode: bits) : .tight
    }

    static func octal(_ mode: mode_t) -> String {
        let s = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    /// Checks an existing data directory and applies the verdict: chmod what is ours
    /// (the directory, and the files in it to 0600), log what is not, throw what is unsafe.
    static func secure(_ path: String, log: StoreLogger) throws(JournalOpenError) {
        var st = stat()
        do { try FileSystem.call("stat", path) { stat(path, &st) } } catch { throw .io(error) }
        switch check(mode: st.st_mode, owner: st.st_uid, user: geteuid()) {
        case .tight:
            break
        case .tighten(let from):
            do { try FileSystem.call("chmod", path) { chmod(path, 0o700) } } catch { throw .io(error) }
            log(.warning, "data directory \(path) had mode \(octal(from)); tightened to 0700")
        case .groupAccess(let mode):
            log(
                .warning,
                "data directory \(path) has mode \(octal(mode)) and belongs to another user: its group can reach the store's files"
            )
        case .refuse(let mode, let owner):
            throw .unsafePermissions(path: path, mode: octal(mode), owner: owner)
        }
        tightenFiles(in: path, log: log)
    }

    /// Files left by an older version or copied in by hand: ours and readable by others -> 0600.
    private static func tightenFiles(in path: String, log: StoreLogger) {
        let user = geteuid()
        var tightened = 0
        for name in (try? FileSystem.list(path)) ?? [] {
            let file = FileSystem.join(path, name)
            var st = stat()
            guard lstat(file, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_uid == user,
                st.st_mode & 0o077 != 0
            else { continue }
            if chmod(file, 0o600) == 0 { tightened += 1 }
        }
        if tightened > 0 { log(.warning, "tightened \(tightened) file(s) in \(path) to 0600") }
    }
}
