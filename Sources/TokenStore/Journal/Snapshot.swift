#if canImport(Glibc)
import Glibc
#endif

/// The snapshot file: the live state at the end of log `nextSequence - 1`, written once by a
/// compaction and replaced atomically by rename.
enum Snapshot {
    /// Writes `state`'s live content (dropping expired families and lapsed revocations at the
    /// state's clock) to `snapshot.tmp`, syncs it, renames it over `snapshot` and syncs the
    /// directory. Returns the snapshot's size, or nil when `crashPoint` stopped it.
    ///
    /// A crash at any step leaves either the old snapshot with every log it needs, or the
    /// new one with every log it needs; `snapshot.tmp` is ignored and deleted on open.
    static func write(
        _ state: TokenState,
        nextSequence: UInt64,
        layout: JournalLayout,
        crashPoint: CompactionCrashPoint?
    ) throws(JournalIOError) -> Int? {
        let now = state.clock
        let file = try FileSystem.open(layout.snapshotTempPath, O_WRONLY | O_CREAT | O_TRUNC)
        var buffer = JournalFormat.header(.snapshot, sequence: nextSequence)
        var written = 0
        let flushAt = 1 << 20
        func flush() throws(JournalIOError) {
            try file.writeAll(buffer)
            written += buffer.count
            buffer.removeAll(keepingCapacity: true)
        }
        // Straight from the dictionaries: no second copy of a large state.
        var families: UInt64 = 0
        var revocations: UInt64 = 0
        var seen = 0
        for f in state.families.values {
            seen += 1
            if crashPoint == .midSnapshot, seen == state.families.count / 2 {
                try flush()
                return nil
            }
            guard f.expiresAt > now else { continue }
            encode(.family(f), into: &buffer)
            families += 1
            if buffer.count >= flushAt { try flush() }
        }
        for (target, until) in state.revocations where until > now {
            encode(.revocation(target, until: until), into: &buffer)
            revocations += 1
            if buffer.count >= flushAt { try flush() }
        }
        encode(.snapshotEnd(families: families, revocations: revocations, clock: now), into: &buffer)
        try flush()
        try file.sync()
        if crashPoint == .beforeRename { return nil }
        try FileSystem.rename(layout.snapshotTempPath, to: layout.snapshotPath)
        try FileSystem.syncDirectory(layout.directory)
        return written
    }

    /// Snapshot records are built from state that passed `StoreLimits`, so they always fit.
    private static func encode(_ record: JournalRecord, into buffer: inout [UInt8]) {
        do { try record.encode(into: &buffer) } catch { preconditionFailure("snapshot record of \(error.size) bytes") }
    }

    /// Loads `snapshot` if there is one: the state, and the first log it does not cover.
    static func load(_ layout: JournalLayout) throws(JournalOpenError) -> (state: TokenState, nextSequence: UInt64)? {
        let path = layout.snapshotPath
        guard FileSystem.exists(path) else { return nil }
        let file: FileDescriptor
        var header: [UInt8] = []
        do {
            file = try FileSystem.open(path, O_RDONLY)
            _ = try file.read(into: &header, count: JournalFormat.headerSize, at: 0)
        } catch {
            throw .io(error)
        }
        return try restore(header: header, from: file, path: path)
    }

    /// The state held by a snapshot's content: its `header` bytes, then its records read from
    /// `source` (the file, or its bytes in memory) `chunk` bytes at a time. No I/O of its own.
    static func restore(
        header: [UInt8],
        from source: any RecordSource,
        path: String,
        chunk: Int = 1 << 20
    ) throws(JournalOpenError) -> (state: TokenState, nextSequence: UInt64) {
        func corrupt(_ reason: String) -> JournalOpenError { .corruptSnapshot(path: path, reason: reason) }
        let nextSequence: UInt64
        do { nextSequence = try JournalFormat.parseHeader(header, expecting: .snapshot) } catch {
            throw corrupt("header: \(error)")
        }
        var state = TokenState()
        var families: UInt64 = 0
        var revocations: UInt64 = 0
        var reader = RecordFileReader(source, from: JournalFormat.headerSize, chunk: chunk)
        // Each record is at least 9 bytes, so the loop ends with the file.
        while true {
            switch try read(&reader, path) {
            case .record(.family(let f), _):
                state.insert(f)
                families += 1
            case .record(.revocation(let target, let until), _):
                state.recordRevocation(target, until: until)
                revocations += 1
            case .record(.snapshotEnd(let nf, let nr, let clock), let offset):
                guard nf == families, nr == revocations else {
                    throw corrupt("end record at \(offset) counts \(nf)/\(nr), found \(families)/\(revocations)")
                }
                guard case .end = try read(&reader, path) else { throw corrupt("data after the end record") }
                _ = state.advance(to: clock)
                return (state, nextSequence)
            case .record(.change, let offset):
                throw corrupt("log record at \(offset)")
            case .end(let offset):
                throw corrupt("no end record (file ends at \(offset))")
            case .torn(let offset, let reason):
                throw corrupt("\(reason) at \(offset)")
            }
        }
    }

    private static func read(
        _ reader: inout RecordFileReader,
        _ path: String
    ) throws(JournalOpenError)
        -> RecordFileReader.Next
    {
        do { return try reader.next() } catch {
            switch error {
            case .io(let e): throw .io(e)
            case .undecodable(let u): throw .corruptSnapshot(path: path, reason: "record at \(u.offset): \(u.error)")
            }
        }
    }
}
