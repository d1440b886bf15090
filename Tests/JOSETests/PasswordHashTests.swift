import Testing

@testable import JOSE

@Suite("Password hashing (scrypt, PBKDF2)")
struct PasswordHashTests {
    @Test("scrypt RFC 7914 §12 vector and PBKDF2-HMAC-SHA256 known answer")
    func knownAnswers() throws {
        let s = try Array("password".utf8).withBytes { (p) throws(JOSEError) in
            try KDF.scrypt(password: p, salt: Array("NaCl".utf8), ln: 10, r: 8, p: 16, length: 64)
        }
        #expect(
            s
                == hex(
                    "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
                )
        )
        let p = try Array("password".utf8).withBytes { (pw) throws(JOSEError) in
            try KDF.pbkdf2(password: pw, salt: Array("salt".utf8), iterations: 1, hash: .sha256, length: 32)
        }
        #expect(p == hex("120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"))
    }

    @Test("default scrypt (ln=17, 128 MiB) hashes and verifies")
    func defaultScrypt() throws {
        let h = try PasswordHash.hash(password: "correct horse battery staple")
        #expect(h.hasPrefix("$scrypt$ln=17,r=8,p=1$"))
        #expect(h.split(separator: "$").count == 4)
        #expect(PasswordHash.verify(password: "correct horse battery staple", against: h))
        #expect(!PasswordHash.verify(password: "correct horse battery stapl", against: h))
    }

    @Test("PBKDF2-SHA256 at 600,000 iterations")
    func pbkdf2() throws {
        let h = try PasswordHash.hash(password: "pw", scheme: PasswordHash.defaultPBKDF2)
        #expect(h.hasPrefix("$pbkdf2-sha256$i=600000$"))
        #expect(PasswordHash.verify(password: "pw", against: h))
        #expect(!PasswordHash.verify(password: "pW", against: h))
        expectError(.invalidPasswordHash("PBKDF2 iterations out of range")) { () throws(JOSEError) in
            try PasswordHash.hash(password: "pw", scheme: .pbkdf2SHA256(iterations: 100_000))
        }
    }

    @Test("fast parameters, salts differ, formats parse")
    func formats() throws {
        let scheme = PasswordHash.Scheme.scrypt(ln: 10, r: 8, p: 1)
        let a = try PasswordHash.hash(password: "pw", scheme: scheme),
            b = try PasswordHash.hash(password: "pw", scheme: scheme)
        #expect(a != b)
        #expect(PasswordHash.verify(password: "pw", against: a) && PasswordHash.verify(password: "pw", against: b))
        #expect(try PasswordHash.scheme(of: a) == scheme)
        #expect(
            PasswordHash.verify(
                password: [UInt8](),
                against: try PasswordHash.hash(password: [UInt8](), scheme: scheme)
            )
        )
        // passlib's pbkdf2_sha256 layout: rounds without "i=", "." for "+" in its base64.
        let salt = [UInt8](repeating: 0xFB, count: 16)
        let dk = try Array("pw".utf8).withBytes { (p) throws(JOSEError) in
            try KDF.pbkdf2(password: p, salt: salt, iterations: 29000, hash: .sha256, length: 32)
        }
        let ab64 = { (x: [UInt8]) in Base64.encode(x).replacingOccurrences(of: "+", with: ".") }
        let passlib = "$pbkdf2-sha256$29000$" + ab64(salt) + "$" + ab64(dk)
        #expect(PasswordHash.verify(password: "pw", against: passlib))
        #expect(!PasswordHash.verify(password: "px", against: passlib))
    }

    @Test(
        "unreadable hash strings",
        arguments: [
            "", "plain", "$scrypt$ln=17,r=8$AAAA$AAAA", "$scrypt$ln=40,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$md5$x$y$z", "$pbkdf2-sha256$i=10$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$scrypt$ln=10,r=8,p=1$!!$aGFzaA",
            "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$aGFzaA",
        ]
    )
    func unreadable(encoded: String) {
        expectError(code: "invalid_password_hash") { () throws(JOSEError) in try PasswordHash.validate(encoded) }
        #expect(!PasswordHash.verify(password: "pw", against: encoded))
    }

    @Test("burning time for an unknown user costs about one verification")
    func burnTime() throws {
        let scheme = PasswordHash.Scheme.scrypt(ln: 14, r: 8, p: 1)
        let h = try PasswordHash.hash(password: "pw", scheme: scheme)
        let clock = ContinuousClock()
        let verify = clock.measure { _ = PasswordHash.verify(password: "pw", against: h) }
        let burn = clock.measure { PasswordHash.burnTime(password: Array("pw".utf8), like: h) }
        #expect(burn > verify / 5 && burn < verify * 5, "verify \(verify), burn \(burn)")
    }
}
