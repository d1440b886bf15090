import Glibc
import TestSupport
import Testing

/// The test helper that runs `openssl` and `redis-server`: what the CI hang taught.
@Suite("Child processes for tests")
struct ChildProcessTests {
    /// A child gets stdin, stdout and stderr only, not a descriptor this process holds
    /// without close-on-exec (as Foundation's Process socket pair was).
    @Test func aChildInheritsNoOtherDescriptor() throws {
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { close(pair[0]); close(pair[1]) }
        let out = "/tmp/child-fds-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(out) }
        let child = try ChildProcess.spawn(["/bin/sh", "-c", "ls /proc/$$/fd"], stdout: out)
        var status: Int32 = 0
        var reaped = false
        for _ in 0..<1000 {
            if waitpid(child, &status, WNOHANG) == child {
                reaped = true
                break
            }
            usleep(10_000)
        }
        #expect(reaped)
        let f = try #require(fopen(out, "r"))
        defer { fclose(f) }
        var fds: [String] = []
        var line = [CChar](repeating: 0, count: 64)
        while fgets(&line, 64, f) != nil {
            let bytes = line.prefix { $0 != 10 && $0 != 0 }.map { UInt8(bitPattern: $0) }
            fds.append(String(decoding: bytes, as: UTF8.self))
        }
        // The shell's own: 0, 1, 2 (and, at most, one it opens for itself, above 9).
        #expect(fds.filter { Int($0).map { $0 > 2 && $0 < 10 } ?? true }.isEmpty, "child fds: \(fds)")
    }

    @Test func aFailingOrHangingCommandIsAnErrorNotAWait() throws {
        #expect(throws: ChildProcess.Failure.self) { try ChildProcess.run(["/bin/false"]) }
        let start = time(nil)
        #expect(throws: ChildProcess.Failure.self) { try ChildProcess.run(["/bin/sleep", "30"], seconds: 1) }
        #expect(time(nil) - start < 10)
        try ChildProcess.run(["/bin/true"])
    }
}
