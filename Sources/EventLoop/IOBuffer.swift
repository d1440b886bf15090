/// A growable byte buffer with read and write indices, owned by one connection on one
/// loop. `readable` bytes are `[readerIndex, writerIndex)`.
///
/// Manual storage (not `[UInt8]`) so that the hot path has no copy-on-write checks and
/// the kernel writes straight into it.
public final class IOBuffer {
    public private(set) var base: UnsafeMutableRawPointer
    public private(set) var capacity: Int
    public var readerIndex = 0
    public var writerIndex = 0

    public init(capacity: Int) {
        self.capacity = capacity
        self.base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        base.deallocate()
    }

    public var readableCount: Int { writerIndex - readerIndex }
    public var isEmpty: Bool { readerIndex == writerIndex }
    public var writableCount: Int { capacity - writerIndex }

    public var readableBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + readerIndex, count: writerIndex - readerIndex)
    }

    public func clear() {
        readerIndex = 0
        writerIndex = 0
    }

    public func consume(_ n: Int) {
        precondition(n <= readableCount)
        readerIndex += n
        if readerIndex == writerIndex {
            readerIndex = 0
            writerIndex = 0
        }
    }

    /// Makes room for `n` more bytes: first by moving unread bytes to the front, then by
    /// growing, but never beyond `limit` (returns false then).
    @discardableResult
    public func reserve(_ n: Int, limit: Int = Int.max) -> Bool {
        if writableCount >= n { return true }
        if readerIndex > 0 {
            let count = readableCount
            if count > 0 { (base).copyMemory(from: base + readerIndex, byteCount: count) }
            readerIndex = 0
            writerIndex = count
            if writableCount >= n { return true }
        }
        let needed = writerIndex + n
        guard needed <= limit else { return false }
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        newCapacity = min(newCapacity, max(limit, needed))
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: writerIndex)
        base.deallocate()
        base = newBase
        capacity = newCapacity
        return true
    }

    public func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        reserve(bytes.count)
        (base + writerIndex).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        writerIndex += bytes.count
    }

    public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Reads from `fd` into the free space (at most `max` bytes, growing up to `limit`).
    /// The last `read` returned fewer bytes than there was room for: the socket had no more
    /// at that moment. With edge-triggered epoll the next arrival raises a new event, so the
    /// caller may wait for it instead of paying a read that returns EAGAIN (what nginx does).
    public private(set) var lastReadWasShort = false

    public func read(from fd: Int32, max: Int = 16384, limit: Int = Int.max) throws(IOError) -> IOResult<Int> {
        if writableCount == 0 { reserve(Swift.min(max, 4096), limit: limit) }
        let n = Swift.min(writableCount, max)
        guard n > 0 else { return .processed(-1) }
        return try Syscall.read(fd, base + writerIndex, n).map {
            writerIndex += $0
            lastReadWasShort = $0 < n
        }
    }
}

extension IOBuffer {
    /// Reads from `transport` into the free space, as `read(from:max:limit:)` does from a
    /// socket: `.processed(0)` is the peer's close, `.wouldBlock` waits for readiness.
    @inline(__always)
    public func read(from transport: any Transport, max: Int = 16384, limit: Int = Int.max) throws(TransportError)
        -> IOResult<Int>
    {
        if writableCount == 0 { reserve(Swift.min(max, 4096), limit: limit) }
        let n = Swift.min(writableCount, max)
        guard n > 0 else { return .processed(-1) }
        switch try transport.read(into: UnsafeMutableRawBufferPointer(start: base + writerIndex, count: n)) {
        case .bytes(let got):
            writerIndex += got
            lastReadWasShort = transport.readDrained(got: got, asked: n)
            return .processed(got)
        case .closed:
            lastReadWasShort = false
            return .processed(0)
        case .wantRead, .wantWrite:
            lastReadWasShort = false
            return .wouldBlock
        }
    }
}

extension IOResult {
    @inline(__always)
    func map(_ body: (T) -> Void) -> IOResult<T> {
        if case .processed(let v) = self { body(v) }
        return self
    }
}

/// A per-loop free list of standard-size buffers, so that idle connections hold none and
/// busy ones do not go to malloc for every request.
public final class BufferPool {
    public let bufferSize: Int
    private var free: [IOBuffer] = []
    private let maxPooled: Int

    public init(bufferSize: Int = 16384, maxPooled: Int = 256) {
        self.bufferSize = bufferSize
        self.maxPooled = maxPooled
    }

    public func take() -> IOBuffer {
        if let b = free.popLast() { return b }
        return IOBuffer(capacity: bufferSize)
    }

    /// Returns a buffer; oversized ones (grown for a large head) are dropped.
    public func give(_ buffer: IOBuffer) {
        buffer.clear()
        if buffer.capacity == bufferSize && free.count < maxPooled { free.append(buffer) }
    }
}
