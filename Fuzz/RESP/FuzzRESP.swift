// libFuzzer target: `RESPParser` (RedisStore), fed the same reply bytes whole and in pieces.
//
// Input: byte 0 is the control byte, bytes 1-2 a big-endian split point (taken modulo the
// length of the rest); the rest is what a Redis server sends. Control bits:
//  - 0x80: small limits (`smallLimits`), so that every limit is reached by short inputs;
//  - 0x40: a third delivery, one byte per `append`.
//
// The parser is driven as `RedisConnection` drives it: append what arrived, take replies out
// until it needs more, stop at the first error. Checks beyond "no crash":
//  - the outcome (replies, error, bytes left buffered) is the same whole, split in two at the
//    chosen point, and byte by byte: an incremental parser must not depend on read sizes;
//  - every reply keeps to the limits (depth, array count, bulk length, values per reply, line
//    length) and holds no CR or LF in a simple string or error;
//  - round trip: the replies, serialised again, parse back equal; a reply that is an array of
//    bulk strings (what `RESPEncoder` writes) encodes through `RESPEncoder` to exactly those
//    bytes.
// Each reply also goes through the store's reply decoders (`StoreReply`, `RevocationMessage`),
// which take the parser's output as it comes.
@testable import RedisStore

#if canImport(Glibc)
import Glibc
#endif

/// `FUZZ_DEBUG=1` prints each input's outcome (to check that the seeds reach what they should).
private let debug = getenv("FUZZ_DEBUG") != nil

private struct Outcome: Equatable {
    var replies: [RESPValue] = []
    var error: RESPError?
    /// Bytes buffered and not part of a complete reply at the end (nil after an error).
    var leftover: Int?
}

/// Small enough that the fuzzer reaches every limit within a few dozen bytes.
private let smallLimits = RESPLimits(
    maxBulkLength: 16, maxArrayCount: 4, maxDepth: 3, maxElements: 12, maxLineLength: 24)

