import EventLoop
import Glibc
import Testing

@testable import RedisStore

@Suite("Redis client")
struct RedisClientTests {
    @Test func pipelinesManyCommandsInOrder() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let raw = try await RawRedis.open(url: server.url)
        defer { raw.close() }
        let results = await withTaskGroup(of: (Int, Int64?).self) { group in
            for i in 0..<500 {
                group.addTask { (i, try? await raw.send("INCRBY", "counter", 1).get().int64) }
            }
            var out: [(Int, Int64?)] = []
            for await r in group { out.append(r) }
            return out
        }
        #expect(results.allSatisfy { $0.1 != nil })
        #expect(Set(results.compactMap(\.1)) == Set(1...500))
        #expect(try await raw.value("GET", "counter").int64 == 500)
        // Binary-safe values, a large one included.
        let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        _ = try await raw.value("SET", "big", big)
        #expect(try await raw.value("GET", "big") == .bulkString(big))
        #expect(try await raw.value("GET", "missing") == .bulkString(nil))
        #expect(try await raw.value("NOSUCHCOMMAND").errorMessage?.hasPrefix("ERR") == true)
    }

    @Test func commandTimeoutWhenTheServerNeverAnswers() async throws {
        // A listener that never accepts: the kernel completes the handshake, nobody replies.
        let fd = try Socket.listen(on: SocketAddress(numericHost: "127.0.0.1", port: 0)!, reusePort: false)
        defer { Syscall.close(fd) }
        let port = Socket.localPort(fd)
        let raw = try await RawRedis.open(try RedisOptions(url: "redis://127.0.0.1:\(port)", commandTimeout: 300))
        defer { raw.close() }
        let started = monotonicMillis()
        let result = await raw.send("PING")
        let elapsed = monotonicMillis() - started
        #expect(result.failure == .timeout)
        #expect(elapsed >= 250 && elapsed < 1_500, "\(elapsed) ms")
    }

    @Test func connectTimeoutCoversTheHandshake() async throws {
        // TCP connects (the kernel's backlog), but AUTH is never answered.
        let fd = try Socket.listen(on: SocketAddress(numericHost: "127.0.0.1", port: 0)!, reusePort: false)
        defer { Syscall.close(fd) }
        let options = try RedisOptions(
            url: "redis://:pw@127.0.0.1:\(Socket.localPort(fd))",
            connectTimeout: 300,
            commandTimeout: 30_000
        )
        let raw = try await RawRedis.open(options, waitForConnection: false)
        defer { raw.close() }
        let (result, elapsed) = await raw.timedSend("PING")
        guard case .failure(.unavailable(let reason)) = result else {
            Issue.record("expected unavailable, got \(result)")
            return
        }
        // Timed out while waiting, or (if the call came late) refused after the timed-out attempts.
        #expect(reason.contains("connect timed out") || reason.contains("not connected"), "\(reason)")
        #expect(!reason.contains("pw"))
        // Bounded by the 300 ms connect timeout, not the 30 s command timeout (timed on the
        // client's loop; the margin is for a loaded machine).
        #expect(elapsed < 5_000, "\(elapsed) ms")
        #expect(!raw.client.isUp)
    }

    @Test func failsFastAfterAFailedReconnect() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let raw = try await RawRedis.open(
            try RedisOptions(
                url: server.url,
                commandTimeout: 5_000,
                reconnectBaseDelay: 50,
                reconnectMaxDelay: 200
            )
        )
        defer { raw.close() }
        #expect(try await raw.value("PING") == .simpleString("PONG"))
        server.kill()
        #expect(await eventually(seconds: 3) { !raw.client.isUp })
        let started = monotonicMillis()
        let result = await raw.send("PING")
        #expect(monotonicMillis() - started < 1_000, "fails fast, long before the 5 s command timeout")
        guard case .failure(.unavailable) = result else {
            Issue.record("expected unavailable, got \(result)")
            return
        }
        try await server.restartAsync()
        #expect(await eventually(seconds: 5) { raw.client.isUp })
        #expect(try await raw.value("PING") == .simpleString("PONG"))
    }

    @Test func closedClientRefuses() async throws {
        let server = try await RedisServer.start()
        defer { server.stop() }
        let raw = try await RawRedis.open(url: server.url)
        let loop = raw.loop, client = raw.client
        let result = await withCheckedContinuation { c in
            loop.execute {
                client.close()
                client.send(RedisCommand("PING"), deadline: .max) { c.resume(returning: $0) }
            }
        }
        #expect(result.failure == .closed)
        raw.close()
    }
}
