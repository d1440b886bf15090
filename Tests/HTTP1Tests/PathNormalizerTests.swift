import HTTP1
import Testing

private func normalize(_ path: String) -> Result<String, HTTPParseError> {
    var out: [UInt8] = []
    let bytes = Array(path.utf8)
    let err: HTTPParseError? = bytes.withUnsafeBytes { b in
        do throws(HTTPParseError) {
            try PathNormalizer.normalize(b, into: &out)
            return nil
        } catch { return error }
    }
    if let err { return .failure(err) }
    return .success(String(decoding: out, as: UTF8.self))
}

@Suite("Path normalisation")
struct PathNormalizerTests {
    @Test(arguments: [
        ("/", "/"),
        ("/api", "/api"),
        ("/api/", "/api/"),
        ("//api//x", "/api/x"),
        ("/a/./b", "/a/b"),
        ("/a/b/../c", "/a/c"),
        ("/a/b/..", "/a/"),
        ("/a/.", "/a/"),
        ("/public/../admin", "/admin"),
        ("/public/%2e%2e/admin", "/admin"),
        ("/public/%2E./admin", "/admin"),
        ("/public/.%2e/admin", "/admin"),
        ("/%61pi", "/api"),
        ("/a%7Eb", "/a~b"),
        ("/a%20b", "/a%20b"),
        ("/a%c3%a9", "/a%C3%A9"),
        ("/a%3fb", "/a%3Fb"),
        ("/...", "/..."),
        ("/a/..b", "/a/..b"),
        ("/a:b@c!$&'()*+,=", "/a:b@c!$&'()*+,="),
    ])
    func normalises(_ input: String, _ expected: String) {
        #expect(normalize(input) == .success(expected), "\(input)")
    }

    @Test(arguments: [
        ("/a%2fb", HTTPParseError.forbiddenPathEncoding),
        ("/a%2Fb", .forbiddenPathEncoding),
        ("/a%5cb", .forbiddenPathEncoding),
        ("/a%00b", .forbiddenPathEncoding),
        ("/a%3bb", .forbiddenPathEncoding),
        ("/a;b", .forbiddenPathEncoding),
        ("/public/..;/admin", .forbiddenPathEncoding),
        ("/a\\b", .forbiddenPathEncoding),
        ("/..", .pathAboveRoot),
        ("/a/../..", .pathAboveRoot),
        ("/%2e%2e/x", .pathAboveRoot),
        ("/a%zz", .invalidPath),
        ("/a%4", .invalidPath),
        ("/a%", .invalidPath),
        ("/a b", .invalidPath),
        ("/a\"b", .invalidPath),
        ("/a<b", .invalidPath),
        ("/a{b", .invalidPath),
        ("/a|b", .invalidPath),
        ("a/b", .invalidPath),
        ("", .invalidPath),
    ])
    func refuses(_ input: String, _ expected: HTTPParseError) {
        #expect(normalize(input) == .failure(expected), "\(input)")
    }
}
