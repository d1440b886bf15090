/// Byte classes of RFC 9110 §5.6.2 (tchar), §5.5 (field-vchar) and RFC 3986 §3.3 (pchar),
/// as one 256-entry table so that each check is a load and a mask.
enum CharacterClass {
    static let token: UInt8 = 1 << 0
    static let fieldValue: UInt8 = 1 << 1  // VCHAR / obs-text / SP / HTAB
    static let pathRaw: UInt8 = 1 << 2  // unreserved / sub-delims / ":" / "@" / "/" / "%", minus ";" and "\"
    static let query: UInt8 = 1 << 3  // visible ASCII except "#"
    static let hex: UInt8 = 1 << 4
    static let unreserved: UInt8 = 1 << 5
    static let token68: UInt8 = 1 << 6  // ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" (RFC 9110 §11.2)

    /// Allocated once and never freed: a process-lifetime constant that hot loops can read
    /// without a bounds check or an array retain.
    nonisolated(unsafe) static let table: UnsafePointer<UInt8> = {
        var t = [UInt8](repeating: 0, count: 256)
        func mark(_ chars: String, _ flag: UInt8) {
            for b in chars.utf8 { t[Int(b)] |= flag }
        }
        let alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
        let digit = "0123456789"
        mark(alpha + digit + "!#$%&'*+-.^_`|~", token)
        for b in 0x21...0x7E { t[b] |= fieldValue | query }
        for b in 0x80...0xFF { t[b] |= fieldValue }
        t[0x20] |= fieldValue
        t[0x09] |= fieldValue
        t[Int(UInt8(ascii: "#"))] &= ~query
        mark(alpha + digit + "-._~" + "!$&'()*+,=" + ":@/%", pathRaw)
        mark(digit + "abcdefABCDEF", hex)
        mark(alpha + digit + "-._~", unreserved)
        mark(alpha + digit + "-._~+/", token68)
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        p.initialize(from: t, count: 256)
        return UnsafePointer(p)
    }()

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b &- UInt8(ascii: "A") &+ 10
        default: return nil
        }
    }
}

/// Pieces of the HTTP grammar that layers above the parser need (credentials, for one).
public enum HTTPGrammar {
    /// The end of the run of token68 characters (RFC 9110 §11.2, without its trailing `=`s)
    /// in `b[start..<end]`: one table load per byte.
    @inline(__always)
    public static func token68End(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int {
        let table = CharacterClass.table
        var i = start
        while i < end && table[Int(b[i])] & CharacterClass.token68 != 0 { i += 1 }
        return i
    }
}

extension UnsafeRawBufferPointer {
    /// ASCII case-insensitive comparison of `self[range]` with a lowercase literal.
    /// Sound for token bytes: no non-letter token byte maps onto a letter with `| 0x20`.
    @inline(__always)
    func equalsLowercase(_ start: Int, _ end: Int, _ lower: StaticString) -> Bool {
        let n = lower.utf8CodeUnitCount
        guard end - start == n else { return false }
        let p = lower.utf8Start
        var i = 0
        while i < n {
            let b = self[start + i]
            let c = (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b
            if c != p[i] { return false }
            i += 1
        }
        return true
    }
}
