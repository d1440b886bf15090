import Glibc
import Synchronization
import TestSupport

/// A `redis-server` of a test's own: a free 127.0.0.1 port, a temporary directory,
/// `appendonly yes` with `appendfsync always` and no RDB snapshots. Started by PID, stopped
/// by PID (`stop()`), restartable on the same port and directory. A missing binary is a
/// test failure, not a skip: CI installs `redis-server` from Debian.
final class RedisServer: @unchecked Sendable {
    static let candidates = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]

    /// A TLS-only server (`--port 0 --tls-port N`): its certificate, the CA that client
    /// certificates must chain to, and whether a client certificate is required.
    struct TLSFiles: Sendable {
        var certFile: String
        var keyFile: String
        var caFile: String
        var authClients = true
    }

    let port: UInt16
    let dir: String
    let extraArguments: [String]
    let tls: TLSFiles?
    private let pid = Mutex<pid_t>(0)

    enum Failure: Error, CustomStringConvertible {
        case missingBinary
        case spawn(String)
        case notReady(String)

        var description: String {
            switch self {
            case .missingBinary: return "redis-server not found (install the Debian package redis-server)"
            case .spawn(let why): return "could not start redis-server: \(why)"
            case .notReady(let log): return "redis-server did not become ready; log:\n\(log)"
            }
        }
    }

    /// Starts a server; retries on another port if the chosen one was taken meanwhile.
    init(extraArguments: [String] = [], tls: TLSFiles? = nil) throws {
        self.extraArguments = extraArguments
        self.tls = tls
        var template = Array("/tmp/redisstore-test-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let p else { throw Failure.notReady("mkdtemp failed") }
        dir = String(cString: p)
        var lastError: Error = Failure.notReady("no attempt")
        for _ in 0..<5 {
            let candidate = Self.freePort()
            do {
                let child = try Self.launch(port: candidate, dir: dir, extra: extraArguments, tls: tls)
                pid.withLock { $0 = child }
                port = candidate
                return
            } catch {
                lastError = error
            }
        }
        Self.removeTree(dir)
        throw lastError
    }

    deinit { stop(removeFiles: true) }

    /// Starts a server from a thread of its own (starting blocks on bounded polls).
    static func start(extraArguments: [String] = [], tls: TLSFiles? = nil) async throws -> RedisServer {
        try await offPool { try RedisServer(extraArguments: extraArguments, tls: tls) }
    }

    /// `restart()` off the concurrency pool.
    func restartAsync() async throws {
        try await offPool { [self] in try restart() }
    }

    var url: String { (tls == nil ? "redis://" : "rediss://") + "127.0.0.1:\(port)" }

    var isRunning: Bool { pid.withLock { $0 != 0 } }

    /// Kills the server (SIGKILL by default: nothing gets a chance to flush) and reaps it.
    func kill(signal: Int32 = SIGKILL) {
        let p = pid.withLock { p in
            defer { p = 0 }
            return p
        }
        guard p > 0 else { return }
        _ = Glibc.kill(p, signal)
        Self.reap(p)
    }

    /// Starts the server again on the same port and directory.
    func restart() throws {
        kill()
        var lastError: Error = Failure.notReady("no attempt")
        for _ in 0..<20 {
            do {
                let child = try Self.launch(port: port, dir: dir, extra: extraArguments, tls: tls)
                pid.withLock { $0 = child }
                return
            } catch {
                lastError = error
                usleep(100_000)
            }
        }
        throw lastError
    }

    /// Stops the server by its PID (SIGTERM, then SIGKILL after 5 s) and removes its files.
    func stop(removeFiles: Bool = true) {
        kill(signal: SIGTERM)
        if removeFiles { Self.removeTree(dir) }
    }

    // MARK: - Process

    private static func launch(port: UInt16, dir: String, extra: [String], tls: TLSFiles?) throws -> pid_t {
        guard let exe = candidates.first(where: { access($0, X_OK) == 0 }) else { throw Failure.missingBinary }
        var ports = ["--port", String(port)]
        if let tls {
            ports = [
                "--port", "0", "--tls-port", String(port), "--tls-cert-file", tls.certFile, "--tls-key-file",
                tls.keyFile, "--tls-ca-cert-file", tls.caFile, "--tls-auth-clients", tls.authClients ? "yes" : "no",
            ]
        }
        let args =
            [exe] + ports + [
                "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes",
                "--appendfsync", "always", "--save", "", "--daemonize", "no", "--logfile", dir + "/redis.log",
            ] + extra
        let child: pid_t
        do {
            child = try ChildProcess.spawn(args)
        } catch {
            throw Failure.spawn("\(error)")
        }
        // Bounded wait: up to 10 s for a PONG (or a NOAUTH, which also means it is up).
        for _ in 0..<200 {
            var status: Int32 = 0
            if waitpid(child, &status, WNOHANG) == child {
                throw Failure.notReady(readLog(dir))
            }
            // A TLS port is probed by connecting only: a plaintext PING gets no answer there.
            if tls == nil ? ping(port) : accepts(port) { return child }
            usleep(50_000)
        }
        _ = Glibc.kill(child, SIGKILL)
        reap(child)
        throw Failure.notReady(readLog(dir))
    }

    /// Waits for `p` to exit: up to 5 s, then SIGKILL and a final wait.
    private static func reap(_ p: pid_t) {
        var status: Int32 = 0
        for _ in 0..<500 {
            if waitpid(p, &status, WNOHANG) != 0 { return }
            usleep(10_000)
        }
        _ = Glibc.kill(p, SIGKILL)
        _ = waitpid(p, &status, 0)
    }

    /// Whether a TCP connection to 127.0.0.1:`port` is accepted.
    static func accepts(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// One blocking PING with a 1 s receive timeout.
    static func ping(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else { return false }
        let cmd = Array("PING\r\n".utf8)
        guard send(fd, cmd, cmd.count, Int32(MSG_NOSIGNAL)) == cmd.count else { return false }
        var buf = [UInt8](repeating: 0, count: 64)
        let n = recv(fd, &buf, buf.count, 0)
        guard n > 0 else { return false }
        let reply = String(decoding: buf[0..<n], as: UTF8.self)
        return reply.hasPrefix("+PONG") || reply.hasPrefix("-NOAUTH")
    }

    /// A port that was free a moment ago on 127.0.0.1.
    static func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, len) == 0 ? getsockname(fd, p, &len) : -1
            }
        }
        return UInt16(bigEndian: addr.sin_port)
    }

    private static func readLog(_ dir: String) -> String {
        guard let f = fopen(dir + "/redis.log", "r") else { return "(no log)" }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while out.count < 16384 {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Removes a directory and everything under it (the server's files only).
    static func removeTree(_ path: String) {
        if let d = opendir(path) {
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name == "." || name == ".." { continue }
                let child = path + "/" + name
                var st = stat()
                if lstat(child, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                    removeTree(child)
                } else {
                    unlink(child)
                }
            }
            closedir(d)
        }
        rmdir(path)
    }
}
