import HTTP1

/// Drives an `HTTPServerStateMachine` the way `ClientConnection` does, with a byte array in
/// place of the socket (NIO's `EmbeddedChannel` idea): feed bytes, collect what came out.
struct EmbeddedServer {
    enum Output: Equatable {
        /// A head: method and path as received.
        case head(String, String)
        case body(String)
        case bodyEnd
        case error(Int)
        case needInput
        case paused
    }

    var machine: HTTPServerStateMachine
    /// Bytes received and not consumed yet (the connection's input buffer).
    var buffered: [UInt8] = []
    var head = RequestHead()

    init(_ configuration: HTTPServerStateMachine.Configuration = .init()) {
        machine = HTTPServerStateMachine(configuration: configuration)
    }

    /// Appends `bytes` to the buffer and runs the machine until it wants input, pauses or fails.
    mutating func feed(_ text: String) -> [Output] {
        buffered += Array(text.utf8)
        return run()
    }

    mutating func run() -> [Output] {
        var out: [Output] = []
        for _ in 0..<10_000 {
            let (consumed, event) = buffered.withUnsafeBytes { machine.next($0, into: &head) }
            precondition(consumed <= buffered.count, "consumed more than buffered")
            switch event {
            case .head:
                out.append(.head(head.method.name, head.path))
            case .body(let range):
                out.append(.body(String(decoding: buffered[range], as: UTF8.self)))
            case .bodyEnd:
                out.append(.bodyEnd)
            case .error(let e):
                out.append(.error(e.status))
            case .needInput:
                out.append(.needInput)
            case .paused:
                out.append(.paused)
            }
            buffered.removeFirst(consumed)
            switch event {
            case .needInput:
                // A partial chunk line may be consumed with needInput: go on while bytes remain.
                if consumed == 0 || buffered.isEmpty { return out }
                out.removeLast()
            case .paused, .error: return out
            default: continue
            }
        }
        preconditionFailure("the state machine did not settle")
    }
}
