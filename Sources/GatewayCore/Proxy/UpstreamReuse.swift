import EventLoop

/// Whether an upstream connection may serve another request. A connection is pooled only
/// when nothing of the answer it just carried can still be on it: bytes left over past the
/// answer's framing are the upstream breaking that framing, and whatever it sent there
/// would otherwise be read as the next client's response.
enum UpstreamReuse {
    /// Why a connection that finished an answer is closed instead of pooled.
    enum Refusal: Equatable {
        /// The upstream said `Connection: close` (or answered HTTP/1.0 without keep-alive).
        case upstreamClosing
        /// The body ends when the upstream closes: there is no framing to resume after.
        case closeDelimited
        /// The request body was not sent in full, so the upstream is still reading it.
        case requestUnfinished
        /// An upgrade was asked for: the upstream may treat the connection as switched
        /// even when its answer was not a 101.
        case upgraded
        /// Bytes beyond the end of the answer were already read (body after 204/304/HEAD,
        /// more than Content-Length, anything after the last chunk).
        case leftoverBytes
        /// The socket holds unread bytes, or the upstream closed or reset it.
        case unreadInput
        /// Part of the request is still queued for the upstream.
        case unsentOutput
    }

    /// How one answer on a connection ended, as the exchange saw it.
    struct AnswerEnd {
        var upstreamKeepAlive: Bool
        var closeDelimited: Bool
        var requestBodyDone: Bool
        var upgraded: Bool
        /// Bytes read from the upstream but not part of the answer.
        var leftoverBytes: Int
        /// Request bytes not yet written to the upstream.
        var unsentBytes: Int
        /// What the socket holds unread once the answer was taken (`.nothing` if not looked at).
        var pending: Syscall.Pending
    }

    /// Nil: the connection may be pooled; otherwise why it must be closed.
    static func refusal(_ end: AnswerEnd) -> Refusal? {
        if end.upgraded { return .upgraded }
        if end.leftoverBytes > 0 { return .leftoverBytes }
        if end.pending != .nothing { return .unreadInput }
        if !end.upstreamKeepAlive { return .upstreamClosing }
        if end.closeDelimited { return .closeDelimited }
        if !end.requestBodyDone { return .requestUnfinished }
        if end.unsentBytes > 0 { return .unsentOutput }
        return nil
    }

    /// Whether a pooled connection may be handed to a new request: only if, looked at just
    /// before, it holds nothing unread and is not closed. Anything there was not asked for.
    static func mayHandOff(_ pending: Syscall.Pending) -> Bool {
        pending == .nothing
    }
}
