/// An incremental RESP2 reply parser: feed it bytes as they arrive (`append`), take
/// complete replies out (`next`). A reply split anywhere, even inside a CRLF, parses the
/// same as one that arrives whole, and no byte is scanned twice while a line is incomplete.
///
/// Sizes are bounded by `RESPLimits`: a bulk string's length is checked against the limit
/// from its header, before any of its bytes are buffered. An error is final: the stream is
/// out of sync and the connection must be closed.
///
/// ```swift
/// var parser = RESPParser()
/// parser.append(bytesFromSocket)
/// while let reply = try parser.next() { deliver(reply) }
/// ```
public struct RESPParser: Sendable {
    public let limits: RESPLimits

    private var buffer: [UInt8] = []
    /// First unconsumed byte of `buffer`.
    private var start = 0
    /// Where the search for the current line's end resumes (an index into `buffer`).
    private var scanFrom = 0
    /// Set once a bulk string's header is read: its length, while its body is awaited.
    private var pendingBulk: Int?
    /// Arrays opened and not yet complete, outermost first.
    private var stack: [Frame] = []
    /// Values counted so far in the current top-level reply.
    private var elements = 0

    private struct Frame: Sendable {
        var remaining: Int
        var items: [RESPValue]
    }

    public init(limits: RESPLimits = .default) {
        self.limits = limits
    }

    /// Bytes received and not yet consumed by a complete value (tests, and back-pressure).
    public var bufferedCount: Int { buffer.count - start }

    /// Adds received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Adds received bytes.
    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply, or nil when more bytes are needed.
    public mutating func next() throws(RESPError) -> RESPValue? {
        while true {
            var value: RESPValue
            if let length = pendingBulk {
                guard buffer.count - start >= length + 2 else { return nil }
                guard buffer[start + length] == 13, buffer[start + length + 1] == 10 else {
                    throw .badLineEnding
                }
                value = .bulkString(Array(buffer[start..<(start + length)]))
                consume(upTo: start + length + 2)
                pendingBulk = nil
            } else {
                guard let end = try lineEnd() else { return nil }
                guard end > start else { throw .unknownType(13) }
                let type = buffer[start]
                let body = (start + 1)..<end
                consume(upTo: end + 2)
                try count()
                switch type {
                case UInt8(ascii: "+"):
                    value = .simpleString(String(decoding: buffer[body], as: UTF8.self))
                case UInt8(ascii: "-"):
                    value = .error(String(decoding: buffer[body], as: UTF8.self))
                case UInt8(ascii: ":"):
                    value = .integer(try integer(body))
                case UInt8(ascii: "$"):
                    let n = try integer(body)
                    if n == -1 {
                        value = .bulkString(nil)
                    } else {
                        guard n >= 0 else { throw .badLength(n) }
                        guard n <= limits.maxBulkLength else { throw .bulkTooLong(n) }
                        pendingBulk = Int(n)
                        continue
                    }
                case UInt8(ascii: "*"):
                    let n = try integer(body)
                    // Empty and nil arrays count as nesting too: the limit is on the reply's shape.
                    guard stack.count < limits.maxDepth else { throw .tooDeep }
                    if n == -1 {
                        value = .array(nil)
                    } else if n == 0 {
                        value = .array([])
                    } else {
                        guard n > 0 else { throw .badLength(n) }
                        guard n <= limits.maxArrayCount else { throw .arrayTooLong(n) }
                        var items: [RESPValue] = []
                        items.reserveCapacity(min(Int(n), 1024))  // the count is the peer's word
                        stack.append(Frame(remaining: Int(n), items: items))
                        continue
                    }
                default:
                    throw .unknownType(type)
                }
            }
            // A value is complete: hand it to the innermost open array, closing arrays
            // that it fills, or return it if it is a whole reply.
            while true {
                guard var top = stack.popLast() else {
                    elements = 0
                    return value
                }
                top.items.append(value)
                top.remaining -= 1
                if top.remaining == 0 {
                    value = .array(top.items)
                    continue
                }
                stack.append(top)
                break
            }
        }
    }

    // MARK: - helpers

    /// The index of the CR ending the line at `start`, nil if it has not fully arrived.
    ///
    /// Looks no further than where the CR of the longest allowed line would be: a longer
    /// line is refused as `lineTooLong` whatever its later bytes hold and however they
    /// arrive (a CR as the last byte received must not defer the length check).
    private mutating func lineEnd() throws(RESPError) -> Int? {
        var i = max(scanFrom, start)
        let count = buffer.count
        let lastCR = start + 1 + min(limits.maxLineLength, count)  // type byte, then the line
        let limit = min(count, lastCR + 1)
        while i < limit {
            let b = buffer[i]
            if b == 13 {
                guard i + 1 < count else {
                    scanFrom = i
                    return nil
                }
                guard buffer[i + 1] == 10 else { throw .badLineEnding }
                return i
            }
            if b == 10 { throw .badLineEnding }
            i += 1
        }
        scanFrom = i
        if count > lastCR { throw .lineTooLong }
        return nil
    }

    private mutating func consume(upTo index: Int) {
        start = index
        scanFrom = index
    }

    private mutating func count() throws(RESPError) {
        elements += 1
        if elements > limits.maxElements { throw .tooManyElements }
    }

    /// A decimal Int64: an optional '-', then at least one digit, nothing else.
    private func integer(_ range: Range<Int>) throws(RESPError) -> Int64 {
        var i = range.lowerBound
        var negative = false
        if i < range.upperBound, buffer[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < range.upperBound else { throw .badInteger }
        var value: Int64 = 0
        while i < range.upperBound {
            let d = buffer[i] &- UInt8(ascii: "0")
            guard d <= 9 else { throw .badInteger }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { throw .badInteger }
            value = s
            i += 1
        }
        return value
    }

    /// Drops consumed bytes once they are most of the buffer, so that memory stays near
    /// the size of one reply and moving bytes costs amortised O(1) per byte.
    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            start = 0
            scanFrom = 0
        } else if start >= 4096, start * 2 >= buffer.count {
            buffer.removeSubrange(0..<start)
            scanFrom -= start
            start = 0
        }
    }
}
