/// Severity of a store log line. Only lifecycle and recovery events are logged, never tokens.
public enum StoreLogLevel: Int, Sendable, Comparable {
    case debug, info, warning, error

    public static func < (a: StoreLogLevel, b: StoreLogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// Where the store's log lines go (the gateway passes its logger).
public typealias StoreLogger = @Sendable (StoreLogLevel, String) -> Void

/// Settings of the embedded store (`"store": {"kind": "embedded", "path": "data"}`).
public struct JournalOptions: Sendable {
    /// The data directory; created (one level) if missing.
    public var path: String
    /// `fdatasync` each batch before acknowledging it. Turn off only in tests that do not
    /// test durability: without it an acknowledged change can be lost on power failure.
    public var fsync: Bool
    /// Log size (bytes) past which the live state is written to a new snapshot and the log
    /// restarts empty. The effective threshold is at least the last snapshot's size, so
    /// compaction never rewrites more than twice what was appended.
    public var compactionThreshold: Int
    /// Most operations applied and committed with one `fdatasync`.
    public var maxBatch: Int
    /// Most operations waiting for the writer; beyond it calls fail at once with
    /// `.unavailable` (back-pressure, and a bound on memory when the disk stalls).
    public var maxQueued: Int
    /// Expired entries examined per batch (bounds the cleanup work of any one batch).
    public var sweepBudget: Int
    public var logger: StoreLogger

    /// Test hook: stop a compaction at this step, leaving its files as a crash would.
    var crashPoint: CompactionCrashPoint?

    public init(
        path: String,
        fsync: Bool = true,
        compactionThreshold: Int = 64 << 20,
        maxBatch: Int = 1024,
        maxQueued: Int = 65_536,
        sweepBudget: Int = 256,
        logger: @escaping StoreLogger = { _, _ in }
    ) {
        self.path = path
        self.fsync = fsync
        self.compactionThreshold = compactionThreshold
        self.maxBatch = maxBatch
        self.maxQueued = maxQueued
        self.sweepBudget = sweepBudget
        self.logger = logger
    }
}

/// Steps of a compaction at which a test can simulate a crash.
enum CompactionCrashPoint: Sendable, Equatable {
    /// The new log exists; no snapshot written yet.
    case afterRollover
    /// `snapshot.tmp` half written.
    case midSnapshot
    /// `snapshot.tmp` complete and synced, not renamed.
    case beforeRename
    /// `snapshot` replaced; the logs it covers not deleted yet.
    case afterRename
}

/// Why the data directory could not be opened.
public enum JournalOpenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Another process (or store instance) holds the directory's lock file.
    case locked(path: String)
    case io(JournalIOError)
    /// The snapshot is incomplete or fails a checksum: never written by a finished
    /// compaction, so the disk is damaged. Not repaired automatically.
    case corruptSnapshot(path: String, reason: String)
    /// A log header is damaged, or a checksummed record does not decode (a newer format?).
    case corruptLog(path: String, offset: Int, reason: String)
    /// A log the snapshot or the other logs require is missing.
    case missingLog(path: String)
    /// The data directory belongs to another user and others may reach it (mode in octal).
    case unsafePermissions(path: String, mode: String, owner: UInt32)

    public var description: String {
        switch self {
        case .locked(let path): return "data directory is locked by another process: \(path)"
        case .io(let e): return e.description
        case .corruptSnapshot(let path, let reason): return "corrupt snapshot \(path): \(reason)"
        case .corruptLog(let path, let offset, let reason): return "corrupt log \(path) at offset \(offset): \(reason)"
        case .missingLog(let path): return "missing log \(path)"
        case .unsafePermissions(let path, let mode, let owner):
            return
                "data directory \(path) has mode \(mode) and belongs to uid \(owner): other users could read or plant store files; make it 0700 (or 0770 for a group volume) and owned by the gateway's user"
        }
    }
}
