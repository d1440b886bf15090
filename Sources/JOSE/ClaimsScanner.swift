/// Reads a JWT claims set (RFC 7519 §4) from bytes, strictly and without `JSONDecoder`.
///
/// The document must be one JSON object (RFC 7519 §7.2 step 10) and pass the strict checks
/// of RFC 8259 (see `JSONScanner`): duplicate names, trailing data, invalid escapes, invalid
/// UTF-8, lone surrogates and nesting deeper than `maxDepth` are all rejected.
/// `exp`, `nbf` and `iat` must be JSON numbers (RFC 7519 §2 NumericDate): strings are refused.
public enum ClaimsScanner {
    /// Default maximum nesting depth of claims JSON.
    public static let defaultMaxDepth = 16

    /// The registered claims while scanning.
    struct Fields {
        var iss: String?, sub: String?, aud: [String] = [], exp: Double?, nbf: Double?, iat: Double?
        var jti: String?, sid: String?, scope: String?, roles: [String] = [], typ: String?
    }

    /// Scans `json` into ``Claims``.
    /// - Throws: ``JOSEError/malformed(_:)`` for invalid JSON, ``JOSEError/invalidClaim(_:)`` for a
    ///   registered claim of the wrong type.
    public static func scan(_ json: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JOSEError) -> Claims {
        var members = [JSONMember]()
        members.reserveCapacity(16)
        var claims: Claims
        do {
            claims = try json.withBytes { (b) throws(JOSEError) -> Claims in
                try JSONScanner.scanObject(b, maxDepth: maxDepth, members: &members)
                var f = Fields()
                try fill(&f, members, b.baseAddress!.assumingMemoryBound(to: UInt8.self))
                return Claims(storage: Claims.Storage(f, json: json, members: members))
            }
        }
        return claims
    }

    private static func fill(_ c: inout Fields, _ members: [JSONMember], _ p: UnsafePointer<UInt8>) throws(JOSEError) {
        for m in members where !m.nameEscaped {
            let s = Int(m.nameStart)
            let len = Int(m.nameEnd) - s
            guard len == 3 || len == 4 || len == 5 else { continue }
            // Registered names are 3 (iss sub aud exp nbf iat jti sid typ), 5 (scope roles) bytes.
            let w = UInt32(p[s]) << 16 | UInt32(p[s + 1]) << 8 | UInt32(p[s + 2])
            if len == 3 {
                switch w {
                case 0x69_73_73: c.iss = try string(m, p, "iss")
                case 0x73_75_62: c.sub = try string(m, p, "sub")
                case 0x6A_74_69: c.jti = try string(m, p, "jti")
                case 0x73_69_64: c.sid = try string(m, p, "sid")
                case 0x74_79_70: c.typ = try string(m, p, "typ")
                case 0x65_78_70: c.exp = try number(m, p, "exp")
                case 0x6E_62_66: c.nbf = try number(m, p, "nbf")
                case 0x69_61_74: c.iat = try number(m, p, "iat")
                case 0x61_75_64: c.aud = try stringOrArray(m, p, "aud")
                default: break
                }
            } else if len == 5 {
                if w == 0x73_63_6F, p[s + 3] == UInt8(ascii: "p"), p[s + 4] == UInt8(ascii: "e") {
                    c.scope = try string(m, p, "scope")
                } else if w == 0x72_6F_6C, p[s + 3] == UInt8(ascii: "e"), p[s + 4] == UInt8(ascii: "s") {
                    c.roles = try stringOrArray(m, p, "roles")
                }
            }
        }
        // A registered name written with escapes ("\u0065xp") is rare; resolve it the slow way.
        for m in members where m.nameEscaped {
            let name = String(decoding: JSONScanner.unescape(p, Int(m.nameStart), Int(m.nameEnd)), as: UTF8.self)
            switch name {
            case "iss": c.iss = try string(m, p, "iss")
            case "sub": c.sub = try string(m, p, "sub")
            case "jti": c.jti = try string(m, p, "jti")
            case "sid": c.sid = try string(m, p, "sid")
            case "typ": c.typ = try string(m, p, "typ")
            case "exp": c.exp = try number(m, p, "exp")
            case "nbf": c.nbf = try number(m, p, "nbf")
            case "iat": c.iat = try number(m, p, "iat")
            case "aud": c.aud = try stringOrArray(m, p, "aud")
            case "scope": c.scope = try string(m, p, "scope")
            case "roles": c.roles = try stringOrArray(m, p, "roles")
            default: break
            }
        }
    }

    private static func string(_ m: JSONMember, _ p: UnsafePointer<UInt8>, _ name: String) throws(JOSEError) -> String {
        guard m.kind == .string else { throw .invalidClaim(name) }
        return JSONScanner.string(p, Int(m.valueStart) + 1, Int(m.valueEnd) - 1, escaped: m.valueEscaped)
    }

    private static func number(_ m: JSONMember, _ p: UnsafePointer<UInt8>, _ name: String) throws(JOSEError) -> Double {
        guard m.kind == .number, let d = JSONScanner.double(p, Int(m.valueStart), Int(m.valueEnd)) else {
            throw .invalidClaim(name)
        }
        return d
    }

    private static func stringOrArray(
        _ m: JSONMember,
        _ p: UnsafePointer<UInt8>,
        _ name: String
    ) throws(JOSEError) -> [String] {
        switch m.kind {
        case .string:
            return [try string(m, p, name)]
        case .array:
            var out = [String]()
            try JSONScanner.forEachElement(p, Int(m.valueStart), Int(m.valueEnd)) {
                (kind, s, e, esc) throws(JOSEError) in
                guard kind == .string else { throw .invalidClaim(name) }
                out.append(JSONScanner.string(p, s + 1, e - 1, escaped: esc))
            }
            return out
        default:
            throw .invalidClaim(name)
        }
    }
}
