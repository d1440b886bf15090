/// Little-endian primitives for the journal format. Writers append to a byte array;
/// readers check every length against what is left before they copy anything, so a
/// corrupted length can never allocate more than the record that holds it.
struct ByteWriter {
    var bytes: [UInt8]

    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func u8(_ v: UInt8) { bytes.append(v) }

    mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
    }

    mutating func u32(_ v: UInt32) {
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(i * 8))) }
    }

    mutating func u64(_ v: UInt64) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(i * 8))) }
    }

    mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }

    mutating func digest(_ d: Digest32) {
        u64(d.w0)
        u64(d.w1)
        u64(d.w2)
        u64(d.w3)
    }

    /// A string of at most 65,535 UTF-8 bytes; callers check the limit first (`JournalFormat`).
    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            u16(UInt16(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// A byte string of at most `JournalFormat.maxRecordBody` bytes.
    mutating func blob(_ b: [UInt8]) {
        u32(UInt32(b.count))
        bytes.append(contentsOf: b)
    }
}

/// Reads what `ByteWriter` wrote; every read throws `.truncated` instead of running past the end.
struct ByteReader {
    enum Failure: Error, Equatable {
        case truncated
        case invalidUTF8
        case invalidValue(String)
    }

    private let bytes: [UInt8]
    private(set) var offset: Int
    private let end: Int

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.offset = start
        self.end = end ?? bytes.count
    }

    var remaining: Int { end - offset }

    private mutating func take(_ n: Int) throws -> Int {
        guard n >= 0, n <= remaining else { throw Failure.truncated }
        defer { offset += n }
        return offset
    }

    mutating func u8() throws -> UInt8 { bytes[try take(1)] }

    mutating func u16() throws -> UInt16 {
        let at = try take(2)
        return UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }

    mutating func u32() throws -> UInt32 {
        let at = try take(4)
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[at + i]) << UInt32(i * 8) }
        return v
    }

    mutating func u64() throws -> UInt64 {
        let at = try take(8)
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[at + i]) << UInt64(i * 8) }
        return v
    }

    mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }

    mutating func bool() throws -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        case let v: throw Failure.invalidValue("bool \(v)")
        }
    }

    mutating func digest() throws -> Digest32 {
        Digest32(w0: try u64(), w1: try u64(), w2: try u64(), w3: try u64())
    }

    mutating func string() throws -> String {
        let n = Int(try u16())
        let at = try take(n)
        guard let s = String(validating: bytes[at..<at + n], as: UTF8.self) else { throw Failure.invalidUTF8 }
        return s
    }

    mutating func blob() throws -> [UInt8] {
        let n = Int(try u32())
        let at = try take(n)  // checked against what is left before the copy
        return Array(bytes[at..<at + n])
    }
}
