import HTTP1
import Testing

private func canonical(_ text: String) -> String? {
    guard let c = try? HostCanonicalizer.canonicalize(text) else { return nil }
    return c.port < 0 ? c.host : "\(c.host) port \(c.port)"
}

private func failure(_ text: String) -> HTTPParseError? {
    do {
        _ = try HostCanonicalizer.canonicalize(text)
        return nil
    } catch {
        return error
    }
}

private let accepted: [(String, String)] = [
    ("example.com", "example.com"),
    ("Admin.Example.COM", "admin.example.com"),
    ("admin.example.com.", "admin.example.com"),
    ("admin.example.com.:8443", "admin.example.com port 8443"),
    ("h", "h"),
    ("localhost:080", "localhost port 80"),
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("my_service.internal", "my_service.internal"),
    ("a-b.c1", "a-b.c1"),
    ("1password.com", "1password.com"),
    ("127.0.0.1", "127.0.0.1"),
    ("127.0.0.1:65535", "127.0.0.1 port 65535"),
    ("0.0.0.0", "0.0.0.0"),
    ("[::1]", "[::1]"),
    ("[::1]:8080", "[::1] port 8080"),
    ("[::]", "[::]"),
    ("[2001:DB8::1]", "[2001:db8::1]"),
    ("[2001:db8:0:0:0:0:0:1]", "[2001:db8:0:0:0:0:0:1]"),
    ("[::ffff:192.0.2.1]", "[::ffff:192.0.2.1]"),
    ("[1::]", "[1::]"),
    ("[1:2:3:4:5:6:7::]", "[1:2:3:4:5:6:7::]"),
    (String(repeating: "a", count: 63) + ".com", String(repeating: "a", count: 63) + ".com"),
]

private let refused: [String] = [
    "", ".", "a..b", ".a", "a b", "exa mple", "a/b", "a%41", "a!b", "a@b", "user@host",
    "-a.com", "a-.com", "b\u{00fc}cher.example", "host:", "host:0", "host:65536", "host:99999",
    "host:123456", "host:8x", "host:+80", "host: 80", "example.com..", String(repeating: "a", count: 64) + ".com",
    "127.1", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "127.0.0.01", "1.2.3", "0x7f.0.0.1", "a.0x7f",
    "[::1", "::1", "[::1]x", "[::1]:", "[]", "[:]", "[:::]", "[1::2::3]", "[1:2:3:4:5:6:7:8:9]",
    "[1:2:3:4:5:6:7]", "[12345::]", "[1:]", "[:1]", "[fe80::1%25eth0]", "[fe80::1%eth0]", "[v1.x]",
    "[::256.0.0.1]", "[1:2:3:4:5:6:7:1.2.3.4]", "[g::1]",
]

@Suite("Host canonicalisation")
struct HostCanonicalizerTests {
    @Test("canonical forms", arguments: accepted)
    func accepts(text: String, expected: String) {
        #expect(canonical(text) == expected)
    }

    @Test("refused hosts", arguments: refused)
    func refuses(text: String) {
        #expect(failure(text) != nil, "\(text) accepted as \(canonical(text) ?? "?")")
    }

    @Test("never truncated: longer than 253 bytes is hostTooLong, 253 is fine")
    func lengthLimit() {
        let label = String(repeating: "a", count: 63)
        let name253 = [label, label, label, String(repeating: "b", count: 61)].joined(separator: ".")
        #expect(name253.utf8.count == 253)
        #expect(canonical(name253) == name253)
        #expect(canonical(name253 + ".") == name253)
        #expect(failure(name253 + "x") == .hostTooLong)
        let long = String(repeating: "x.", count: 141) + "admin.example.com"
        #expect(failure(long) == .hostTooLong)
        #expect(HTTPParseError.hostTooLong.status == 400)
    }

    @Test("the parser stores the canonical host of Host, and of an absolute-form target over Host")
    func parserStoresCanonicalHost() throws {
        let h = try parseRequest("GET / HTTP/1.1\r\nHost: Admin.Example.COM.:8080\r\n\r\n")
        #expect(String(decoding: h.canonicalHost, as: UTF8.self) == "admin.example.com")
        #expect(h.hostPort == 8080)
        var out = HeadBuffer()
        h.appendCanonicalAuthority(to: &out)
        #expect(String(decoding: out.bytes, as: UTF8.self) == "admin.example.com:8080")

        let a = try parseRequest("GET http://API.example./v1 HTTP/1.1\r\nHost: other.example:81\r\n\r\n")
        #expect(String(decoding: a.canonicalHost, as: UTF8.self) == "api.example")
        #expect(a.hostPort == -1)

        let none = try parseRequest("GET / HTTP/1.0\r\n\r\n")
        #expect(none.canonicalHost.isEmpty && !none.hasHost)
    }

    @Test("an invalid Host is refused even when an absolute-form target overrides it")
    func parserRefusesInvalidHost() {
        #expect(parseError("GET http://a.example/ HTTP/1.1\r\nHost: host:99999\r\n\r\n") == .invalidHost)
        #expect(parseError("GET / HTTP/1.1\r\nHost: host:\r\n\r\n") == .invalidHost)
        #expect(parseError("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n") == .invalidHost)
        #expect(parseError("GET http://[::1/ HTTP/1.1\r\nHost: a\r\n\r\n") == .invalidHost)
        let long = "GET / HTTP/1.1\r\nHost: " + String(repeating: "a.", count: 150) + "admin.example.com\r\n\r\n"
        #expect(parseError(long) == .hostTooLong)
    }
}
