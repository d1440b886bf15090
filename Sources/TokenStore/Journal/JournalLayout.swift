#if canImport(Glibc)
import Glibc
#endif

/// The files of a data directory:
///
///     LOCK                  flock'd while a store has the directory open
///     snapshot              live state; its header names the first log it does not cover
///     snapshot.tmp          a snapshot being written (deleted on open)
///     log-00000000000000000001, …   append-only logs, replayed in order after the snapshot
struct JournalLayout: Sendable {
    let directory: String

    var lockPath: String { FileSystem.join(directory, "LOCK") }
    var snapshotPath: String { FileSystem.join(directory, "snapshot") }
    var snapshotTempPath: String { FileSystem.join(directory, "snapshot.tmp") }

    private static let logPrefix = "log-"

    func logPath(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return FileSystem.join(
            directory,
            Self.logPrefix + String(repeating: "0", count: max(0, 20 - digits.count)) + digits
        )
    }

    static func logSequence(name: String) -> UInt64? {
        guard name.hasPrefix(logPrefix) else { return nil }
        let digits = name.dropFirst(logPrefix.count)
        guard digits.count == 20, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(digits)
    }

    /// Sequences of the logs present, ascending.
    func logSequences() throws(JournalIOError) -> [UInt64] {
        try FileSystem.list(directory).compactMap(Self.logSequence(name:)).sorted()
    }

    /// Creates log `sequence` with its header, durably (file and directory entry), for appending.
    func createLog(_ sequence: UInt64) throws(JournalIOError) -> FileDescriptor {
        let path = logPath(sequence)
        let file = try FileSystem.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND)
        try file.writeAll(JournalFormat.header(.log, sequence: sequence))
        try file.sync()
        try FileSystem.syncDirectory(directory)
        return file
    }

    /// Deletes the logs a snapshot made redundant.
    func removeLogs(before sequence: UInt64) throws(JournalIOError) -> Int {
        var removed = 0
        for s in try logSequences() where s < sequence {
            if try FileSystem.remove(logPath(s)) { removed += 1 }
        }
        return removed
    }
}
