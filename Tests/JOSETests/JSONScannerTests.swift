import Testing

@testable import JOSE

@Suite("Strict JSON scanner (RFC 8259)")
struct JSONScannerTests {
    static func scan(_ s: [UInt8], depth: Int = 16) throws(JOSEError) -> [JSONMember] {
        var m = [JSONMember]()
        try s.withBytes { (b) throws(JOSEError) in try JSONScanner.scanObject(b, maxDepth: depth, members: &m) }
        return m
    }

    static let valid: [String] = [
        "{}", " {\r\n\t} ", #"{"a":1}"#, #"{"a":-0.5e+10,"b":0,"c":-0,"d":1E3,"e":123456789012345678901234}"#,
        #"{"a":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}"#, #"{"a":[1,[2,[3]],{"b":null}],"c":true,"d":false}"#,
        "{\"a\":\"caf\u{E9} \u{1F600} \u{10FFFF}\"}", #"{"":1,"a":{"":2}}"#, #"{"a":{"b":1},"b":{"b":1}}"#,
    ]

    @Test("accepts valid documents", arguments: valid)
    func accepts(doc: String) throws {
        _ = try Self.scan(bytes(doc))
    }

    static let invalid: [(String, [UInt8])] = [
        ("empty", []), ("not an object", bytes("[1]")), ("bare string", bytes(#""a""#)),
        ("trailing garbage", bytes(#"{"a":1}x"#)), ("two objects", bytes("{}{}")),
        ("trailing comma", bytes(#"{"a":1,}"#)), ("array trailing comma", bytes(#"{"a":[1,]}"#)),
        ("missing colon", bytes(#"{"a" 1}"#)), ("single quotes", bytes("{'a':1}")), ("unquoted name", bytes("{a:1}")),
        ("leading zero", bytes(#"{"a":01}"#)), ("bare dot", bytes(#"{"a":1.}"#)), ("leading dot", bytes(#"{"a":.5}"#)),
        ("plus sign", bytes(#"{"a":+1}"#)), ("lone minus", bytes(#"{"a":-}"#)), ("empty exponent", bytes(#"{"a":1e}"#)),
        ("NaN", bytes(#"{"a":NaN}"#)), ("Infinity", bytes(#"{"a":Infinity}"#)), ("hex", bytes(#"{"a":0x1}"#)),
        ("bad literal", bytes(#"{"a":tru}"#)), ("capital literal", bytes(#"{"a":True}"#)),
        ("nul", bytes(#"{"a":nul}"#)),
        ("invalid escape", bytes(#"{"a":"\x41"}"#)), ("short unicode escape", bytes(#"{"a":"\u12"}"#)),
        ("non-hex escape", bytes(#"{"a":"\u12G4"}"#)), ("lone high surrogate", bytes(#"{"a":"\ud800"}"#)),
        ("high then letter", bytes(#"{"a":"\ud800\u0041"}"#)), ("lone low surrogate", bytes(#"{"a":"\udc00"}"#)),
        ("high then char", bytes(#"{"a":"\ud800x"}"#)), ("raw control char", bytes("{\"a\":\"\u{01}\"}")),
        ("raw newline in string", bytes("{\"a\":\"x\ny\"}")), ("unterminated string", bytes(#"{"a":"abc}"#)),
        ("unterminated object", bytes(#"{"a":1"#)), ("overlong NUL", [0x7B, 0x22, 0xC0, 0x80, 0x22, 0x3A, 0x31, 0x7D]),
        ("overlong slash", [0x7B, 0x22, 0xE0, 0x80, 0xAF, 0x22, 0x3A, 0x31, 0x7D]),
        ("UTF-8 surrogate", [0x7B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x3A, 0x31, 0x7D]),
        ("above U+10FFFF", [0x7B, 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22, 0x3A, 0x31, 0x7D]),
        ("F5 lead", [0x7B, 0x22, 0xF5, 0x80, 0x80, 0x80, 0x22, 0x3A, 0x31, 0x7D]),
        ("stray continuation", [0x7B, 0x22, 0x80, 0x22, 0x3A, 0x31, 0x7D]),
        ("truncated sequence", [0x7B, 0x22, 0xE2, 0x82, 0x22, 0x3A, 0x31, 0x7D]),
        ("BOM", [0xEF, 0xBB, 0xBF] + bytes("{}")), ("NUL after", bytes("{}") + [0]),
        ("duplicate", bytes(#"{"a":1,"a":2}"#)), ("duplicate escaped", bytes(#"{"a":1,"\u0061":2}"#)),
        ("duplicate nested", bytes(#"{"o":{"k":1,"k":1}}"#)),
        ("duplicate in array object", bytes(#"{"o":[{"k":1,"k":1}]}"#)),
        ("comment", bytes("{/*x*/}")), ("vertical tab whitespace", bytes("{\u{0B}}")),
    ]

    @Test("rejects invalid documents", arguments: invalid)
    func rejects(name: String, doc: [UInt8]) {
        expectError(code: "malformed") { () throws(JOSEError) in try Self.scan(doc) }
    }

    @Test("nesting depth limit")
    func depth() throws {
        func nested(_ d: Int) -> [UInt8] {
            // An object at depth 1 holding d-1 nested arrays.
            bytes("{\"a\":" + String(repeating: "[", count: d - 1) + String(repeating: "]", count: d - 1) + "}")
        }
        _ = try Self.scan(nested(16))
        expectError(.malformed("JSON nested too deeply")) { () throws(JOSEError) in try Self.scan(nested(17)) }
        expectError(.malformed("JSON nested too deeply")) { () throws(JOSEError) in try Self.scan(nested(5000)) }
        _ = try Self.scan(nested(4), depth: 4)
    }

    @Test("members record names, values and kinds")
    func members() throws {
        let doc = bytes(#" { "s" : "x\ty" , "n":-1.5 ,"o":{"k":[1]},"a":[],"b":true,"z":null,"e\u0301":1} "#)
        let m = try Self.scan(doc)
        #expect(m.map(\.kind) == [.string, .number, .object, .array, .bool, .null, .number])
        #expect(m[0].valueEscaped && !m[0].nameEscaped)
        #expect(m[6].nameEscaped)
        #expect(Array(doc[Int(m[2].valueStart)..<Int(m[2].valueEnd)]) == bytes(#"{"k":[1]}"#))
        doc.withUnsafeBufferPointer { p in
            #expect(
                JSONScanner.string(p.baseAddress!, Int(m[0].valueStart) + 1, Int(m[0].valueEnd) - 1, escaped: true)
                    == "x\ty"
            )
            #expect(JSONScanner.double(p.baseAddress!, Int(m[1].valueStart), Int(m[1].valueEnd)) == -1.5)
            #expect(
                JSONScanner.string(p.baseAddress!, Int(m[6].nameStart), Int(m[6].nameEnd), escaped: true) == "e\u{301}"
            )
        }
    }

    @Test("unescape resolves surrogate pairs to UTF-8")
    func unescape() {
        let s = bytes(#"\ud83d\ude00\u00e9\n\/"#)
        let out = s.withUnsafeBufferPointer { JSONScanner.unescape($0.baseAddress!, 0, s.count) }
        #expect(out == Array("😀é\n/".utf8))
    }
}
