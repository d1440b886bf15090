import Testing

@testable import HTTP1

/// The eight-bytes-at-a-time fast path of field-value parsing must decide exactly what the
/// byte-by-byte rules decide, wherever in a word the odd byte sits.
@Suite("Field values, word at a time")
struct FieldValueScanTests {
    @Test("allVisibleASCII is true exactly when every byte is 0x21...0x7E")
    func visibleASCIIWord() {
        let background: [UInt8] = Array("aZ0-~!_x".utf8)
        for v in 0...255 {
            for position in 0..<8 {
                var bytes = background
                bytes[position] = UInt8(v)
                let x = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                #expect(allVisibleASCII(x) == (0x21...0x7E).contains(v), "byte \(v) at \(position)")
            }
        }
        // Two odd bytes next to each other (borrows and carries between them).
        for (a, b) in [(0x20, 0x7E), (0x00, 0x21), (0x7F, 0x7E), (0x21, 0x20), (0x80, 0x7F), (0xFF, 0x00)] {
            var bytes = background
            bytes[3] = UInt8(a)
            bytes[4] = UInt8(b)
            let x = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            #expect(!allVisibleASCII(x))
        }
    }

    @Test("allFieldContent is true exactly when no byte is a control byte (below 0x20) or DEL")
    func fieldContentWord() {
        func reference(_ bytes: [UInt8]) -> Bool { bytes.allSatisfy { $0 >= 0x20 && $0 != 0x7F } }
        let background: [UInt8] = Array("a Z\u{80}0~ \u{FF}".utf8).prefix(8).map { $0 }
        for v in 0...255 {
            for position in 0..<8 {
                var bytes = background
                bytes[position] = UInt8(v)
                let x = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                #expect(allFieldContent(x) == reference(bytes), "byte \(v) at \(position)")
            }
        }
        // Random words, biased towards the edges (0x1F/0x20, 0x7E/0x7F/0x80), where borrows hide.
        var rng = SystemRandomNumberGenerator()
        let edges: [UInt8] = [0x00, 0x01, 0x09, 0x1F, 0x20, 0x21, 0x7E, 0x7F, 0x80, 0x81, 0xFE, 0xFF]
        for _ in 0..<200_000 {
            let bytes = (0..<8).map { _ in
                Bool.random(using: &rng) ? edges.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
            let x = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            #expect(allFieldContent(x) == reference(bytes), "\(bytes)")
        }
    }

    @Test("values of whitespace runs longer than a word are trimmed on both sides")
    func longWhitespaceTrimmed() throws {
        let spaces = [UInt8](repeating: 0x20, count: 19)
        #expect(try parsedValue(spaces + Array("v a l u e".utf8) + spaces).get() == Array("v a l u e".utf8))
        #expect(try parsedValue(spaces).get() == [])
        #expect(try parsedValue(Array("x".utf8) + [0x09] + spaces + [0x09]).get() == Array("x".utf8))
    }

    /// Parses `X: <value>` in a request head given as bytes.
    private func parsedValue(_ value: [UInt8]) -> Result<[UInt8], HTTPParseError> {
        let bytes = Array("GET / HTTP/1.1\r\nHost: a\r\nX: ".utf8) + value + Array("\r\n\r\n".utf8)
        var scanner = HeadScanner()
        var head = RequestHead()
        return bytes.withUnsafeBytes { b in
            do throws(HTTPParseError) {
                guard let end = try scanner.scan(b, limits: HTTPLimits()) else { return .failure(.invalidRequestLine) }
                try RequestHeadParser.parse(UnsafeRawBufferPointer(rebasing: b[..<end]), into: &head)
                let f = head.fields[1]
                return .success(Array(head.bytes[Int(f.valueStart)..<Int(f.valueEnd)]))
            } catch {
                return .failure(error)
            }
        }
    }

    @Test("every byte value at every offset of a 21-byte value: accepted and trimmed as the grammar says")
    func everyByteEveryOffset() {
        for v in 0...255 where v != 0x0A && v != 0x0D {  // CR and LF are line ends, the scanner's business
            for position in 0..<21 {
                var value = Array("abcdefghijklmnopqrstu".utf8)
                value[position] = UInt8(v)
                let valid = v == 0x09 || v == 0x20 || v >= 0x21 && v != 0x7F
                switch parsedValue(value) {
                case .success(let got):
                    #expect(valid, "byte \(v) at \(position) accepted")
                    var want = value[...]
                    while let first = want.first, first == 0x20 || first == 0x09 { want = want.dropFirst() }
                    while let last = want.last, last == 0x20 || last == 0x09 { want = want.dropLast() }
                    #expect(got == Array(want), "byte \(v) at \(position)")
                case .failure(let error):
                    #expect(!valid, "byte \(v) at \(position) refused: \(error)")
                }
            }
        }
    }

    @Test("a head given to the parser without its line ends is refused, not overrun")
    func missingLineEnds() {
        for text in ["GET / HTTP/1.1", "GET / HTTP/1.1\r\nHost: a", "GET / HTTP/1.1\r\nHost: a\r", "\r"] {
            var head = RequestHead()
            var response = ResponseHead()
            let bytes = Array(text.utf8)
            bytes.withUnsafeBytes { b in
                #expect(throws: HTTPParseError.self) { try RequestHeadParser.parse(b, into: &head) }
                #expect(throws: HTTPParseError.self) { try ResponseHeadParser.parse(b, into: &response) }
            }
        }
    }
}
