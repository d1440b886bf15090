#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The kind of a JSON value (RFC 8259 §3).
public enum JSONValueKind: UInt8, Sendable, Hashable {
    case string, number, object, array, bool, null
}

/// One top-level member of a scanned object, as offsets into the scanned bytes.
struct JSONMember: Sendable, Hashable {
    /// Name, inside the quotes, escapes not resolved.
    var nameStart: Int32
    var nameEnd: Int32
    /// Raw value text; a string value includes its quotes.
    var valueStart: Int32
    var valueEnd: Int32
    var kind: JSONValueKind
    var nameEscaped: Bool
    var valueEscaped: Bool
}

/// A strict RFC 8259 scanner over bytes, without allocation on the common path.
///
/// It validates the whole document: structure, number grammar, string escapes, UTF-8
/// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), paired `\u`
/// surrogates, nesting depth, no trailing data, and no duplicate member names in any
/// object (RFC 8259 §4 leaves them undefined; RFC 7515 §5.2 and RFC 8725 §3.8 ask for
/// rejection). Names are compared after unescaping, so `"a"` and `"\u0061"` collide.
struct JSONScanner {
    let p: UnsafePointer<UInt8>
    let n: Int
    var i = 0
    let maxDepth: Int
    /// Names of the enclosing nested objects, for duplicate detection below the top level.
    var nested: [(start: Int32, end: Int32, escaped: Bool)] = []

    init(_ p: UnsafePointer<UInt8>, count: Int, maxDepth: Int) {
        self.p = p
        self.n = count
        self.maxDepth = maxDepth
    }

    /// Scans a complete document that must be one object, and records its top-level members.
    static func scanObject(
        _ buf: UnsafeRawBufferPointer,
        maxDepth: Int,
        members: inout [JSONMember]
    ) throws(JOSEError) {
        guard let base = buf.baseAddress, buf.count > 0 else { throw .malformed("empty JSON") }
        var s = JSONScanner(base.assumingMemoryBound(to: UInt8.self), count: buf.count, maxDepth: maxDepth)
        s.skipWhitespace()
        guard s.i < s.n, s.p[s.i] == UInt8(ascii: "{") else { throw .malformed("JSON object expected") }
        s.i += 1
        try s.topObject(&members)
        s.skipWhitespace()
        guard s.i == s.n else { throw .malformed("data after JSON value") }
    }

    /// Validates a complete document of any kind (used on JWK/JWKS input).
    static func validate(_ buf: UnsafeRawBufferPointer, maxDepth: Int) throws(JOSEError) -> JSONValueKind {
        guard let base = buf.baseAddress, buf.count > 0 else { throw .malformed("empty JSON") }
        var s = JSONScanner(base.assumingMemoryBound(to: UInt8.self), count: buf.count, maxDepth: maxDepth)
        s.skipWhitespace()
        let (kind, _) = try s.value(depth: 0)
        s.skipWhitespace()
        guard s.i == s.n else { throw .malformed("data after JSON value") }
        return kind
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while i < n {
            let c = p[i]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            i += 1
        }
    }

    @inline(__always)
    mutating func expect(_ c: UInt8, _ what: String) throws(JOSEError) {
        guard i < n, p[i] == c else { throw .malformed(what) }
        i += 1
    }

    private mutating func topObject(_ members: inout [JSONMember]) throws(JOSEError) {
        skipWhitespace()
        if i < n, p[i] == UInt8(ascii: "}") {
            i += 1
            return
        }
        while true {
            skipWhitespace()
            guard i < n, p[i] == UInt8(ascii: "\"") else { throw .malformed("member name expected") }
            let name = try string()
            for m in members where sameName(m.nameStart, m.nameEnd, m.nameEscaped, name.start, name.end, name.escaped) {
                throw .malformed("duplicate member name")
            }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' expected")
            skipWhitespace()
            let vs = i
            let (kind, esc) = try value(depth: 1)
            members.append(
                JSONMember(
                    nameStart: name.start,
                    nameEnd: name.end,
                    valueStart: Int32(vs),
                    valueEnd: Int32(i),
                    kind: kind,
                    nameEscaped: name.escaped,
                    valueEscaped: esc
                )
            )
            skipWhitespace()
            guard i < n else { throw .malformed("unterminated object") }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            if p[i] == UInt8(ascii: "}") {
                i += 1
                return
            }
            throw .malformed("',' or '}' expected")
        }
    }

