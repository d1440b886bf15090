/// The life of a connection on a `proxy_protocol` listener before it becomes a client
/// connection: events in, actions out, no sockets (`ProxyHeaderReader` does the I/O).
struct ProxyHeaderState: Equatable {
    enum Action: Equatable {
        /// Wait for more bytes (or the timeout).
        case wait
        /// Consume `length` bytes and hand the connection on, with the header's client.
        case accept(ProxyHeader, length: Int)
        /// Close the connection: an untrusted peer, a bad or late header, or the peer left.
        case reject(Reason)
    }

    enum Reason: Equatable {
        case untrustedPeer
        case invalid(ProxyProtocolError)
        case timedOut
        case peerClosed
    }

    private(set) var finished = false

    /// The connection was accepted: only a trusted proxy may speak first.
    mutating func accepted(trustedPeer: Bool) -> Action {
        guard trustedPeer else { return finish(.reject(.untrustedPeer)) }
        return .wait
    }

    /// All bytes waiting so far (peeked, not consumed), from the start of the connection.
    mutating func received(_ bytes: UnsafeRawBufferPointer) -> Action {
        guard !finished else { return .wait }
        do {
            switch try ProxyProtocolParser.parse(bytes) {
            case .needMore: return .wait
            case .header(let h, let length): return finish(.accept(h, length: length))
            }
        } catch {
            return finish(.reject(.invalid(error)))
        }
    }

    mutating func endOfStream() -> Action {
        guard !finished else { return .wait }
        return finish(.reject(.peerClosed))
    }

    mutating func timedOut() -> Action {
        guard !finished else { return .wait }
        return finish(.reject(.timedOut))
    }

    private mutating func finish(_ a: Action) -> Action {
        finished = true
        return a
    }
}
