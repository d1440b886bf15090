import Testing

@testable import RedisStore

@Suite("RESP parser")
struct RESPParserTests {
    /// Every value kind, with binary bulk content that holds CRLF and '*'.
    static let stream: [UInt8] =
        Array(
            "+OK\r\n-ERR wrong type\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n".utf8
        ) + Array("$6\r\na\r\n*:1\r\n".utf8) + Array("*3\r\n:1\r\n*2\r\n$1\r\nx\r\n+y\r\n$-1\r\n".utf8)

    static let values: [RESPValue] = [
        .simpleString("OK"), .error("ERR wrong type"), .integer(42), .integer(-7),
        .bulkString(Array("hello".utf8)), .bulkString([]), .bulkString(nil), .array(nil), .array([]),
        .bulkString(Array("a\r\n*:1".utf8)),
        .array([.integer(1), .array([.bulkString([UInt8(ascii: "x")]), .simpleString("y")]), .bulkString(nil)]),
    ]

    static func parseAll(_ chunks: [ArraySlice<UInt8>], limits: RESPLimits = .default) throws -> [RESPValue] {
        var parser = RESPParser(limits: limits)
        var out: [RESPValue] = []
        for chunk in chunks {
            parser.append(chunk)
            while let v = try parser.next() { out.append(v) }
        }
        #expect(parser.bufferedCount == 0)
        return out
    }

    @Test func wholeStream() throws {
        #expect(try Self.parseAll([Self.stream[...]]) == Self.values)
    }

    @Test func splitAtEveryByte() throws {
        for cut in 0...Self.stream.count {
            let parts = [Self.stream[..<cut], Self.stream[cut...]]
            #expect(try Self.parseAll(parts) == Self.values, "split at \(cut)")
        }
    }

    @Test func splitIntoThreeAnywhere() throws {
        let n = Self.stream.count
        for a in stride(from: 0, through: n, by: 3) {
            for b in stride(from: a, through: n, by: 5) {
                let parts = [Self.stream[..<a], Self.stream[a..<b], Self.stream[b...]]
                #expect(try Self.parseAll(parts) == Self.values, "split at \(a), \(b)")
            }
        }
    }

    @Test func byteByByte() throws {
        #expect(try Self.parseAll(Self.stream.indices.map { Self.stream[$0...$0] }) == Self.values)
    }

    @Test func incompleteGivesNil() throws {
        var parser = RESPParser()
        for text in ["", "+OK", "+OK\r", "$5\r\nhel", "$5\r\nhello\r", "*2\r\n:1\r\n"] {
            parser = RESPParser()
            parser.append(Array(text.utf8))
            #expect(try parser.next() == nil, "\(text.debugDescription)")
        }
    }

    @Test func manyRepliesKeepTheBufferSmall() throws {
        var parser = RESPParser()
        let one = Array("$1000\r\n".utf8) + [UInt8](repeating: 97, count: 1000) + Array("\r\n".utf8)
        for _ in 0..<2000 {
            parser.append(one)
            #expect(try parser.next() == .bulkString([UInt8](repeating: 97, count: 1000)))
        }
        #expect(parser.bufferedCount == 0)
    }

    static let malformed: [(String, RESPError)] = [
        ("?x\r\n", .unknownType(UInt8(ascii: "?"))),
        ("\r\n", .unknownType(13)),
        ("+OK\rX", .badLineEnding),
        ("+O\nK\r\n", .badLineEnding),
        (":12a\r\n", .badInteger),
        (":\r\n", .badInteger),
        (":-\r\n", .badInteger),
        (":99999999999999999999\r\n", .badInteger),
        (":-9223372036854775809\r\n", .badInteger),
        ("$-2\r\n", .badLength(-2)),
        ("*-5\r\n", .badLength(-5)),
        ("$3\r\nabcXY", .badLineEnding),
        ("$+3\r\nabc\r\n", .badInteger),
    ]

    @Test(arguments: 0..<malformed.count)
    func malformedInput(_ i: Int) {
        let (text, error) = Self.malformed[i]
        var parser = RESPParser()
        parser.append(Array(text.utf8))
        #expect(throws: error) { while try parser.next() != nil {} }
    }

    @Test func extremeIntegers() throws {
        var parser = RESPParser()
        parser.append(Array(":9223372036854775807\r\n:-9223372036854775808\r\n".utf8))
        #expect(try parser.next() == .integer(.max))
        #expect(try parser.next() == .integer(.min))
    }

    @Test func bulkLimitIsCheckedFromTheHeader() throws {
        var parser = RESPParser(limits: RESPLimits(maxBulkLength: 10))
        parser.append(Array("$11\r\n".utf8))  // refused before any body byte arrives
        #expect(throws: RESPError.bulkTooLong(11)) { try parser.next() }
        var ok = RESPParser(limits: RESPLimits(maxBulkLength: 10))
        ok.append(Array("$10\r\n0123456789\r\n".utf8))
        #expect(try ok.next() == .bulkString(Array("0123456789".utf8)))
    }

