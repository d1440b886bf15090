/// A 32-byte value (a SHA-256 digest of a refresh token or of its lookup id), held inline
/// so that it can key a dictionary without a heap allocation.
///
/// Equality is constant-time: it folds every word before it decides, so a comparison of a
/// presented token's hash with a stored one leaks nothing through timing.
public struct Digest32: Hashable, Sendable, CustomStringConvertible {
    public var w0: UInt64
    public var w1: UInt64
    public var w2: UInt64
    public var w3: UInt64

    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// Reads 32 bytes; returns nil for any other length.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 32 else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var i = 0
        for b in bytes {
            let shift = UInt64((i % 8) * 8)
            switch i / 8 {
            case 0: words.0 |= UInt64(b) << shift
            case 1: words.1 |= UInt64(b) << shift
            case 2: words.2 |= UInt64(b) << shift
            default: words.3 |= UInt64(b) << shift
            }
            i += 1
        }
        self.init(w0: words.0, w1: words.1, w2: words.2, w3: words.3)
    }

    /// The 32 bytes, little-endian per word (the inverse of `init(bytes:)`).
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] {
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: w >> UInt64(i * 8))) }
        }
        return out
    }

    public static func == (a: Digest32, b: Digest32) -> Bool {
        ((a.w0 ^ b.w0) | (a.w1 ^ b.w1) | (a.w2 ^ b.w2) | (a.w3 ^ b.w3)) == 0
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(w0)
        hasher.combine(w1)
    }

    /// Never prints the value: digests of tokens stay out of logs too.
    public var description: String { "Digest32(redacted)" }
}
