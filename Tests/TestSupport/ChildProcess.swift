import Glibc

/// Runs a helper command (`openssl`, say) to its end for a test: posix_spawn, then a bounded
/// wait by PID.
///
/// Not Foundation's `Process`: on Linux it learns of its child's exit when a socket that the
/// child inherited closes, and every process spawned meanwhile by another test (the
/// redis-servers, which live for the whole run) inherits that socket as well. Its
/// `waitUntilExit()` then blocks for ever, and two such waits hold both threads of the
/// concurrency pool on a 2-core machine: the whole test run stops (seen in CI).
public enum ChildProcess {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `argv` (an absolute path first) with stdin, stdout and stderr on /dev/null, a
    /// clean signal mask and default handlers; waits at most `seconds` for it, then kills it.
    /// Throws unless it exited with status 0.
    public static func run(_ argv: [String], seconds: Int = 30) throws {
        let child = try spawn(argv)
        var status: Int32 = 0
        for _ in 0..<(seconds * 100) {
            let r = waitpid(child, &status, WNOHANG)
            if r == child {
                guard exited(status) == 0 else {
                    throw Failure(description: "\(argv.joined(separator: " ")) failed (status \(status))")
                }
                return
            }
            if r < 0 && errno != EINTR { throw Failure(description: "waitpid: errno \(errno)") }
            usleep(10_000)
        }
        _ = kill(child, SIGKILL)
        _ = waitpid(child, &status, 0)
        throw Failure(description: "\(argv.joined(separator: " ")) did not finish within \(seconds) s")
    }

    /// Starts `argv` and returns its PID, to be reaped by the caller (`waitpid` by that PID).
    public static func spawn(_ argv: [String], stdout: String = "/dev/null") throws -> pid_t {
        precondition(!argv.isEmpty)
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for a in cargs { free(a) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // Nothing else of this process goes to the child: a long-lived child (redis-server)
        // holding another test's socket keeps that socket's peer from ever seeing it close.
        if let closeFrom = closeFrom { _ = closeFrom(&actions, 3) }
        // The child would inherit the spawning thread's blocked signals: give it an empty
        // mask and default handlers, so that a kill by PID works.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var child: pid_t = 0
        let rc = posix_spawn(&child, argv[0], &actions, &attr, &cargs, environ)
        guard rc == 0 else { throw Failure(description: "posix_spawn \(argv[0]): \(rc)") }
        return child
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34), which its Swift module does
    /// not export.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    nonisolated(unsafe) private static let closeFrom: CloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()

    /// The exit status of a normal exit, or -1 for a signal.
    private static func exited(_ status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    }
}