    private mutating func nestedObject(depth: Int) throws(JOSEError) {
        let base = nested.count
        defer { nested.removeSubrange(base...) }
        skipWhitespace()
        if i < n, p[i] == UInt8(ascii: "}") {
            i += 1
            return
        }
        while true {
            skipWhitespace()
            guard i < n, p[i] == UInt8(ascii: "\"") else { throw .malformed("member name expected") }
            let name = try string()
            for k in base..<nested.count {
                let m = nested[k]
                if sameName(m.start, m.end, m.escaped, name.start, name.end, name.escaped) {
                    throw .malformed("duplicate member name")
                }
            }
            nested.append((name.start, name.end, name.escaped))
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' expected")
            skipWhitespace()
            _ = try value(depth: depth)
            skipWhitespace()
            guard i < n else { throw .malformed("unterminated object") }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            if p[i] == UInt8(ascii: "}") {
                i += 1
                return
            }
            throw .malformed("',' or '}' expected")
        }
    }

    private mutating func array(depth: Int) throws(JOSEError) {
        skipWhitespace()
        if i < n, p[i] == UInt8(ascii: "]") {
            i += 1
            return
        }
        while true {
            skipWhitespace()
            _ = try value(depth: depth)
            skipWhitespace()
            guard i < n else { throw .malformed("unterminated array") }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            if p[i] == UInt8(ascii: "]") {
                i += 1
                return
            }
            throw .malformed("',' or ']' expected")
        }
    }

    /// Scans one value at `i`; `depth` is the nesting depth of the container holding it.
    mutating func value(depth: Int) throws(JOSEError) -> (JSONValueKind, Bool) {
        guard i < n else { throw .malformed("value expected") }
        switch p[i] {
        case UInt8(ascii: "\""):
            let s = try string()
            return (.string, s.escaped)
        case UInt8(ascii: "{"):
            guard depth < maxDepth else { throw .malformed("JSON nested too deeply") }
            i += 1
            try nestedObject(depth: depth + 1)
            return (.object, false)
        case UInt8(ascii: "["):
            guard depth < maxDepth else { throw .malformed("JSON nested too deeply") }
            i += 1
            try array(depth: depth + 1)
            return (.array, false)
        case UInt8(ascii: "t"):
            try literal(0x74_72_75_65, 4)  // "true"
            return (.bool, false)
        case UInt8(ascii: "f"):
            guard i + 5 <= n, p[i + 4] == UInt8(ascii: "e") else { throw .malformed("invalid literal") }
            try literal(0x66_61_6C_73, 4)  // "fals"
            i += 1
            return (.bool, false)
        case UInt8(ascii: "n"):
            try literal(0x6E_75_6C_6C, 4)  // "null"
            return (.null, false)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try number()
            return (.number, false)
        default:
            throw .malformed("invalid JSON value")
        }
    }

    @inline(__always)
    private mutating func literal(_ word: UInt32, _ len: Int) throws(JOSEError) {
        guard i + len <= n else { throw .malformed("invalid literal") }
        let w = UInt32(p[i]) << 24 | UInt32(p[i + 1]) << 16 | UInt32(p[i + 2]) << 8 | UInt32(p[i + 3])
        guard w == word else { throw .malformed("invalid literal") }
        i += len
    }

