import Glibc
import Testing

/// A throw-away PKI made with the `openssl` command at test time (as TLSTests' fixture): a
/// CA, a server certificate for localhost/127.0.0.1, a client certificate, and a second CA
/// that signed nothing here (a client trusting it must refuse the server). The command is
/// run with posix_spawn and reaped by PID, like `RedisServer` (Foundation's `Process` can
/// wait forever here while other tests spawn and reap servers).
final class CertificateFixture: @unchecked Sendable {
    let dir: String

    init() throws {
        var template = Array("/tmp/redis-tls-fixture-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let p else { throw TestFailure("mkdtemp failed") }
        dir = String(cString: p)
        try openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("ca.key"),
            "-out", path("ca.pem"), "-subj", "/CN=Test CA", "-days", "2")
        try leaf("server", subject: "/CN=localhost", san: "DNS:localhost,IP:127.0.0.1")
        try leaf("client", subject: "/O=Example/CN=client-1", san: "DNS:client-1", client: true)
        try openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            path("other-ca.key"), "-out", path("other-ca.pem"), "-subj", "/CN=Other CA", "-days", "2")
    }

    func path(_ name: String) -> String { dir + "/" + name }

    private func leaf(_ name: String, subject: String, san: String, client: Bool = false) throws {
        try openssl(
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path(name + ".key"),
            "-out", path(name + ".csr"), "-subj", subject)
        let usage = client ? "extendedKeyUsage=clientAuth" : "extendedKeyUsage=serverAuth"
        guard let f = fopen(path(name + ".ext"), "w") else { throw TestFailure("cannot write \(name).ext") }
        fputs("subjectAltName=\(san)\n\(usage)\n", f)
        fclose(f)
        try openssl(
            "x509", "-req", "-in", path(name + ".csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
            "-CAcreateserial", "-out", path(name + ".pem"), "-days", "2", "-extfile", path(name + ".ext"))
    }

    private func openssl(_ args: String...) throws {
        let argv = ["/usr/bin/openssl"] + args
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for a in cargs { free(a) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var child: pid_t = 0
        guard posix_spawn(&child, argv[0], &actions, nil, &cargs, environ) == 0 else {
            throw TestFailure("cannot run openssl")
        }
        // Bounded: openssl makes a P-256 key in milliseconds; 10 s is a hang.
        var status: Int32 = 0
        for _ in 0..<1000 {
            if waitpid(child, &status, WNOHANG) == child {
                try #require(status == 0, "openssl \(args.joined(separator: " ")) failed")
                return
            }
            usleep(10_000)
        }
        _ = kill(child, SIGKILL)
        _ = waitpid(child, &status, 0)
        throw TestFailure("openssl \(args.joined(separator: " ")) did not finish")
    }

    deinit { RedisServer.removeTree(dir) }
}
