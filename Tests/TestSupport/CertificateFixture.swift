import Foundation

/// A throw-away PKI made with the `openssl` command at test time, in a directory of its own
/// that goes with the fixture:
/// - `ca`: the CA every leaf below is signed by;
/// - `server`: localhost and 127.0.0.1 (serverAuth);
/// - `other`: other.test and *.other.test, for SNI (serverAuth);
/// - `client`: O=Example, CN=client-1 (clientAuth);
/// - `rogue`: a self-signed localhost certificate no one trusts;
/// - `other-ca`: a second CA that signed nothing here (a client trusting it must refuse).
/// Each name has `NAME.pem` and `NAME.key` (P-256).
public final class CertificateFixture: @unchecked Sendable {
    public let dir: String

    public init() throws {
        dir = NSTemporaryDirectory() + "tls-fixture-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try selfSigned("ca", subject: "/CN=Test CA")
        try leaf("server", subject: "/CN=localhost", san: "DNS:localhost,IP:127.0.0.1")
        try leaf("other", subject: "/CN=other.test", san: "DNS:other.test,DNS:*.other.test")
        try leaf("client", subject: "/O=Example/CN=client-1", san: "DNS:client-1", client: true)
        try selfSigned("rogue", subject: "/CN=localhost", extra: ["-addext", "subjectAltName=DNS:localhost"])
        try selfSigned("other-ca", subject: "/CN=Other CA")
    }

    public func path(_ name: String) -> String { dir + "/" + name }

    private func selfSigned(_ name: String, subject: String, extra: [String] = []) throws {
        try openssl(
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                path(name + ".key"), "-out", path(name + ".pem"), "-subj", subject, "-days", "2",
            ] + extra)
    }

    private func leaf(_ name: String, subject: String, san: String, client: Bool = false) throws {
        try openssl(
            [
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path(name + ".key"),
                "-out", path(name + ".csr"), "-subj", subject,
            ])
        let usage = client ? "extendedKeyUsage=clientAuth" : "extendedKeyUsage=serverAuth"
        try "subjectAltName=\(san)\n\(usage)\n".write(toFile: path(name + ".ext"), atomically: true, encoding: .utf8)
        try openssl(
            [
                "x509", "-req", "-in", path(name + ".csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
                "-CAcreateserial", "-out", path(name + ".pem"), "-days", "2", "-extfile", path(name + ".ext"),
            ])
    }

    /// openssl makes a P-256 key in milliseconds: 30 s means it hung.
    private func openssl(_ args: [String]) throws {
        try ChildProcess.run(["/usr/bin/openssl"] + args, seconds: 30)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }
}
