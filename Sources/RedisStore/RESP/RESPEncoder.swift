/// A value that can be one argument of a Redis command (a RESP bulk string).
public protocol RESPArgument: Sendable {
    /// The argument's bytes, as sent.
    var respBytes: [UInt8] { get }
}

extension String: RESPArgument {
    public var respBytes: [UInt8] { Array(utf8) }
}

extension Array: RESPArgument where Element == UInt8 {
    public var respBytes: [UInt8] { self }
}

extension Int: RESPArgument {
    public var respBytes: [UInt8] { Array(String(self).utf8) }
}

extension Int64: RESPArgument {
    public var respBytes: [UInt8] { Array(String(self).utf8) }
}

/// One command: its name and arguments, each sent as a bulk string.
public struct RedisCommand: Sendable, Equatable {
    public var arguments: [[UInt8]]

    public init(arguments: [[UInt8]]) {
        self.arguments = arguments
    }

    /// `RedisCommand("SET", key, value)`.
    public init(_ name: String, _ arguments: any RESPArgument...) {
        self.init(name, arguments)
    }

    public init(_ name: String, _ arguments: [any RESPArgument]) {
        self.arguments = [Array(name.utf8)] + arguments.map(\.respBytes)
    }

    /// The command's name, upper-cased (for logs and errors: never its arguments).
    public var name: String { arguments.first.map { String(decoding: $0, as: UTF8.self).uppercased() } ?? "" }
}

/// Encodes commands as RESP arrays of bulk strings, the form every Redis accepts.
public enum RESPEncoder {
    /// Appends `*N\r\n` then `$len\r\narg\r\n` for each argument.
    public static func encode(_ command: RedisCommand, into out: inout [UInt8]) {
        header(UInt8(ascii: "*"), command.arguments.count, into: &out)
        for arg in command.arguments {
            header(UInt8(ascii: "$"), arg.count, into: &out)
            out.append(contentsOf: arg)
            out.append(13)
            out.append(10)
        }
    }

    /// The bytes of one command.
    public static func encode(_ command: RedisCommand) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(command.arguments.reduce(16) { $0 + $1.count + 16 })
        encode(command, into: &out)
        return out
    }

    private static func header(_ type: UInt8, _ n: Int, into out: inout [UInt8]) {
        out.append(type)
        out.append(contentsOf: String(n).utf8)
        out.append(13)
        out.append(10)
    }
}
