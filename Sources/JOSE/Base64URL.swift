/// Strict unpadded base64url (RFC 7515 §2 and Appendix C; RFC 4648 §5).
///
/// Decoding refuses `=`, whitespace, characters outside the url-safe alphabet, a length
/// of 1 mod 4, and non-canonical encodings whose unused trailing bits are not zero
/// (RFC 4648 §3.5), so that one byte string has exactly one accepted encoding.
public enum Base64URL {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// 0xFF marks a byte outside the alphabet.
    static let decodeTable: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Encodes without padding.
    public static func encode<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(encodedLength(bytes.count))
        append(bytes, to: &out)
        return out
    }

    /// Encodes without padding, as a `String`.
    public static func encodeToString<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: encode(bytes), as: UTF8.self)
    }

    /// Length of the unpadded encoding of `n` bytes.
    public static func encodedLength(_ n: Int) -> Int { (n / 3) * 4 + [0, 2, 3][n % 3] }

    /// Appends the unpadded encoding of `bytes` to `out`.
    static func append<C: Collection>(_ bytes: C, to out: inout [UInt8]) where C.Element == UInt8 {
        alphabet.withUnsafeBufferPointer { a in
            var it = bytes.makeIterator()
            while let b0 = it.next() {
                let b1 = it.next()
                let b2 = b1 == nil ? nil : it.next()
                out.append(a[Int(b0 >> 2)])
                out.append(a[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
                if let b1 {
                    out.append(a[Int((b1 & 0x0F) << 2 | (b2 ?? 0) >> 6)])
                    if let b2 { out.append(a[Int(b2 & 0x3F)]) }
                }
            }
        }
    }

    /// Decoded length of `n` encoded characters, or nil when `n % 4 == 1` (never valid).
    static func decodedLength(_ n: Int) -> Int? {
        switch n % 4 {
        case 0: return n / 4 * 3
        case 2: return n / 4 * 3 + 1
        case 3: return n / 4 * 3 + 2
        default: return nil
        }
    }

    /// Decodes strictly.
    /// - Throws: ``JOSEError/malformed(_:)`` on any deviation from canonical unpadded base64url.
    public static func decode<C: Collection>(_ text: C) throws(JOSEError) -> [UInt8] where C.Element == UInt8 {
        let src = Array(text)
        guard let n = decodedLength(src.count) else { throw .malformed("base64url length") }
        guard n > 0 else { return [] }
        var ok = true
        let out = [UInt8](unsafeUninitializedCapacity: n) { buf, count in
            src.withUnsafeBytes { s in
                if let w = decode(s, into: buf.baseAddress!) {
                    count = w
                } else {
                    ok = false
                    count = 0
                }
            }
        }
        guard ok else { throw .malformed("base64url") }
        return out
    }

    /// Decodes a `String` strictly.
    public static func decode(_ text: String) throws(JOSEError) -> [UInt8] {
        try decode(Array(text.utf8))
    }

    /// Decodes `src` into `dst`, which must hold `decodedLength(src.count)` bytes.
    /// Returns the number of bytes written, or nil if `src` is not canonical base64url.
    static func decode(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutablePointer<UInt8>) -> Int? {
        let n = src.count
        guard n % 4 != 1 else { return nil }
        return decodeTable.withUnsafeBufferPointer { t -> Int? in
            guard n > 0 else { return 0 }
            let s = src.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var i = 0
            var o = 0
            var bad: UInt8 = 0
            let full = n & ~3
            while i < full {
                let a = t[Int(s[i])], b = t[Int(s[i + 1])], c = t[Int(s[i + 2])], d = t[Int(s[i + 3])]
                bad |= a | b | c | d
                dst[o] = a << 2 | b >> 4
                dst[o + 1] = b << 4 | c >> 2
                dst[o + 2] = c << 6 | d
                i += 4
                o += 3
            }
            guard bad & 0x80 == 0 else { return nil }
            switch n - full {
            case 2:
                let a = t[Int(s[i])], b = t[Int(s[i + 1])]
                guard (a | b) & 0x80 == 0, b & 0x0F == 0 else { return nil }
                dst[o] = a << 2 | b >> 4
                o += 1
            case 3:
                let a = t[Int(s[i])], b = t[Int(s[i + 1])], c = t[Int(s[i + 2])]
                guard (a | b | c) & 0x80 == 0, c & 0x03 == 0 else { return nil }
                dst[o] = a << 2 | b >> 4
                dst[o + 1] = b << 4 | c >> 2
                o += 2
            default:
                break
            }
            return o
        }
    }
}
