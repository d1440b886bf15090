import HTTP1

@testable import GatewayCore

/// Records what an exchange sends its client, in order.
final class RecordingSink: ExchangeResponseSink {
    /// The server side's keep-alive decision this sink reports.
    var keepAlive = true
    var started: [Int] = []
    var head: [UInt8] = []
    var closeAfter = false
    var body: [UInt8] = []
    var ends = 0
    /// Calls after `responseEnd`, or body before head: the order the protocol promises.
    var outOfOrder = 0

    func responseStarting(status: Int) -> Bool {
        if !head.isEmpty || ends > 0 { outOfOrder += 1 }
        started.append(status)
        return keepAlive
    }

    func responseHead(_ bytes: UnsafeRawBufferPointer, closeAfter: Bool) {
        if !head.isEmpty || ends > 0 { outOfOrder += 1 }
        head.append(contentsOf: bytes)
        self.closeAfter = closeAfter
    }

    func responseBodyPart(_ bytes: UnsafeRawBufferPointer) {
        if head.isEmpty || ends > 0 { outOfOrder += 1 }
        body.append(contentsOf: bytes)
    }

    func responseEnd() {
        if head.isEmpty || ends > 0 { outOfOrder += 1 }
        ends += 1
    }

    var headText: String { String(decoding: head, as: UTF8.self) }
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A shared `HeadBuffer` (non-copyable), as the worker's is.
final class Scratch {
    var buffer = HeadBuffer()
    init() { buffer.append("HTTP/1.1 500 EARLIER\r\n\r\n") }
}

/// The upstream side of the request body: the bytes it would be sent.
final class FakeUpstream: ExchangeUpstreamWriter {
    var bytes: [UInt8] = []
    func queue(_ b: UnsafeRawBufferPointer) { bytes.append(contentsOf: b) }
    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// An exchange driven as the driver does: upstream bytes arrive in pieces into one buffer,
/// the exchange is offered the whole unconsumed buffer, consumed bytes are dropped, and
/// reading stops at the first action that is not `.readMore`.
struct ScriptedExchange {
    var exchange = ProxyExchange()
    let sink = RecordingSink()
    /// Read but not consumed: an incomplete head, or bytes past the answer.
    var buffered: [UInt8] = []
    var actions: [ProxyAction] = []
    /// The driver's head buffer, holding an earlier head: the exchange must start it afresh.
    let scratch = Scratch()

    init(
        method: HTTPMethod = .get, version: HTTPVersion = .http11, replayable: Bool = true,
        upgrade: Bool = false, accept: String = "", rewrite: ProxyExchange.Rewrite? = nil
    ) {
        exchange.start(
            ProxyExchange.Request(
                method: method, version: version, replayable: replayable, chunkedBody: false, upgrade: upgrade,
                webSocketAccept: Array(accept.utf8)),
            rewrite: rewrite ?? ProxyExchange.Rewrite(requestID: Array("r1".utf8)))
    }

    /// Feeds `pieces` one read at a time; returns the last action.
    @discardableResult
    mutating func feed(_ pieces: [[UInt8]]) -> ProxyAction {
        var last = ProxyAction.readMore
        for piece in pieces {
            buffered.append(contentsOf: piece)
            let (consumed, action) = buffered.withUnsafeBytes {
                exchange.upstreamBytes($0, scratch: &scratch.buffer, to: sink)
            }
            buffered.removeFirst(consumed)
            actions.append(action)
            last = action
            if action != .readMore { break }
        }
        return last
    }

    @discardableResult
    mutating func feed(_ text: String) -> ProxyAction { feed([Array(text.utf8)]) }

    mutating func eof(reused: Bool = false) -> ProxyAction {
        exchange.upstreamEOF(reused: reused, to: sink)
    }

    /// The pool decision with the I/O side neutral (body sent, nothing unsent or unread).
    var refusal: UpstreamReuse.Refusal? {
        mutating get {
            exchange.reuseRefusal(requestBodyDone: true, leftoverBytes: buffered.count, unsentBytes: 0)
        }
    }
}

/// `bytes` split every way the tests use: whole, in two at every offset, one byte at a time.
func splits(_ text: String) -> [[[UInt8]]] {
    let bytes = Array(text.utf8)
    var all: [[[UInt8]]] = [[bytes]]
    for i in 1..<bytes.count { all.append([Array(bytes[..<i]), Array(bytes[i...])]) }
    all.append(bytes.map { [$0] })
    return all
}

/// The payload of a chunked body, or nil if `bytes` is not exactly one complete chunked body.
func dechunk(_ bytes: [UInt8]) -> String? {
    var decoder = ChunkedDecoder()
    var out: [UInt8] = []
    var pos = 0
    while pos < bytes.count {
        let r: (consumed: Int, step: ChunkedDecoder.Step)
        do {
            r = try bytes.withUnsafeBytes { try decoder.decode(UnsafeRawBufferPointer(rebasing: $0[pos...])) }
        } catch {
            return nil
        }
        if case .data(let range) = r.step {
            out.append(contentsOf: bytes[(pos + range.lowerBound)..<(pos + range.upperBound)])
        }
        pos += r.consumed
        if r.step == .end { return pos == bytes.count ? String(decoding: out, as: UTF8.self) : nil }
        if r.consumed == 0 { return nil }
    }
    return nil
}
