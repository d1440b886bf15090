#if canImport(Glibc)
import Glibc
#endif

/// A growable byte buffer for writing message heads, reused from request to request.
///
/// `Array<UInt8>.append(contentsOf:)` costs a uniqueness check, a capacity check and a
/// generic copy for every piece (about 200 instructions for a 10-byte literal); a head is
/// some thirty pieces. Here a piece is a bounds check and a `memcpy`, and the storage is
/// never shared, so clearing it never reallocates. Non-copyable: one owner, freed with it.
public struct HeadBuffer: ~Copyable {
    /// nil until the first write: a buffer per connection costs nothing until it is used.
    @usableFromInline var storage: UnsafeMutableRawPointer?
    @usableFromInline var capacity: Int
    @usableFromInline var _count: Int
    /// Bytes written so far.
    @inlinable public var count: Int { _count }

    /// `capacity` 0 allocates on the first write.
    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 0)
        self.storage = capacity > 0 ? UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8) : nil
        self._count = 0
    }

    deinit { storage?.deallocate() }

    /// Only after a capacity check (which allocates): never nil then.
    @usableFromInline var base: UnsafeMutableRawPointer { storage.unsafelyUnwrapped }

    /// The bytes written so far; valid until the next mutation.
    @inlinable public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }

    public var isEmpty: Bool { count == 0 }

    /// Forgets the contents, keeping the storage.
    @inlinable public mutating func removeAll() { _count = 0 }

    /// Drops everything written after `mark` (an earlier `count`).
    @inlinable public mutating func truncate(to mark: Int) {
        precondition(mark >= 0 && mark <= count)
        _count = mark
    }

    @inlinable @inline(__always) public mutating func append(_ byte: UInt8) {
        if count == capacity { grow(1) }
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        _count += 1
    }

    @inlinable @inline(__always) public mutating func append(_ p: UnsafeRawPointer, count n: Int) {
        guard n > 0 else { return }
        if capacity - count < n { grow(n) }
        (base + count).copyMemory(from: p, byteCount: n)
        _count += n
    }

    @inlinable @inline(__always) public mutating func append(_ s: StaticString) {
        append(UnsafeRawPointer(s.utf8Start), count: s.utf8CodeUnitCount)
    }

    @inlinable @inline(__always) public mutating func append(_ b: UnsafeRawBufferPointer) {
        if let p = b.baseAddress { append(p, count: b.count) }
    }

    /// `b[start..<end]`.
    @inlinable @inline(__always) public mutating func append(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int) {
        precondition(start >= 0 && start <= end && end <= b.count)
        if let p = b.baseAddress { append(p + start, count: end - start) }
    }

    @inlinable @inline(__always) public mutating func append(_ a: [UInt8]) {
        a.withUnsafeBytes { append($0) }
    }

    /// A native string's UTF-8 is contiguous: one copy, no per-character walk.
    @inlinable @inline(__always) public mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    public mutating func appendDecimal(_ value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        var v = value.magnitude
        var digits = 1
        var t = v
        while t >= 10 {
            t /= 10
            digits += 1
        }
        if capacity - count < digits { grow(digits) }
        var i = count + digits - 1
        repeat {
            base.storeBytes(of: UInt8(0x30 + v % 10), toByteOffset: i, as: UInt8.self)
            v /= 10
            i -= 1
        } while v > 0
        _count += digits
    }

    /// Makes room for `n` more bytes (slow path: heads larger than any before).
    @usableFromInline mutating func grow(_ n: Int) {
        var newCapacity = max(capacity * 2, 512)
        while newCapacity - count < n { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
        if let old = storage {
            newBase.copyMemory(from: old, byteCount: count)
            old.deallocate()
        }
        storage = newBase
        capacity = newCapacity
    }
}
