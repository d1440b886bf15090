/// The protected header of a compact JWS (RFC 7515 §4), as far as verification needs it.
///
/// `jku`, `x5u`, `jwk` and `x5c` are ignored and never followed (RFC 8725 §3.10); any
/// `crit` member, even an empty array, is refused (RFC 7515 §4.1.11: no extension is
/// understood here, and an empty list is not allowed).
public struct JWSHeader: Sendable, Hashable {
    /// `alg` (RFC 7515 §4.1.1).
    public let algorithm: JWSAlgorithm
    /// `kid` (RFC 7515 §4.1.4).
    public let kid: String?
    /// `typ` (RFC 7515 §4.1.9), e.g. `at+jwt` (RFC 9068 §2.1).
    public let typ: String?

    public init(algorithm: JWSAlgorithm, kid: String?, typ: String?) {
        self.algorithm = algorithm
        self.kid = kid
        self.typ = typ
    }

    /// `typ` is `at+jwt` or `application/at+jwt`, compared case-insensitively
    /// (RFC 9068 §2.1; RFC 7515 §4.1.9 allows omitting the `application/` prefix).
    public var isAccessTokenType: Bool {
        guard var typ else { return false }
        // ASCII case folding over the bytes: `lowercased()` would allocate per token.
        return typ.withUTF8 { t in
            Self.equalsFolded(t, "at+jwt") || Self.equalsFolded(t, "application/at+jwt")
        }
    }

    /// `bytes` equals the lowercase ASCII literal `lower`, ignoring ASCII case.
    private static func equalsFolded(_ bytes: UnsafeBufferPointer<UInt8>, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        let l = lower.utf8Start
        for k in 0..<bytes.count {
            let b = bytes[k]
            if (b >= 0x41 && b <= 0x5A ? b | 0x20 : b) != l[k] { return false }
        }
        return true
    }

    /// Parses decoded header JSON.
    static func parse(_ json: UnsafeRawBufferPointer, maxDepth: Int) throws(JOSEError) -> JWSHeader {
        var members = [JSONMember]()
        members.reserveCapacity(8)
        try JSONScanner.scanObject(json, maxDepth: maxDepth, members: &members)
        let p = json.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var alg: JWSAlgorithm?
        var kid: String?
        var typ: String?
        for m in members {
            let s = Int(m.nameStart), e = Int(m.nameEnd)
            // A name of 3 or 4 bytes as one integer, its length on top (so that "\u0000alg" is
            // not "alg"): no array per member on the hot path.
            var name: UInt64
            if m.nameEscaped {
                let raw = JSONScanner.unescape(p, s, e)
                guard raw.count == 3 || raw.count == 4 else { continue }
                name = raw.reduce(UInt64(raw.count)) { $0 << 8 | UInt64($1) }
            } else if e - s == 3 || e - s == 4 {
                name = UInt64(e - s)
                for k in s..<e { name = name << 8 | UInt64(p[k]) }
            } else {
                continue
            }
            switch name {
            case 0x03_61_6C_67:  // alg
                guard m.kind == .string else { throw .malformed("alg must be a string") }
                let vs = Int(m.valueStart) + 1, ve = Int(m.valueEnd) - 1
                if m.valueEscaped {
                    let raw = JSONScanner.unescape(p, vs, ve)
                    alg = try raw.withBytes { (b) throws(JOSEError) in try JWSAlgorithm.parse(b) }
                } else {
                    alg = try JWSAlgorithm.parse(UnsafeRawBufferPointer(start: p + vs, count: ve - vs))
                }
            case 0x03_6B_69_64:  // kid
                guard m.kind == .string else { throw .malformed("kid must be a string") }
                kid = JSONScanner.string(p, Int(m.valueStart) + 1, Int(m.valueEnd) - 1, escaped: m.valueEscaped)
            case 0x03_74_79_70:  // typ
                guard m.kind == .string else { throw .malformed("typ must be a string") }
                typ = JSONScanner.string(p, Int(m.valueStart) + 1, Int(m.valueEnd) - 1, escaped: m.valueEscaped)
            case 0x04_63_72_69_74:  // crit
                throw .unsupportedCritical
            default:
                continue
            }
        }
        guard let alg else { throw .malformed("missing alg") }
        return JWSHeader(algorithm: alg, kid: kid, typ: typ)
    }

    /// Serialises `{"alg":..,"typ":..,"kid":..}` for signing.
    func json() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.member("alg", string: algorithm.name)
        if let typ { w.member("typ", string: typ) }
        if let kid { w.member("kid", string: kid) }
        w.endObject()
        return w.bytes
    }
}
