/// Where `RecordFileReader` reads from: an open file, or bytes in memory (`RecordBytes`), so
/// that recovery's decoding runs without a file in tests and fuzzing.
protocol RecordSource {
    /// Reads up to `count` bytes at `offset`, appending them to `buffer`; returns how many (0 at the end).
    func read(into buffer: inout [UInt8], count: Int, at offset: Int) throws(JournalIOError) -> Int
}

extension FileDescriptor: RecordSource {}

/// A whole file's content held in memory, read as `FileDescriptor` reads a file.
struct RecordBytes: RecordSource {
    let bytes: [UInt8]

    func read(into buffer: inout [UInt8], count: Int, at offset: Int) throws(JournalIOError) -> Int {
        guard offset < bytes.count else { return 0 }
        let end = offset + min(count, bytes.count - offset)
        buffer.append(contentsOf: bytes[offset..<end])
        return end - offset
    }
}

/// Reads framed records from a file in order, through a bounded buffer: at most
/// `chunk + JournalFormat.maxRecordBody` bytes are held, whatever the file's size or content.
struct RecordFileReader {
    enum Next: Equatable {
        /// A checksummed record starting at `offset`.
        case record(JournalRecord, offset: Int)
        /// The clean end of the file.
        case end(offset: Int)
        /// A record that is cut short or fails its length or checksum check, at `offset`:
        /// nothing from there on can be trusted.
        case torn(offset: Int, reason: String)
    }

    /// A record whose checksum holds but whose content does not decode: not a torn write,
    /// but a newer format or a bug. Never truncated away.
    struct Undecodable: Error, Equatable {
        var offset: Int
        var error: JournalRecord.DecodeError
    }

    enum Failure: Error, Equatable {
        case io(JournalIOError)
        case undecodable(Undecodable)
    }

    private let file: any RecordSource
    private let chunk: Int
    private var buffer: [UInt8] = []
    /// File offset of `buffer[0]`.
    private var bufferStart: Int
    /// Index in `buffer` of the next record.
    private var position = 0
    private var atEOF = false

    init(_ file: any RecordSource, from offset: Int, chunk: Int = 1 << 20) {
        self.file = file
        self.bufferStart = offset
        self.chunk = chunk
    }

    mutating func next() throws(Failure) -> Next {
        while true {
            let offset = bufferStart + position
            switch JournalFormat.scan(buffer, at: position) {
            case .frame(let type, let payload, let next):
                position = next
                do {
                    return .record(try JournalRecord.decode(type: type, buffer, payload), offset: offset)
                } catch {
                    throw .undecodable(Undecodable(offset: offset, error: error))
                }
            case .corrupt(let reason):
                return .torn(offset: offset, reason: reason)
            case .incomplete(let total):
                let available = buffer.count - position
                if atEOF {
                    return available == 0 ? .end(offset: offset) : .torn(offset: offset, reason: "record cut short")
                }
                // Drop what was consumed, then read at least what the frame needs.
                buffer.removeSubrange(0..<position)
                bufferStart += position
                position = 0
                let want = max(chunk, total - available)
                let n: Int
                do { n = try file.read(into: &buffer, count: want, at: bufferStart + buffer.count) } catch {
                    throw .io(error)
                }
                if n == 0 { atEOF = true }
            }
        }
    }
}
