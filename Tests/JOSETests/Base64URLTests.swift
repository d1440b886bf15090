import Testing

@testable import JOSE

@Suite("Base64URL (RFC 4648 §5, unpadded, canonical)")
struct Base64URLTests {
    @Test("RFC 4648 §10 vectors, unpadded")
    func vectors() throws {
        let cases = [
            "": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy",
        ]
        for (plain, encoded) in cases {
            #expect(Base64URL.encodeToString(Array(plain.utf8)) == encoded)
            #expect(try Base64URL.decode(encoded) == Array(plain.utf8))
        }
    }

    @Test("round trip for every length up to 100 and every byte value")
    func roundTrip() throws {
        for n in 0...100 {
            let data = SecureRandom.bytes(count: n)
            let e = Base64URL.encode(data)
            #expect(e.count == Base64URL.encodedLength(n))
            #expect(try Base64URL.decode(e) == data)
        }
        let all = (0...255).map { UInt8($0) }
        #expect(try Base64URL.decode(Base64URL.encode(all)) == all)
    }

    @Test("every non-canonical final character is refused")
    func canonical() {
        // One byte: 2 chars, the second carries 4 unused bits; two bytes: 3 chars, 2 unused bits.
        var accepted = 0
        for c in Base64URL.alphabet {
            if (try? Base64URL.decode([UInt8(ascii: "Q"), c])) != nil { accepted += 1 }
        }
        #expect(accepted == 4)  // Q A, Q Q, Q g, Q w
        accepted = 0
        for c in Base64URL.alphabet {
            if (try? Base64URL.decode([UInt8(ascii: "Q"), UInt8(ascii: "U"), c])) != nil { accepted += 1 }
        }
        #expect(accepted == 16)
    }

    @Test(
        "refuses anything outside the url-safe alphabet",
        arguments: ["QQ==", "Q Q", "QQ\n", "+/8", "QQ=", "Q\u{0}", "é"])
    func alphabet(text: String) {
        expectError(code: "malformed") { () throws(JOSEError) in try Base64URL.decode(text) }
    }
}
