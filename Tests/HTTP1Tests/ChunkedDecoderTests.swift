import HTTP1
import Testing

@Suite("Chunked transfer coding")
struct ChunkedDecoderTests {
    @Test(arguments: [1, 2, 3, 7, Int.max])
    func decodesInAnyPieces(step: Int) throws {
        let (body, rest) = try decodeChunked(
            "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nGET", step: step)
        #expect(body == "hello world")
        #expect(rest == "GET")
    }

    @Test func upperCaseHexAndLeadingZeros() throws {
        let (body, _) = try decodeChunked("0A\r\n0123456789\r\n000\r\n\r\n")
        #expect(body == "0123456789")
    }

    @Test func extensionAfterWhitespace() throws {
        let (body, _) = try decodeChunked("3 ;a=\"b c\"\r\nabc\r\n0\r\n\r\n")
        #expect(body == "abc")
    }

    @Test(
        arguments: [
            ("no size", "\r\nabc\r\n0\r\n\r\n", HTTPParseError.invalidChunkSize),
            ("0x prefix", "0x3\r\nabc\r\n0\r\n\r\n", .invalidChunkSize),
            ("negative", "-3\r\nabc\r\n0\r\n\r\n", .invalidChunkSize),
            ("space without ext", "3 \r\nabc\r\n0\r\n\r\n", .invalidChunkExtension),
            ("bare LF after size", "3\nabc\r\n0\r\n\r\n", .bareLineFeed),
            ("CR without LF", "3\rabc\r\n0\r\n\r\n", .bareCarriageReturn),
            ("data too long", "3\r\nabcd\r\n0\r\n\r\n", .invalidChunkFraming),
            ("LF only after data", "3\r\nabc\n0\r\n\r\n", .invalidChunkFraming),
            ("too many digits", "00000000000000001\r\na\r\n0\r\n\r\n", .chunkSizeTooLarge),
            ("overflow", "FFFFFFFFFFFFFFFF\r\n", .chunkSizeTooLarge),
            ("bare LF in ext", "3;a\nabc\r\n0\r\n\r\n", .bareLineFeed),
            ("obs-fold trailer", "0\r\nX: 1\r\n  2\r\n\r\n", .obsoleteLineFolding),
            ("bad trailer name", "0\r\nX Y: 1\r\n\r\n", .invalidTrailer),
            ("bare LF final", "0\r\n\n", .bareLineFeed),
        ] as [(String, String, HTTPParseError)])
    func refused(_ name: String, _ text: String, _ expected: HTTPParseError) {
        var got: HTTPParseError?
        do { _ = try decodeChunked(text) } catch { got = error }
        #expect(got == expected, "\(name)")
    }

    @Test func chunkSizeLimit() {
        var d = ChunkedDecoder(limits: .init(maxChunkSize: 100))
        let bytes = Array("65\r\n".utf8)  // 101
        let err: HTTPParseError? = bytes.withUnsafeBytes { b in
            do throws(HTTPParseError) { _ = try d.decode(b); return nil } catch { return error }
        }
        #expect(err == .chunkSizeTooLarge)
    }

    @Test func trailerLimit() {
        let text = "0\r\nX: " + String(repeating: "a", count: 9000) + "\r\n\r\n"
        var got: HTTPParseError?
        do { _ = try decodeChunked(text) } catch { got = error }
        #expect(got == .trailersTooLarge)
    }

    @Test func encoderWritesHexSizes() {
        var out: [UInt8] = []
        ChunkedEncoder.appendChunkHeader(255, to: &out)
        ChunkedEncoder.appendChunkHeader(1, to: &out)
        ChunkedEncoder.appendChunkHeader(0x10000, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "ff\r\n1\r\n10000\r\n")
    }
}
