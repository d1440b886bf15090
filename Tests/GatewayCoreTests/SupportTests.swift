import Foundation
import Testing

@testable import GatewayCore

@Suite("JSON parser")
struct JSONParserTests {
    private func parse(_ text: String, maxDepth: Int = 32) -> JSONValue? {
        try? JSONParser.parse(bytes(text), maxDepth: maxDepth)
    }

    private func error(_ text: String) -> JSONParseError? {
        do {
            _ = try JSONParser.parse(bytes(text))
            return nil
        } catch {
            return error
        }
    }

    @Test("values, member order, whitespace")
    func values() {
        #expect(
            parse(#" {"b":[1,-2.5e1,true,false,null],"a":{"c":"d"}} "#)
                == .object([
                    ("b", .array([.number(1), .number(-25), .bool(true), .bool(false), .null])),
                    ("a", .object([("c", .string("d"))])),
                ]))
        #expect(parse("0") == .number(0))
        #expect(parse("-0") == .number(0))
        #expect(parse("1E2") == .number(100))
        #expect(parse("1e-2") == .number(0.01))
        #expect(parse(#""\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00""#) == .string("\"\\/\u{8}\u{C}\n\r\tAé😀"))
        #expect(parse("[]") == .array([]))
        #expect(parse("{}") == .object([]))
    }

    @Test("duplicate member names are refused")
    func duplicates() {
        #expect(error(#"{"a":1,"a":1}"#)?.reason.contains("duplicate") == true)
        #expect(error(#"{"a":1,"\u0061":2}"#) != nil)
        #expect(parse(#"{"a":{"a":1}}"#) != nil)
        #expect(parse(#"[{"a":1},{"a":2}]"#) != nil)
    }

    @Test("nesting is limited")
    func depth() {
        #expect(parse("[[[]]]", maxDepth: 2) != nil)
        #expect(parse("[[[[]]]]", maxDepth: 2) == nil)
        #expect(parse(#"{"a":{"b":{}}}"#, maxDepth: 2) != nil)
        #expect(parse(#"{"a":{"b":{"c":1}}}"#, maxDepth: 2) == nil)
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(error(deep)?.reason.contains("deeply") == true)
        #expect(parse(String(repeating: "[", count: 33) + String(repeating: "]", count: 33)) != nil)
        #expect(parse(String(repeating: "[", count: 34) + String(repeating: "]", count: 34)) == nil)
    }

    @Test("invalid UTF-8 and lone surrogates are refused, not repaired")
    func utf8() {
        #expect((try? JSONParser.parse([0x22, 0xC3, 0x28, 0x22])) == nil)
        #expect((try? JSONParser.parse([0x22, 0xFF, 0x22])) == nil)
        #expect((try? JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22])) == nil)  // encoded surrogate
        #expect((try? JSONParser.parse([0x22, 0xC3, 0xA9, 0x22])) == .string("é"))
        #expect(error(#""\ud800""#) != nil)
        #expect(error(#""\udc00""#) != nil)
        #expect(error(#""\ud800\u0041""#) != nil)
    }

    static let invalid = [
        "", " ", "01", "-", "1.", ".5", "+1", "1e", "1e+", "0x1", "1e400", "-1e400", "NaN", "Infinity", "tru", "nul",
        "[1,]", "{\"a\":1,}", "{a:1}", "{'a':1}", "[1 2]", "\"a", "\"\u{1}\"", "\"\\x\"", "\"\\u12\"", "1 2", "{} x",
        "[", "{\"a\"}", "{\"a\":}",
    ]

    @Test("invalid documents", arguments: invalid)
    func invalidDocument(text: String) {
        #expect(error(text) != nil)
    }

    @Test("the error names the byte offset")
    func offset() {
        #expect(error(#"{"a":tru}"#)?.offset == 5)
        #expect(error(#"{"a":tru}"#)?.description.hasPrefix("invalid JSON at byte 5") == true)
    }
}

@Suite("JSON writer")
struct JSONWriterTests {
    @Test("escaping: quotes, backslashes, short escapes, other controls as \\u00XX")
    func escaping() {
        #expect(JSONWriter.quoted("a\"b\\c") == #""a\"b\\c""#)
        #expect(JSONWriter.quoted("\n\r\t") == #""\n\r\t""#)
        #expect(JSONWriter.quoted("\u{0}\u{1}\u{8}\u{C}\u{1F}\u{7F}") == #""\u0000\u0001\u0008\u000c\u001f\u007f""#)
        #expect(JSONWriter.quoted("é/😀") == "\"é/😀\"")
        #expect(JSONWriter.quoted("") == #""""#)
    }

    @Test("serialization round-trips through the parser")
    func roundTrip() throws {
        let v = JSONValue.object([
            ("s", .string("x\u{1}\"")), ("n", .number(3)), ("f", .number(1.5)), ("neg", .number(-7)),
            ("a", .array([.bool(true), .null, .object([])])),
        ])
        var out: [UInt8] = []
        JSONWriter.serialize(v, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"{"s":"x\u0001\"","n":3,"f":1.5,"neg":-7,"a":[true,null,{}]}"#)
        #expect(try JSONParser.parse(out) == v)
        var big: [UInt8] = []
        JSONWriter.serialize(.number(1e20), to: &big)
        #expect(try JSONParser.parse(big) == .number(1e20))
    }
}

@Suite("HTTP date and request ids")
struct HTTPDateAndRequestIDTests {
    @Test("IMF-fixdate of the current second")
    func imfFixdate() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var matched = false
        for _ in 0..<3 where !matched {  // retry if a second boundary falls in between
            var cache = HTTPDateCache()
            cache.refresh()
            let value = String(decoding: cache.value, as: UTF8.self)
            #expect(value.utf8.count == 29)
            matched = value == formatter.string(from: Date())
        }
        #expect(matched)
    }

    @Test("generated ids: 32 hex characters, a fixed prefix and a counter")
    func generated() {
        var g = RequestIDGenerator()
        var a: [UInt8] = [], b: [UInt8] = []
        g.next(into: &a)
        g.next(into: &b)
        let sa = String(decoding: a, as: UTF8.self), sb = String(decoding: b, as: UTF8.self)
        #expect(sa.count == 32 && sb.count == 32)
        #expect(sa.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(sa.prefix(16) == sb.prefix(16))
        #expect(sa.suffix(16) == "0000000000000001")
        #expect(sb.suffix(16) == "0000000000000002")
        for _ in 0..<14 { var x: [UInt8] = []; g.next(into: &x) }
        var p: [UInt8] = []
        g.next(into: &p)
        #expect(String(decoding: p, as: UTF8.self).suffix(16) == "0000000000000011")
        var other = RequestIDGenerator()
        var c: [UInt8] = []
        other.next(into: &c)
        #expect(c != a)  // another worker's random prefix
        #expect(a.withUnsafeBytes { RequestIDGenerator.isValid($0) })
    }

    static let valid = ["a", "abc-123_x.y:z", String(repeating: "A", count: 128), "0"]
    static let invalid = ["", String(repeating: "A", count: 129), "a b", "a\"b", "a\r\nb", "é", "a/b", "a,b", "<x>"]

    @Test(
        "incoming ids are kept only if short and plain",
        arguments: valid.map { ($0, true) } + invalid.map { ($0, false) })
    func incoming(id: String, ok: Bool) {
        #expect(Array(id.utf8).withUnsafeBytes { RequestIDGenerator.isValid($0) } == ok)
    }
}
