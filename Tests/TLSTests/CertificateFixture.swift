import Foundation
import Testing

/// A throw-away PKI made with the `openssl` command at test time: a CA, a server certificate
/// for localhost/127.0.0.1, one for `other.test` (SNI), a client certificate, and a
/// self-signed certificate no one trusts.
final class CertificateFixture: @unchecked Sendable {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "tls-fixture-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("ca.key"),
            "-out", path("ca.pem"), "-subj", "/CN=Test CA", "-days", "2")
        try leaf("server", subject: "/CN=localhost", san: "DNS:localhost,IP:127.0.0.1")
        try leaf("other", subject: "/CN=other.test", san: "DNS:other.test,DNS:*.other.test")
        try leaf("client", subject: "/O=Example/CN=client-1", san: "DNS:client-1", client: true)
        try openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            path("rogue.key"), "-out", path("rogue.pem"), "-subj", "/CN=localhost", "-days", "2", "-addext",
            "subjectAltName=DNS:localhost")
    }

    func path(_ name: String) -> String { dir + "/" + name }

    private func leaf(_ name: String, subject: String, san: String, client: Bool = false) throws {
        try openssl(
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path(name + ".key"),
            "-out", path(name + ".csr"), "-subj", subject)
        let usage = client ? "extendedKeyUsage=clientAuth" : "extendedKeyUsage=serverAuth"
        try "subjectAltName=\(san)\n\(usage)\n".write(toFile: path(name + ".ext"), atomically: true, encoding: .utf8)
        try openssl(
            "x509", "-req", "-in", path(name + ".csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
            "-CAcreateserial", "-out", path(name + ".pem"), "-days", "2", "-extfile", path(name + ".ext"))
    }

    private func openssl(_ args: String...) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "openssl \(args.joined(separator: " ")) failed")
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }
}
