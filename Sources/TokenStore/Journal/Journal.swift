#if canImport(Glibc)
import Glibc
#endif

/// An open data directory: its lock and the log being appended to. Used by one thread at a
/// time (the writer); compaction's snapshot runs elsewhere on a copy of the state and only
/// touches `snapshot.tmp`, `snapshot` and logs older than the current one.
final class Journal {
    let layout: JournalLayout
    /// Held (flock) for the life of this object: a second store on the directory fails to open.
    private let lock: FileDescriptor
    private var log: FileDescriptor
    /// Sequence of the log being appended to.
    private(set) var sequence: UInt64
    /// Size of that log.
    private(set) var logBytes: Int

    private init(layout: JournalLayout, lock: FileDescriptor, log: FileDescriptor, sequence: UInt64, logBytes: Int) {
        self.layout = layout
        self.lock = lock
        self.log = log
        self.sequence = sequence
        self.logBytes = logBytes
    }

    /// Unlocks before the descriptor closes: `flock` belongs to the open file description,
    /// which a child forked by another thread (between its fork and its exec, where
    /// `O_CLOEXEC` closes it) still shares, and the next open of the directory would find it
    /// locked.
    deinit {
        lock.unlock()
    }

    /// Test hook: the next append writes this many bytes and then fails (a full disk).
    var failNextAppend: (writtenBytes: Int, error: JournalIOError)?

    /// Appends encoded records (not yet durable: see `sync()`).
    func append(_ bytes: [UInt8]) throws(JournalIOError) {
        if let failure = failNextAppend {
            failNextAppend = nil
            try log.writeAll(Array(bytes.prefix(failure.writtenBytes)))
            throw failure.error
        }
        try log.writeAll(bytes)
        logBytes += bytes.count
    }

    /// Makes everything appended so far durable.
    func sync() throws(JournalIOError) {
        try log.syncData()
    }

    /// Starts the next log, durably, and appends there from now on. Returns its sequence:
    /// a snapshot of the state as it is now covers every log before it.
    func rollover() throws(JournalIOError) -> UInt64 {
        let next = sequence + 1
        let file: FileDescriptor
        do { file = try layout.createLog(next) } catch {
            // Best effort: an empty stray log after the current one replays as nothing.
            _ = try? FileSystem.remove(layout.logPath(next))
            throw error
        }
        log = file
        sequence = next
        logBytes = JournalFormat.headerSize
        return next
    }
}

extension Journal {
    /// Opens (creating if needed) the data directory, takes its lock and recovers the state:
    /// the snapshot, then every log after it in order. A torn tail (a record cut short or
    /// failing its checksum) is truncated away and logged; it was never acknowledged.
    static func open(_ options: JournalOptions) throws(JournalOpenError) -> (Journal, TokenState) {
        let layout = JournalLayout(directory: options.path)
        let log = options.logger
        let lock: FileDescriptor
        do {
            try FileSystem.makeDirectory(layout.directory)
            try DirectoryPermissions.secure(layout.directory, log: log)
            lock = try FileSystem.open(layout.lockPath, O_RDWR | O_CREAT)
            guard try lock.tryLock() else { throw JournalOpenError.locked(path: layout.lockPath) }
            if try FileSystem.remove(layout.snapshotTempPath) {
                log(.warning, "removed an unfinished snapshot.tmp (compaction interrupted)")
            }
        } catch let e as JournalOpenError {
            throw e
        } catch let e as JournalIOError {
            throw .io(e)
        } catch {
            throw .io(JournalIOError(operation: "open", path: layout.directory, code: EIO))
        }

        let loaded = try Snapshot.load(layout)
        var state = loaded?.state ?? TokenState()
        let first = loaded?.nextSequence ?? 1
        let sequences: [UInt64]
        do {
            sequences = try layout.logSequences()
            // Logs a finished compaction had not deleted yet.
            let stale = try layout.removeLogs(before: first)
            if stale > 0 { log(.info, "removed \(stale) log(s) covered by the snapshot") }
        } catch {
            throw .io(error)
        }
        let live = sequences.filter { $0 >= first }
        for (i, s) in live.enumerated() where s != first + UInt64(i) {
            throw .missingLog(path: layout.logPath(first + UInt64(i)))
        }

        var current: (file: FileDescriptor, end: Int)?
        var replayed = 0
        for (i, s) in live.enumerated() {
            let r = try replay(layout, s, isLast: i == live.count - 1, into: &state, log)
            replayed += r.records
            current = (r.file, r.end)
        }
        if current == nil {
            do { current = (try layout.createLog(first), JournalFormat.headerSize) } catch { throw .io(error) }
        }
        log(
            .info,
            "opened \(layout.directory): \(loaded == nil ? "no snapshot" : "snapshot") + \(replayed) record(s) "
                + "from \(live.count) log(s); \(state.families.count) families, \(state.revocations.count) revocations"
        )
        let journal = Journal(
            layout: layout,
            lock: lock,
            log: current!.file,
            sequence: live.last ?? first,
            logBytes: current!.end
        )
        return (journal, state)
    }

    private static func replay(
        _ layout: JournalLayout,
        _ sequence: UInt64,
        isLast: Bool,
        into state: inout TokenState,
        _ log: StoreLogger
    ) throws(JournalOpenError) -> (file: FileDescriptor, end: Int, records: Int) {
        let path = layout.logPath(sequence)
        func corrupt(_ offset: Int, _ reason: String) -> JournalOpenError {
            .corruptLog(path: path, offset: offset, reason: reason)
        }
        do {
            let file = try FileSystem.open(path, O_RDWR | O_APPEND)
            let size = try file.size
            var header: [UInt8] = []
            _ = try file.read(into: &header, count: JournalFormat.headerSize, at: 0)
            if header.count < JournalFormat.headerSize {
                // Created but its header never synced: nothing was ever appended to it.
                log(.warning, "log \(path) has an incomplete header (\(size) bytes); starting it afresh")
                try file.truncate(to: 0)
                try file.writeAll(JournalFormat.header(.log, sequence: sequence))
                try file.sync()
                return (file, JournalFormat.headerSize, 0)
            }
            let found: UInt64
            do { found = try JournalFormat.parseHeader(header, expecting: .log) } catch {
                throw corrupt(0, "header: \(error)")
            }
            guard found == sequence else { throw corrupt(0, "header names log \(found)") }

            let r = try LogReplay.apply(from: file, path: path, into: &state)
            guard let reason = r.tornReason else { return (file, r.end, r.records) }
            let level: StoreLogLevel = isLast ? .warning : .error
            log(
                level,
                "log \(path): \(reason) at offset \(r.end); truncating \(size - r.end) byte(s)"
                    + (isLast ? " of an unacknowledged write" : " (not the last log: damaged disk?)")
            )
            try file.truncate(to: r.end)
            try file.sync()
            return (file, r.end, r.records)
        } catch let e as JournalOpenError {
            throw e
        } catch let e as JournalIOError {
            throw .io(e)
        } catch {
            throw .io(JournalIOError(operation: "replay", path: path, code: EIO))
        }
    }
}