    @Test func defaultBulkLimitRefusesHugeLengths() {
        var parser = RESPParser()
        parser.append(Array("$536870912\r\n".utf8))
        #expect(throws: RESPError.bulkTooLong(536_870_912)) { try parser.next() }
    }

    @Test func arrayCountLimit() {
        var parser = RESPParser(limits: RESPLimits(maxArrayCount: 3))
        parser.append(Array("*4\r\n".utf8))
        #expect(throws: RESPError.arrayTooLong(4)) { try parser.next() }
    }

    @Test func nestingLimit() throws {
        let limits = RESPLimits(maxDepth: 3)
        var ok = RESPParser(limits: limits)
        ok.append(Array("*1\r\n*1\r\n*1\r\n:1\r\n".utf8))
        #expect(try ok.next() == .array([.array([.array([.integer(1)])])]))
        var deep = RESPParser(limits: limits)
        deep.append(Array("*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n".utf8))
        #expect(throws: RESPError.tooDeep) { try deep.next() }
    }

    /// Found by the `resp` fuzz target: an empty (or nil) array one level too deep was accepted.
    @Test(arguments: ["*0", "*-1"])
    func nestingLimitCountsEmptyAndNilArrays(_ leaf: String) throws {
        let limits = RESPLimits(maxDepth: 3)
        var ok = RESPParser(limits: limits)
        ok.append(Array("*1\r\n*1\r\n\(leaf)\r\n".utf8))
        #expect(try ok.next() == .array([.array([leaf == "*0" ? .array([]) : .array(nil)])]))
        var deep = RESPParser(limits: limits)
        deep.append(Array("*1\r\n*1\r\n*1\r\n\(leaf)\r\n".utf8))
        #expect(throws: RESPError.tooDeep) { try deep.next() }
    }

    @Test func elementBudgetPerReply() throws {
        let limits = RESPLimits(maxElements: 4)
        var parser = RESPParser(limits: limits)
        // 1 array + 3 integers = 4 values: fine, and the budget restarts with each reply.
        parser.append(Array("*3\r\n:1\r\n:2\r\n:3\r\n*3\r\n:1\r\n:2\r\n:3\r\n".utf8))
        #expect(try parser.next() != nil)
        #expect(try parser.next() != nil)
        parser.append(Array("*2\r\n*2\r\n:1\r\n:2\r\n:3\r\n".utf8))
        #expect(throws: RESPError.tooManyElements) { while try parser.next() != nil {} }
    }

    @Test func lineLimit() throws {
        var complete = RESPParser(limits: RESPLimits(maxLineLength: 8))
        complete.append(Array("+123456789\r\n".utf8))
        #expect(throws: RESPError.lineTooLong) { try complete.next() }
        // Without its CRLF yet: refused as soon as it is longer than any line may be.
        var endless = RESPParser(limits: RESPLimits(maxLineLength: 8))
        endless.append(Array("+1234567".utf8))
        #expect(try endless.next() == nil)
        endless.append(Array("89".utf8))
        #expect(throws: RESPError.lineTooLong) { try endless.next() }
        var exact = RESPParser(limits: RESPLimits(maxLineLength: 8))
        exact.append(Array("+12345678\r\n".utf8))
        #expect(try exact.next() == .simpleString("12345678"))
    }

    /// Found by the `resp` fuzz target: a too-long line whose CR was the last byte received
    /// waited for more instead of being refused, so the outcome depended on how bytes arrived.
    @Test(arguments: ["+1234567890\r", "+1234567890\r\n", "+1234567890\n", "+123456789\r\n"])
    func lineLimitHoldsHoweverTheLineArrives(_ line: String) throws {
        let bytes = Array(line.utf8)
        let limits = RESPLimits(maxLineLength: 8)
        #expect(throws: RESPError.lineTooLong) { try Self.parseAll([bytes[...]], limits: limits) }
        #expect(throws: RESPError.lineTooLong) {
            try Self.parseAll(bytes.indices.map { bytes[$0...$0] }, limits: limits)
        }
    }

    @Test func accessors() {
        #expect(RESPValue.bulkString(Array("12".utf8)).int64 == 12)
        #expect(RESPValue.integer(5).string == "5")
        #expect(RESPValue.bulkString(nil).isNull)
        #expect(RESPValue.array(nil).isNull)
        #expect(RESPValue.error("NOSCRIPT x").errorMessage == "NOSCRIPT x")
        #expect(RESPValue.simpleString("OK").bytes == Array("OK".utf8))
        #expect(RESPValue.array([]).array == [])
        #expect(RESPValue.integer(1).array == nil)
    }
}
