import HTTP1
import Testing

@Suite("Request head parsing")
struct RequestHeadParserTests {
    @Test func simpleGet() throws {
        let h = try parseRequest("GET /api/x?a=1 HTTP/1.1\r\nHost: example.com\r\nX-Thing:  v  \r\n\r\n")
        #expect(h.method == .get)
        #expect(h.version == .http11)
        #expect(h.path == "/api/x")
        #expect(h.query == "a=1")
        #expect(h.host == "example.com")
        #expect(h.value(named: "x-thing") == "v")
        #expect(h.keepAlive)
        #expect(!h.hasBody)
    }

    @Test func http10DefaultsToClose() throws {
        let h = try parseRequest("GET / HTTP/1.0\r\n\r\n")
        #expect(h.version == .http10)
        #expect(!h.keepAlive)
        let k = try parseRequest("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(k.keepAlive)
    }

    @Test func connectionCloseAndOptions() throws {
        let h = try parseRequest("GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-Secret\r\nX-Secret: 1\r\n\r\n")
        #expect(!h.keepAlive)
        #expect(h.connectionOptions.count == 1)
        #expect(h.string(h.connectionOptions[0].lowerBound, h.connectionOptions[0].upperBound) == "X-Secret")
    }

    @Test func leadingEmptyLineIsSkipped() throws {
        let h = try parseRequest("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(h.path == "/")
    }

    @Test func absoluteFormAuthorityOverridesHost() throws {
        let h = try parseRequest("GET http://api.example:8080/v1?q HTTP/1.1\r\nHost: other\r\n\r\n")
        #expect(h.host == "api.example:8080")
        #expect(h.path == "/v1")
        #expect(h.query == "q")
    }

    @Test func contentLengthAndChunked() throws {
        let a = try parseRequest("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n")
        #expect(a.contentLength == 42)
        #expect(a.hasBody)
        let b = try parseRequest("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(b.isChunked)
        let c = try parseRequest("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n")
        #expect(c.contentLength == 5)
        let d = try parseRequest("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n")
        #expect(d.contentLength == 5)
    }

    @Test func expectations() throws {
        #expect(try parseRequest("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n").expectContinue)
        #expect(try parseRequest("POST / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n").expectUnsupported)
    }

    // SPEC §7: every framing case the gateway must refuse, with the status it answers.
    @Test(
        arguments: [
            (
                "both CL and TE",
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                HTTPParseError.contentLengthWithTransferEncoding
            ),
            (
                "TE then CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
                .contentLengthWithTransferEncoding
            ),
            (
                "differing lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
                .conflictingContentLength
            ),
            ("differing list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\n", .conflictingContentLength),
            ("negative length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", .invalidContentLength),
            ("signed length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", .invalidContentLength),
            ("hex length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", .invalidContentLength),
            ("empty length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", .invalidContentLength),
            (
                "huge length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
                .invalidContentLength
            ),
            ("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  continued\r\n\r\n", .obsoleteLineFolding),
            ("space before first header", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", .obsoleteLineFolding),
            ("bare CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r2\r\n\r\n", .bareCarriageReturn),
            ("bare CR in request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", .bareCarriageReturn),
            ("bare LF", "GET / HTTP/1.1\nHost: a\r\n\r\n", .bareLineFeed),
            ("bare LF header", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", .bareLineFeed),
            ("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", .whitespaceBeforeColon),
            ("invalid name", "GET / HTTP/1.1\r\nHost: a\r\nX(A): 1\r\n\r\n", .invalidHeaderName),
            ("empty name", "GET / HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n", .invalidHeaderName),
            ("no colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", .invalidHeaderName),
            ("NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\u{0}b\r\n\r\n", .invalidHeaderValue),
            ("DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\u{7F}b\r\n\r\n", .invalidHeaderValue),
            (
                "unknown coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
                .unsupportedTransferCoding
            ),
            (
                "chunked not last", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                .invalidTransferEncoding
            ),
            (
                "chunked twice",
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                .invalidTransferEncoding
            ),
            ("TE in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .transferEncodingInHTTP10),
            (
                "identity coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
                .unsupportedTransferCoding
            ),
            ("missing host", "GET / HTTP/1.1\r\n\r\n", .missingHost),
            ("two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .duplicateHost),
            ("bad host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", .invalidHost),
            ("host with path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", .invalidHost),
            ("empty host", "GET / HTTP/1.1\r\nHost: \r\n\r\n", .invalidHost),
            ("bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", .invalidHost),
            ("HTTP/2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", .unsupportedVersion),
            ("HTTP/0.9 style", "GET /\r\n\r\n", .invalidRequestLine),
            ("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", .invalidRequestLine),
            ("double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestLine),
            ("tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
            ("invalid method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
            ("control in target", "GET /a\u{1}b HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
            ("non-ASCII target", "GET /é HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
            ("asterisk form", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
            ("authority form", "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
            ("ftp absolute", "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
            // Upstream frameworks upper-case methods; a lower-case one would be routed as another.
            ("lower-case method", "delete /a HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
            ("mixed-case method", "Delete /a HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
            ("lower-case extension method", "propfind /a HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
        ] as [(String, String, HTTPParseError)])
    func refused(_ name: String, _ text: String, _ expected: HTTPParseError) {
        #expect(parseError(text) == expected, "\(name)")
    }

    @Test func statusCodes() {
        #expect(HTTPParseError.requestLineTooLong.status == 414)
        #expect(HTTPParseError.headersTooLarge.status == 431)
        #expect(HTTPParseError.tooManyHeaders.status == 431)
        #expect(HTTPParseError.contentLengthWithTransferEncoding.status == 400)
        #expect(HTTPParseError.unsupportedVersion.status == 505)
        #expect(HTTPParseError.unsupportedTransferCoding.status == 501)
    }

    @Test func sizeLimits() {
        let limits = HTTPLimits(maxRequestLine: 64, maxHeaderBytes: 128, maxHeaderCount: 3)
        let longLine = "GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(parseError(longLine, limits: limits) == .requestLineTooLong)
        let bigHeaders = "GET / HTTP/1.1\r\nHost: a\r\nX-A: " + String(repeating: "b", count: 200) + "\r\n\r\n"
        #expect(parseError(bigHeaders, limits: limits) == .headersTooLarge)
        let many = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        #expect(parseError(many, limits: limits) == .tooManyHeaders)
    }

    /// The scanner refuses an over-long line before the whole head has arrived.
    @Test func scannerRefusesEarly() {
        var scanner = HeadScanner()
        let partial = Array(("GET /" + String(repeating: "a", count: 9000)).utf8)
        let result: HTTPParseError? = partial.withUnsafeBytes { b in
            do throws(HTTPParseError) {
                _ = try scanner.scan(b, limits: HTTPLimits())
                return nil
            } catch { return error }
        }
        #expect(result == .requestLineTooLong)

        var s2 = HeadScanner()
        let headers = Array(("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 17000)).utf8)
        let r2: HTTPParseError? = headers.withUnsafeBytes { b in
            do throws(HTTPParseError) {
                _ = try s2.scan(b, limits: HTTPLimits())
                return nil
            } catch { return error }
        }
        #expect(r2 == .headersTooLarge)
    }

    /// Bytes arriving one at a time find the same end of head.
    @Test func scannerIsIncremental() throws {
        let text = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\nNEXT".utf8)
        var scanner = HeadScanner()
        var found: Int?
        for n in 1...text.count {
            found = try text.withUnsafeBytes { b throws(HTTPParseError) in
                try scanner.scan(UnsafeRawBufferPointer(rebasing: b[..<n]), limits: HTTPLimits())
            }
            if found != nil { break }
        }
        #expect(found == text.count - 4)
    }

    @Test func knownHeadersAreClassified() throws {
        let h = try parseRequest(
            "GET / HTTP/1.1\r\nHOST: a\r\nAuthorization: Bearer x\r\nx-forwarded-for: 1.2.3.4\r\nTE: trailers\r\nKeep-Alive: 5\r\n\r\n"
        )
        #expect(h.fields.map(\.known) == [.host, .authorization, .xForwardedFor, .te, .keepAlive])
        #expect(KnownHeader.te.isHopByHop && KnownHeader.keepAlive.isHopByHop && !KnownHeader.authorization.isHopByHop)
    }
}