    @inline(__always)
    private func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }

    /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func number() throws(JOSEError) {
        if p[i] == UInt8(ascii: "-") { i += 1 }
        guard i < n else { throw .malformed("invalid number") }
        if p[i] == UInt8(ascii: "0") {
            i += 1
        } else if isDigit(p[i]) {
            while i < n, isDigit(p[i]) { i += 1 }
        } else {
            throw .malformed("invalid number")
        }
        if i < n, p[i] == UInt8(ascii: ".") {
            i += 1
            guard i < n, isDigit(p[i]) else { throw .malformed("invalid number") }
            while i < n, isDigit(p[i]) { i += 1 }
        }
        if i < n, p[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < n, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") { i += 1 }
            guard i < n, isDigit(p[i]) else { throw .malformed("invalid number") }
            while i < n, isDigit(p[i]) { i += 1 }
        }
    }

    /// 1 for the bytes 0x20...0x7F except '"' and '\\', 0 for all others (256 entries,
    /// never freed; immutable once built, so shared by every thread).
    nonisolated(unsafe) static let plainStringBytes: UnsafePointer<UInt8> = {
        let t = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        for b in 0..<256 { t[b] = b >= 0x20 && b < 0x80 && b != 0x22 && b != 0x5C ? 1 : 0 }
        return UnsafePointer(t)
    }()

    /// Scans a string at `i` (on the opening quote); returns its content bounds.
    mutating func string() throws(JOSEError) -> (start: Int32, end: Int32, escaped: Bool) {
        i += 1
        let start = i
        var escaped = false
        let plain = JSONScanner.plainStringBytes
        while i < n {
            // Runs of bytes a string holds as they are (printable ASCII but '"' and '\\'): one
            // table load per byte, where the checks below take four compares.
            while i < n && plain[Int(p[i])] != 0 { i += 1 }
            guard i < n else { break }
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                let end = i
                i += 1
                return (Int32(start), Int32(end), escaped)
            }
            if c == UInt8(ascii: "\\") {
                escaped = true
                try escape()
                continue
            }
            if c < 0x20 { throw .malformed("control character in string") }
            if c < 0x80 {
                i += 1
                continue
            }
            try utf8Sequence(c)
        }
        throw .malformed("unterminated string")
    }

    private mutating func escape() throws(JOSEError) {
        i += 1
        guard i < n else { throw .malformed("invalid escape") }
        switch p[i] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            i += 1
        case UInt8(ascii: "u"):
            let v = try hex4(i + 1)
            i += 5
            if v >= 0xD800, v <= 0xDBFF {
                guard i + 1 < n, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u") else {
                    throw .malformed("lone surrogate")
                }
                let lo = try hex4(i + 2)
                guard lo >= 0xDC00, lo <= 0xDFFF else { throw .malformed("lone surrogate") }
                i += 6
            } else if v >= 0xDC00, v <= 0xDFFF {
                throw .malformed("lone surrogate")
            }
        default:
            throw .malformed("invalid escape")
        }
    }

    private func hex4(_ at: Int) throws(JOSEError) -> UInt32 {
        guard at + 4 <= n else { throw .malformed("invalid escape") }
        var v: UInt32 = 0
        for k in 0..<4 {
            guard let d = JSONScanner.hexValue(p[at + k]) else { throw .malformed("invalid escape") }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - 0x30
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - 0x57
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - 0x37
        default: return nil
        }
    }

    /// RFC 3629 §4 well-formed sequences; `c` is the lead byte at `i` (≥ 0x80).
    private mutating func utf8Sequence(_ c: UInt8) throws(JOSEError) {
        @inline(__always) func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            i + k < n && p[i + k] >= lo && p[i + k] <= hi
        }
        let ok: Bool
        let len: Int
        switch c {
        case 0xC2...0xDF: ok = cont(1); len = 2
        case 0xE0: ok = cont(1, 0xA0) && cont(2); len = 3
        case 0xE1...0xEC, 0xEE...0xEF: ok = cont(1) && cont(2); len = 3
        case 0xED: ok = cont(1, 0x80, 0x9F) && cont(2); len = 3
        case 0xF0: ok = cont(1, 0x90) && cont(2) && cont(3); len = 4
        case 0xF1...0xF3: ok = cont(1) && cont(2) && cont(3); len = 4
        case 0xF4: ok = cont(1, 0x80, 0x8F) && cont(2) && cont(3); len = 4
        default: ok = false; len = 1
        }
        guard ok else { throw .malformed("invalid UTF-8") }
        i += len
    }

    private func sameName(_ s1: Int32, _ e1: Int32, _ x1: Bool, _ s2: Int32, _ e2: Int32, _ x2: Bool) -> Bool {
        if !x1 && !x2 {
            let l = Int(e1 - s1)
            return l == Int(e2 - s2) && (l == 0 || memcmp(p + Int(s1), p + Int(s2), l) == 0)
        }
        return JSONScanner.unescape(p, Int(s1), Int(e1)) == JSONScanner.unescape(p, Int(s2), Int(e2))
    }

    /// Resolves the escapes of an already validated string body into UTF-8 bytes.
    static func unescape(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(end - start)
        var k = start
        func hex(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for j in 0..<4 { v = v << 4 | UInt32(hexValue(p[at + j]) ?? 0) }
            return v
        }
        while k < end {
            let c = p[k]
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                k += 1
                continue
            }
            let e = p[k + 1]
            k += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var v = hex(k)
                k += 4
                if v >= 0xD800, v <= 0xDBFF {
                    let lo = hex(k + 2)
                    k += 6
                    v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
                }
                appendUTF8(v, to: &out)
            default: out.append(e)  // \" \\ \/
            }
        }
        return out
    }

    static func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
        switch v {
        case 0..<0x80:
            out.append(UInt8(v))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | v >> 6))
            out.append(UInt8(0x80 | v & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | v >> 12))
            out.append(UInt8(0x80 | (v >> 6) & 0x3F))
            out.append(UInt8(0x80 | v & 0x3F))
        default:
            out.append(UInt8(0xF0 | v >> 18))
            out.append(UInt8(0x80 | (v >> 12) & 0x3F))
            out.append(UInt8(0x80 | (v >> 6) & 0x3F))
            out.append(UInt8(0x80 | v & 0x3F))
        }
    }

    /// A validated string body as a `String`.
    static func string(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, escaped: Bool) -> String {
        if escaped { return String(decoding: unescape(p, start, end), as: UTF8.self) }
        return String(decoding: UnsafeBufferPointer(start: p + start, count: end - start), as: UTF8.self)
    }

    /// A validated number's value; nil if it does not fit a finite `Double`.
    static func double(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
        var k = start
        let negative = p[k] == UInt8(ascii: "-")
        if negative { k += 1 }
        if end - k <= 15 {
            var v: Int64 = 0
            var simple = true
            while k < end {
                let d = p[k] &- 0x30
                if d >= 10 {
                    simple = false
                    break
                }
                v = v * 10 + Int64(d)
                k += 1
            }
            if simple { return Double(negative ? -v : v) }
        }
        let text = String(decoding: UnsafeBufferPointer(start: p + start, count: end - start), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { return nil }
        return d
    }

    /// Iterates over the elements of a validated array value `[...]` spanning `start..<end`.
    static func forEachElement(
        _ p: UnsafePointer<UInt8>,
        _ start: Int,
        _ end: Int,
        _ body: (JSONValueKind, Int, Int, Bool) throws(JOSEError) -> Void
    ) throws(JOSEError) {
        var s = JSONScanner(p, count: end, maxDepth: Int.max)
        s.i = start + 1
        s.skipWhitespace()
        if s.p[s.i] == UInt8(ascii: "]") { return }
        while true {
            s.skipWhitespace()
            let vs = s.i
            let (kind, esc) = try s.value(depth: 0)
            try body(kind, vs, s.i, esc)
            s.skipWhitespace()
            if s.p[s.i] == UInt8(ascii: ",") {
                s.i += 1
                continue
            }
            return
        }
    }
}
