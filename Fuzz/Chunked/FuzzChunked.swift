// libFuzzer target: `ChunkedDecoder` (HTTP1), fed the same bytes whole and split.
//
// Input: byte 0 seeds the split points (and small limits when its top bit is set); the rest
// is a chunked body as it arrives from a client or an upstream.
//
// The decoder is driven as `ClientConnection` drives it: decode, consume what it says, keep
// the rest, read more. Checks beyond "no crash": `consumed` never exceeds the bytes given and
// data ranges lie inside them; and the outcome (body bytes, end, error and where the body
// ended) is the same whether the bytes come in one read or in arbitrary pieces.
import HTTP1

private struct Outcome: Equatable {
    var body: [UInt8] = []
    var error: HTTPParseError?
    /// Input bytes consumed when the last chunk and trailers were done (nil: not done).
    var endAt: Int?
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChunked(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let control = data[0]
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let limits = control & 0x80 != 0
        ? ChunkedDecoder.Limits(maxChunkSize: 4096, maxExtensionBytes: 8, maxTrailerBytes: 32)
        : ChunkedDecoder.Limits()

    let whole = run(input, pieces: [input.count], limits: limits)

    // Split points from a small LCG seeded by byte 0: pieces of 1...16 bytes, or single bytes.
    var pieces = [Int]()
    var state = UInt32(control) &* 2_654_435_761 | 1
    var left = input.count
    while left > 0 {
        state = state &* 1_103_515_245 &+ 12345
        let n = control & 0x40 != 0 ? 1 : min(left, Int(state >> 16) % 16 + 1)
        pieces.append(n)
        left -= n
    }
    let split = run(input, pieces: pieces, limits: limits)
    precondition(whole == split, "whole \(whole) != split \(split) for pieces \(pieces)")
    return 0
}

/// Drives one decoder over `input` delivered in `pieces`, like a connection's read buffer.
private func run(_ input: [UInt8], pieces: [Int], limits: ChunkedDecoder.Limits) -> Outcome {
    var decoder = ChunkedDecoder(limits: limits)
    var out = Outcome()
    var buffer = [UInt8]()
    var delivered = 0
    var consumedTotal = 0
    for n in pieces {
        buffer.append(contentsOf: input[delivered..<(delivered + n)])
        delivered += n
        while !buffer.isEmpty {
            let result = buffer.withUnsafeBytes { b in
                Result { () throws(HTTPParseError) in try decoder.decode(b) }
            }
            let r: (consumed: Int, step: ChunkedDecoder.Step)
            switch result {
            case .success(let value): r = value
            case .failure(let error):
                out.error = error
                return out
            }
            precondition(r.consumed >= 0 && r.consumed <= buffer.count, "consumed \(r.consumed) of \(buffer.count)")
            switch r.step {
            case .data(let range):
                precondition(range.lowerBound >= 0 && range.upperBound <= r.consumed, "range \(range), consumed \(r.consumed)")
                precondition(!range.isEmpty, "empty data step")
                out.body.append(contentsOf: buffer[range])
            case .end:
                precondition(decoder.isDone)
                out.endAt = consumedTotal + r.consumed
                return out
            case .needMore:
                precondition(r.consumed == buffer.count, "needMore with \(buffer.count - r.consumed) bytes left")
            }
            consumedTotal += r.consumed
            buffer.removeFirst(r.consumed)
            if r.step == .needMore { break }
        }
    }
    return out
}
