import Dispatch
import Synchronization

/// Compaction: once the log outgrows its threshold, the writer starts a new log and hands a
/// copy of the state (copy-on-write: O(1) now, paid by the writer's next mutation) to a
/// background queue, which writes the snapshot and deletes the logs it covers. The writer
/// keeps committing to the new log meanwhile. At most one compaction runs at a time.
final class Compactor: @unchecked Sendable {  // `retryAt` is writer-confined; the rest atomic or immutable
    private let queue = DispatchQueue(label: "token-store.compaction", qos: .utility)
    private let group = DispatchGroup()
    private let running = Atomic<Bool>(false)
    private let lastSnapshotBytes = Atomic<Int>(0)
    private let options: JournalOptions
    private let counters: JournalCounters
    /// After a failed rollover, the log size at which to try again (no retry storm).
    private var retryAt = 0

    init(options: JournalOptions, counters: JournalCounters) {
        self.options = options
        self.counters = counters
    }

    /// Writer thread, between batches. Returns whether a compaction started.
    func startIfDue(journal: Journal, state: TokenState, force: Bool) -> Bool {
        guard !running.load(ordering: .acquiring) else { return false }
        // Never rewrite more than twice what was appended: wait for the log to reach the
        // snapshot's own size.
        let threshold = max(options.compactionThreshold, lastSnapshotBytes.load(ordering: .relaxed), retryAt)
        guard force || journal.logBytes >= threshold else { return false }
        let log = options.logger
        let next: UInt64
        do { next = try journal.rollover() } catch {
            retryAt = journal.logBytes + max(1, options.compactionThreshold)
            log(.warning, "compaction postponed: cannot start a new log: \(error)")
            return false
        }
        retryAt = 0
        if options.crashPoint == .afterRollover { return true }

        running.store(true, ordering: .releasing)
        group.enter()
        let layout = journal.layout
        let crashPoint = options.crashPoint
        queue.async { [self] in
            defer {
                running.store(false, ordering: .releasing)
                group.leave()
            }
            do {
                guard let bytes = try Snapshot.write(state, nextSequence: next, layout: layout, crashPoint: crashPoint)
                else { return }
                lastSnapshotBytes.store(bytes, ordering: .relaxed)
                if crashPoint == .afterRename { return }
                let removed = try layout.removeLogs(before: next)
                counters.compactions.add(1, ordering: .relaxed)
                log(
                    .info,
                    "compacted: snapshot of \(bytes) bytes (\(state.families.count) families held), "
                        + "\(removed) log(s) removed"
                )
            } catch {
                // The old snapshot and every log are still there: nothing is lost.
                _ = try? FileSystem.remove(layout.snapshotTempPath)
                log(.warning, "compaction failed, logs kept: \(error)")
            }
        }
        return true
    }

    /// Blocks until no compaction is running (close).
    func waitUntilIdle() { group.wait() }
}