/// `precondition` that prints its message in -O builds too (where `precondition` drops it),
/// so that a crash log says which property failed.
private func require(_ condition: Bool, _ message: @autoclosure () -> String = "property violated") {
    if !condition { fatalError(message()) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRESP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size >= 3 else { return 0 }
    let control = data[0]
    let input = Array(UnsafeBufferPointer(start: data + 3, count: size - 3))
    let limits = control & 0x80 != 0 ? smallLimits : .default
    let split = (Int(data[1]) << 8 | Int(data[2])) % (input.count + 1)

    let whole = run(input, pieces: [input.count], limits: limits)
    if debug {
        print(
            "\(whole.replies.count) replies, error \(whole.error.map { "\($0)" } ?? "none"), leftover \(whole.leftover ?? -1)"
        )
    }
    let halves = run(input, pieces: [split, input.count - split], limits: limits)
    require(whole == halves, "whole \(whole) != split at \(split) \(halves)")
    if control & 0x40 != 0 {
        let bytewise = run(input, pieces: Array(repeating: 1, count: input.count), limits: limits)
        require(whole == bytewise, "whole \(whole) != bytewise \(bytewise)")
    }

    for reply in whole.replies {
        var elements = 0
        check(reply, depth: 0, elements: &elements, limits: limits)
        require(elements <= limits.maxElements, "\(elements) values in one reply")
        roundTrip(reply)
        decodeAsStore(reply)
    }
    // All replies at once, as they would arrive back to back.
    var serialised: [UInt8] = []
    for reply in whole.replies { serialise(reply, into: &serialised) }
    let again = run(serialised, pieces: [serialised.count], limits: .default)
    require(again == Outcome(replies: whole.replies, error: nil, leftover: 0), "re-parse \(again)")
    return 0
}

/// Delivers `input` in `pieces` to one parser, taking replies out after every piece.
private func run(_ input: [UInt8], pieces: [Int], limits: RESPLimits) -> Outcome {
    var parser = RESPParser(limits: limits)
    var out = Outcome()
    var delivered = 0
    for n in pieces {
        parser.append(input[delivered..<(delivered + n)])
        delivered += n
        do {
            while let reply = try parser.next() { out.replies.append(reply) }
        } catch {
            out.error = error
            return out
        }
        require(parser.bufferedCount <= delivered, "\(parser.bufferedCount) buffered of \(delivered)")
    }
    out.leftover = parser.bufferedCount
    return out
}

/// The limits hold for `value` at nesting `depth` (0: the reply itself); counts its values.
private func check(_ value: RESPValue, depth: Int, elements: inout Int, limits: RESPLimits) {
    elements += 1
    switch value {
    case .simpleString(let s), .error(let s):
        // Lossy UTF-8 decoding makes at most one scalar of each byte of the line.
        require(s.unicodeScalars.count <= limits.maxLineLength, "line of \(s.unicodeScalars.count)")
        require(!s.utf8.contains(13) && !s.utf8.contains(10), "CR or LF in a simple line")
        require(value.errorMessage == (value.string == nil ? s : nil))
    case .integer(let i):
        require(value.int64 == i && value.string == String(i))
    case .bulkString(let b):
        require((b?.count ?? 0) <= limits.maxBulkLength, "bulk of \(b?.count ?? 0)")
        require(value.isNull == (b == nil) && value.bytes == b)
        _ = value.int64
    case .array(let items):
        require(value.isNull == (items == nil) && value.array == items)
        require(depth < limits.maxDepth, "array at depth \(depth + 1)")  // nil and empty ones too
        guard let items else { return }
        require(items.count <= limits.maxArrayCount, "array of \(items.count)")
        for item in items { check(item, depth: depth + 1, elements: &elements, limits: limits) }
    }
}

/// Serialises and re-parses one reply; compares with `RESPEncoder` where it applies.
private func roundTrip(_ reply: RESPValue) {
    var bytes: [UInt8] = []
    serialise(reply, into: &bytes)
    var parser = RESPParser()
    parser.append(bytes)
    let again = Result { () throws(RESPError) in try parser.next() }
    require(again == .success(reply) && parser.bufferedCount == 0, "round trip of \(reply): \(again)")

    guard case .array(let items?) = reply else { return }
    var arguments: [[UInt8]] = []
    for item in items {
        guard case .bulkString(let b?) = item else { return }
        arguments.append(b)
    }
    let encoded = RESPEncoder.encode(RedisCommand(arguments: arguments))
    require(encoded == bytes, "RESPEncoder wrote \(encoded) for \(bytes)")
}

/// The canonical RESP2 bytes of `value` (what a server would send for it).
private func serialise(_ value: RESPValue, into out: inout [UInt8]) {
    func line(_ type: Character, _ text: String) {
        out.append(UInt8(ascii: type.unicodeScalars.first!))
        out.append(contentsOf: text.utf8)
        out.append(contentsOf: [13, 10])
    }
    switch value {
    case .simpleString(let s): line("+", s)
    case .error(let s): line("-", s)
    case .integer(let i): line(":", String(i))
    case .bulkString(nil): line("$", "-1")
    case .bulkString(let b?):
        line("$", String(b.count))
        out.append(contentsOf: b)
        out.append(contentsOf: [13, 10])
    case .array(nil): line("*", "-1")
    case .array(let items?):
        line("*", String(items.count))
        for item in items { serialise(item, into: &out) }
    }
}

/// The store's decoders of script replies and pub/sub messages take any reply: no crash.
private func decodeAsStore(_ reply: RESPValue) {
    _ = StoreReply.tag(reply)
    _ = StoreReply.rotation(reply)
    _ = StoreReply.optionalFamilyRevocation(reply)
    _ = StoreReply.familyList(reply)
    _ = StoreReply.revocationList(reply)
    // A pub/sub delivery: ["message", channel, payload].
    if let a = reply.array, a.count == 3, let payload = a[2].bytes {
        _ = RevocationMessage.decode(payload)
    }
}
