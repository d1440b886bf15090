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
        guard let typ else { return false }
        let t = typ.lowercased()
        return t == "at+jwt" || t == "application/at+jwt"
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
            let name: [UInt8]
            if m.nameEscaped {
                name = JSONScanner.unescape(p, s, e)
            } else if e - s == 3 || e - s == 4 {
                name = Array(UnsafeBufferPointer(start: p + s, count: e - s))
            } else {
                continue
            }
            switch name {
            case [0x61, 0x6C, 0x67]:  // alg
                guard m.kind == .string else { throw .malformed("alg must be a string") }
                let vs = Int(m.valueStart) + 1, ve = Int(m.valueEnd) - 1
                if m.valueEscaped {
                    let raw = JSONScanner.unescape(p, vs, ve)
                    alg = try raw.withBytes { (b) throws(JOSEError) in try JWSAlgorithm.parse(b) }
                } else {
                    alg = try JWSAlgorithm.parse(UnsafeRawBufferPointer(start: p + vs, count: ve - vs))
                }
            case [0x6B, 0x69, 0x64]:  // kid
                guard m.kind == .string else { throw .malformed("kid must be a string") }
                kid = JSONScanner.string(p, Int(m.valueStart) + 1, Int(m.valueEnd) - 1, escaped: m.valueEscaped)
            case [0x74, 0x79, 0x70]:  // typ
                guard m.kind == .string else { throw .malformed("typ must be a string") }
                typ = JSONScanner.string(p, Int(m.valueStart) + 1, Int(m.valueEnd) - 1, escaped: m.valueEscaped)
            case [0x63, 0x72, 0x69, 0x74]:  // crit
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
