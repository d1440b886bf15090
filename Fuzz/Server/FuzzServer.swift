// libFuzzer target: `HTTPServerStateMachine` (HTTP1), the request side of a connection,
// driven as `ClientConnection` drives it, with the input whole and split at random points.
//
// Input: byte 0 picks the split (its low 6 bits seed piece sizes, 0x40: single bytes), small
// limits (0x80); byte 1 picks the body limit and what the fake exchange does (answer before
// reading the body, ask for 100-continue, close). The rest is what a client sends.
//
// Checks beyond "no crash or hang": `consumed` never exceeds the bytes given and body ranges
// lie inside the consumed bytes; no body event before a head, none after an error or after
// the response ended with a close; a request's body never exceeds its Content-Length or the
// limit; each call settles (bounded steps); and the outcome (heads, body bytes, errors and
// close decisions) is the same whole as split.
import HTTP1

private struct Outcome: Equatable {
    var heads: [String] = []
    var body: [UInt8] = []
    var errors: [Int] = []
    var actions: [HTTPServerStateMachine.Action] = []
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzServer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 1 else { return 0 }
    let control = data[0]
    let behaviour = data[1]
    let input = Array(UnsafeBufferPointer(start: data + 2, count: size - 2))
    let config =
        control & 0x80 != 0
        ? HTTPServerStateMachine.Configuration(
            limits: HTTPLimits(maxRequestLine: 64, maxHeaderBytes: 128, maxHeaderCount: 4), maxRequestsPerConnection: 3,
            chunked: ChunkedDecoder.Limits(maxChunkSize: 64, maxExtensionBytes: 8, maxTrailerBytes: 32))
        : HTTPServerStateMachine.Configuration(maxRequestsPerConnection: 8)

    let whole = run(input, pieces: [input.count], config: config, behaviour: behaviour)

    var pieces = [Int]()
    var state = UInt32(control & 0x3F) &* 2_654_435_761 | 1
    var left = input.count
    while left > 0 {
        state = state &* 1_103_515_245 &+ 12345
        let n = control & 0x40 != 0 ? 1 : min(left, Int(state >> 16) % 24 + 1)
        pieces.append(n)
        left -= n
    }
    let split = run(input, pieces: pieces, config: config, behaviour: behaviour)
    // Which status a refused head gets may depend on the split: a request line that is too
    // long and also has a bare LF past the limit is 414 when it arrives in pieces and 400
    // when whole (HeadScanner checks the length before it has seen the LF). Both refuse, so
    // only the fact of an error is compared. Body bytes before an error depend on where the reads split them (a chunked body over
    // the limit is refused at the chunk piece that crosses it): then one is a prefix of the other.
    let sameBody =
        whole.errors.isEmpty
        ? whole.body == split.body
        : whole.body.starts(with: split.body) || split.body.starts(with: whole.body)
    precondition(
        whole.heads == split.heads && whole.errors.count == split.errors.count && whole.actions == split.actions
            && sameBody,
        "whole \(whole) != split \(split) for pieces \(pieces)")
    return 0
}

private func run(
    _ input: [UInt8], pieces: [Int], config: HTTPServerStateMachine.Configuration, behaviour: UInt8
) -> Outcome {
    var machine = HTTPServerStateMachine(configuration: config)
    var head = RequestHead()
    var out = Outcome()
    var buffer = [UInt8]()
    var delivered = 0
    var inRequest = false
    var finished = false
    var requestBody: Int64 = 0
    let limit = Int64(behaviour & 0x0F) * 16
    let answerEarly = behaviour & 0x10 != 0
    let askContinue = behaviour & 0x20 != 0
    let closeEach = behaviour & 0x40 != 0

    /// The fake exchange answers the current request; returns false once the connection closes.
    func respond() -> Bool {
        if closeEach { machine.requestClose() }
        let keep = machine.responseStarted()
        let action = machine.responseEnded()
        out.actions.append(action)
        precondition((action == .readNext) == keep || !keep, "keep-alive said \(keep), action \(action)")
        inRequest = false
        return action == .readNext
    }

    for n in pieces where !finished {
        buffer.append(contentsOf: input[delivered..<(delivered + n)])
        delivered += n
        var steps = 0
        while !finished {
            steps += 1
            precondition(steps < 4 * buffer.count + 64, "the state machine does not settle")
            let (consumed, event) = buffer.withUnsafeBytes { machine.next($0, into: &head) }
            precondition(consumed >= 0 && consumed <= buffer.count, "consumed \(consumed) of \(buffer.count)")
            switch event {
            case .head:
                precondition(!inRequest, "a head inside a request")
                precondition(consumed > 0)
                inRequest = true
                requestBody = 0
                out.heads.append(head.method.name + " " + head.path)
                if machine.setBodyLimit(limit, contentLength: head.contentLength) != nil {
                    out.errors.append(413)
                    if !respond() { finished = true }
                } else if answerEarly && head.hasBody {
                    if !respond() { finished = true }
                } else if askContinue {
                    _ = machine.bodyWanted(buffered: buffer.count - consumed)
                }
            case .body(let range):
                precondition(inRequest, "body before a head")
                precondition(range.lowerBound >= 0 && range.upperBound <= consumed, "range \(range) past \(consumed)")
                requestBody += Int64(range.count)
                precondition(head.isChunked || requestBody <= head.contentLength, "body longer than Content-Length")
                precondition(requestBody <= limit, "body past the limit")
                out.body.append(contentsOf: buffer[range])
            case .bodyEnd:
                precondition(inRequest, "body end before a head")
                precondition(machine.requestComplete)
                precondition(head.isChunked || requestBody == max(0, head.contentLength))
            case .needInput:
                break
            case .paused:
                precondition(consumed == 0)
            case .error(let e):
                out.errors.append(e.status)
                precondition(!machine.keepAlive, "keep-alive after an error")
                _ = respond()
                finished = true
            }
            buffer.removeFirst(consumed)
            if finished { break }
            if event == .paused {
                // The current response ends; the next request's bytes were waiting.
                guard inRequest, respond() else {
                    finished = true
                    break
                }
                continue
            }
            if event == .needInput && (consumed == 0 || buffer.isEmpty) { break }
        }
    }
    if finished {
        // No event after the close decision.
        let (consumed, event) = buffer.withUnsafeBytes { machine.next($0, into: &head) }
        precondition(consumed == 0 && event == .paused, "event after close: \(event)")
    } else {
        // The client stops sending: end of input is a close or a half-close.
        let action = machine.inputEnded()
        precondition(action == .close || (action == .none && machine.requestComplete), "input end: \(action)")
        out.actions.append(action)
    }
    return out
}
