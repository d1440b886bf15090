/// The on-disk format of the embedded store, version 1. All integers little-endian.
///
/// File header (24 bytes), at the start of every log and snapshot file:
///
///     magic[4] ("TSJL" log, "TSSN" snapshot) | version u16 | reserved u16 |
///     sequence u64 | reserved u32 | crc32c u32 (of the 20 bytes before it)
///
/// A log's sequence is the number in its file name; a snapshot's is the first log it does
/// not cover. Then records, each framed as:
///
///     length u32 (of type + payload) | crc32c u32 (of length ‖ type ‖ payload) | type u8 | payload
///
/// Strings are u16 length + UTF-8, byte strings u32 length + bytes, digests 32 bytes.
enum JournalFormat {
    static let version: UInt16 = 1
    static let headerSize = 24
    static let frameHeaderSize = 8
    /// Largest type + payload accepted, on write and on read: a length above it is corruption.
    static let maxRecordBody = 1 << 20

    enum FileKind: Sendable, Equatable {
        case log
        case snapshot

        var magic: [UInt8] { self == .log ? Array("TSJL".utf8) : Array("TSSN".utf8) }
    }

    static func header(_ kind: FileKind, sequence: UInt64) -> [UInt8] {
        var w = ByteWriter(capacity: headerSize)
        w.bytes.append(contentsOf: kind.magic)
        w.u16(version)
        w.u16(0)
        w.u64(sequence)
        w.u32(0)
        w.u32(CRC32C.checksum(w.bytes))
        return w.bytes
    }

    enum HeaderProblem: Error, Equatable {
        case tooShort
        case badChecksum
        case wrongKind
        case unsupportedVersion(UInt16)
    }

    /// Validates a header and returns its sequence.
    static func parseHeader(_ bytes: [UInt8], expecting kind: FileKind) throws(HeaderProblem) -> UInt64 {
        guard bytes.count >= headerSize else { throw .tooShort }
        var r = ByteReader(bytes, from: 20, to: 24)
        guard let crc = try? r.u32(), crc == CRC32C.checksum(bytes[0..<20]) else { throw .badChecksum }
        guard Array(bytes[0..<4]) == kind.magic else { throw .wrongKind }
        r = ByteReader(bytes, from: 4, to: 20)
        let version = (try? r.u16()) ?? 0
        guard version == Self.version else { throw .unsupportedVersion(version) }
        _ = try? r.u16()
        return (try? r.u64()) ?? 0
    }

    /// Appends one framed record to `out`, in place; on error `out` is left as it was.
    static func frame(type: UInt8, into out: inout [UInt8], payload: (inout ByteWriter) -> Void) throws(FrameTooLarge) {
        var w = ByteWriter(capacity: 0)
        swap(&w.bytes, &out)
        defer { swap(&w.bytes, &out) }
        let start = w.bytes.count
        w.u64(0)  // length and checksum, patched below
        w.u8(type)
        payload(&w)
        let length = w.bytes.count - start - frameHeaderSize
        guard length <= maxRecordBody else {
            w.bytes.removeSubrange(start...)
            throw FrameTooLarge(size: length)
        }
        for i in 0..<4 { w.bytes[start + i] = UInt8(truncatingIfNeeded: UInt32(length) >> UInt32(i * 8)) }
        let crc = CRC32C.update(CRC32C.checksum(w.bytes[start..<start + 4]), w.bytes[(start + frameHeaderSize)...])
        for i in 0..<4 { w.bytes[start + 4 + i] = UInt8(truncatingIfNeeded: crc >> UInt32(i * 8)) }
    }

    struct FrameTooLarge: Error, Equatable {
        var size: Int
    }

    /// What lies at `offset` in `buffer`.
    enum Scan: Equatable {
        /// A whole, checksummed frame: its type, the payload's range, and where the next begins.
        case frame(type: UInt8, payload: Range<Int>, next: Int)
        /// The frame continues past the buffer: `total` bytes are needed from `offset`.
        case incomplete(total: Int)
        /// A length out of bounds or a checksum mismatch.
        case corrupt(String)
    }

    static func scan(_ buffer: [UInt8], at offset: Int) -> Scan {
        let available = buffer.count - offset
        guard available >= frameHeaderSize else { return .incomplete(total: frameHeaderSize) }
        var r = ByteReader(buffer, from: offset, to: offset + frameHeaderSize)
        let length = Int((try? r.u32()) ?? 0)
        let crc = (try? r.u32()) ?? 0
        guard length >= 1, length <= maxRecordBody else { return .corrupt("record length \(length) out of range") }
        let total = frameHeaderSize + length
        guard available >= total else { return .incomplete(total: total) }
        let body = offset + frameHeaderSize..<offset + total
        let computed = CRC32C.update(CRC32C.checksum(buffer[offset..<offset + 4]), buffer[body])
        guard computed == crc else { return .corrupt("checksum mismatch") }
        return .frame(
            type: buffer[body.lowerBound],
            payload: body.lowerBound + 1..<body.upperBound,
            next: offset + total
        )
    }
}
