import Synchronization

/// Counters of the embedded store, for metrics and for tests of group commit.
public struct JournalStatistics: Sendable, Equatable {
    /// Operations answered (including rejections and reads).
    public var operations: Int
    /// Batches that appended at least one record.
    public var writeBatches: Int
    /// `fdatasync` calls made for batches (one per write batch when fsync is on).
    public var fsyncs: Int
    /// Record bytes appended to logs.
    public var bytesWritten: Int
    /// Snapshots completed.
    public var compactions: Int
}

/// The live counters behind `JournalStatistics`, written by the writer and compaction threads.
final class JournalCounters: Sendable {
    let operations = Atomic<Int>(0)
    let writeBatches = Atomic<Int>(0)
    let fsyncs = Atomic<Int>(0)
    let bytesWritten = Atomic<Int>(0)
    let compactions = Atomic<Int>(0)

    var snapshot: JournalStatistics {
        JournalStatistics(
            operations: operations.load(ordering: .relaxed),
            writeBatches: writeBatches.load(ordering: .relaxed),
            fsyncs: fsyncs.load(ordering: .relaxed),
            bytesWritten: bytesWritten.load(ordering: .relaxed),
            compactions: compactions.load(ordering: .relaxed)
        )
    }
}
