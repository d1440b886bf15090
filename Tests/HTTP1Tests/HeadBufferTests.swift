import Testing

@testable import HTTP1

@Suite("Head buffer")
struct HeadBufferTests {
    private func text(_ b: borrowing HeadBuffer) -> String { String(decoding: b.bytes, as: UTF8.self) }

    @Test("pieces of every kind append in order, from an empty (unallocated) buffer")
    func pieces() {
        var b = HeadBuffer()
        let startsEmpty = b.isEmpty && b.bytes.isEmpty
        #expect(startsEmpty)
        b.append("GET")
        b.append(0x20)
        b.append(String("/päth"))
        let raw: [UInt8] = Array("xx[slice]yy".utf8)
        raw.withUnsafeBytes { b.append($0, 2, 9) }
        b.append(Array(" tail".utf8))
        #expect(text(b) == "GET /päth[slice] tail")
    }

    @Test("decimals: zero, negatives, the extremes")
    func decimals() {
        for v: Int64 in [0, 7, 10, 99, 100, 1_234_567, -1, -10, .max, .min] {
            var b = HeadBuffer()
            b.appendDecimal(v)
            #expect(text(b) == String(v))
        }
    }

    @Test("growth keeps what was written; clearing and truncating keep the storage")
    func growth() {
        var b = HeadBuffer(capacity: 8)
        var want = ""
        for i in 0..<2000 {
            b.append("ab")
            b.appendDecimal(Int64(i))
            want += "ab\(i)"
        }
        #expect(text(b) == want)
        let mark = b.count
        b.append("junk")
        b.truncate(to: mark)
        #expect(text(b) == want)
        b.removeAll()
        let cleared = b.isEmpty
        #expect(cleared)
        b.append("again")
        #expect(text(b) == "again")
    }
}
