import Testing

@testable import RedisStore

@Suite("RESP encoder")
struct RESPEncoderTests {
    @Test func encodesArrayOfBulkStrings() {
        let bytes = RESPEncoder.encode(RedisCommand("SET", "key", "value"))
        #expect(bytes == Array("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n".utf8))
    }

    @Test func binaryAndNumericArguments() {
        let binary: [UInt8] = [0, 13, 10, 255]
        let bytes = RESPEncoder.encode(RedisCommand("X", binary, 42, Int64(-7), ""))
        #expect(
            bytes == Array("*5\r\n$1\r\nX\r\n$4\r\n".utf8) + binary
                + Array("\r\n$2\r\n42\r\n$2\r\n-7\r\n$0\r\n\r\n".utf8)
        )
    }

    @Test func roundTripsThroughTheParser() throws {
        let args: [[UInt8]] = [Array("EVALSHA".utf8), [], [UInt8](repeating: 13, count: 300), Array("ünï".utf8)]
        var parser = RESPParser()
        parser.append(RESPEncoder.encode(RedisCommand(arguments: args)))
        #expect(try parser.next() == .array(args.map { .bulkString($0) }))
    }

    @Test func pipelinedCommandsAppend() {
        var out: [UInt8] = []
        RESPEncoder.encode(RedisCommand("PING"), into: &out)
        RESPEncoder.encode(RedisCommand("PING"), into: &out)
        #expect(out == Array("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n".utf8))
    }

    @Test func nameNeverShowsArguments() {
        #expect(RedisCommand("auth", "user", "secret").name == "AUTH")
    }
}
