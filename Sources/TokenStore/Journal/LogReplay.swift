/// Replay of one log's records into the state: the decoding half of recovery, apart from the
/// files (`Journal.open` opens, checks the header, truncates a torn tail and logs).
struct LogReplay: Equatable {
    /// Changes applied.
    var records: Int
    /// Offset where the trusted records end: the file's end, or the torn record's start.
    var end: Int
    /// Why the records stop before the file's end (a record cut short or failing its
    /// length or checksum check), or nil at a clean end.
    var tornReason: String?

    /// Applies the changes of the records that follow the header in `source` (the log file,
    /// or its bytes in memory), read `chunk` bytes at a time, to `state`. A snapshot record
    /// or a checksummed record that does not decode is corruption.
    static func apply(
        from source: any RecordSource,
        path: String,
        into state: inout TokenState,
        chunk: Int = 1 << 20
    ) throws(JournalOpenError) -> LogReplay {
        var reader = RecordFileReader(source, from: JournalFormat.headerSize, chunk: chunk)
        var records = 0
        while true {  // each record is at least 9 bytes: ends with the file
            let next: RecordFileReader.Next
            do { next = try reader.next() } catch {
                switch error {
                case .io(let e): throw .io(e)
                case .undecodable(let u): throw .corruptLog(path: path, offset: u.offset, reason: "\(u.error)")
                }
            }
            switch next {
            case .record(.change(let change), let offset):
                if let problem = StoreLimits.check(change) {
                    throw .corruptLog(
                        path: path, offset: offset, reason: "record beyond the store's limits: \(problem)")
                }
                state.apply(change)
                records += 1
            case .record(_, let offset):
                throw .corruptLog(path: path, offset: offset, reason: "snapshot record in a log")
            case .end(let offset):
                return LogReplay(records: records, end: offset, tornReason: nil)
            case .torn(let offset, let reason):
                return LogReplay(records: records, end: offset, tornReason: reason)
            }
        }
    }
}
