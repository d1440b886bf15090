/// The claims of a JWT (RFC 7519 §4), read from the payload by ``ClaimsScanner``.
///
/// Registered claims are decoded eagerly; every other top-level claim stays available as
/// raw JSON text (``rawValue(_:)``) or, for strings, unescaped (``string(_:)``).
/// Times are seconds since the Unix epoch (NumericDate, RFC 7519 §2), integer or fractional.
public struct Claims: Sendable, Equatable {
    /// Immutable storage: copying `Claims` (or a ``VerifiedJWS``) costs one reference count.
    final class Storage: Sendable {
        let iss: String?, sub: String?, aud: [String], exp: Double?, nbf: Double?, iat: Double?
        let jti: String?, sid: String?, scope: String?, roles: [String], typ: String?
        let json: [UInt8]
        let members: [JSONMember]

        init(_ b: ClaimsScanner.Fields, json: [UInt8], members: [JSONMember]) {
            iss = b.iss; sub = b.sub; aud = b.aud; exp = b.exp; nbf = b.nbf; iat = b.iat
            jti = b.jti; sid = b.sid; scope = b.scope; roles = b.roles; typ = b.typ
            self.json = json
            self.members = members
        }
    }

    let storage: Storage

    /// `iss` (RFC 7519 §4.1.1).
    public var iss: String? { storage.iss }
    /// `sub` (RFC 7519 §4.1.2).
    public var sub: String? { storage.sub }
    /// `aud` (RFC 7519 §4.1.3): a single string is returned as a one-element array.
    public var aud: [String] { storage.aud }
    /// `exp` (RFC 7519 §4.1.4).
    public var exp: Double? { storage.exp }
    /// `nbf` (RFC 7519 §4.1.5).
    public var nbf: Double? { storage.nbf }
    /// `iat` (RFC 7519 §4.1.6).
    public var iat: Double? { storage.iat }
    /// `jti` (RFC 7519 §4.1.7).
    public var jti: String? { storage.jti }
    /// `sid`: the session (refresh-token family) id (OpenID Connect Front-Channel Logout §3).
    public var sid: String? { storage.sid }
    /// `scope`: space-separated (RFC 8693 §4.2, RFC 9068 §2.2.3).
    public var scope: String? { storage.scope }
    /// `roles` (RFC 9068 §2.2.3.1, RFC 7643 §4.1.2): an array of strings, or one string.
    public var roles: [String] { storage.roles }
    /// `typ` as a claim, if present (distinct from the header `typ`).
    public var typ: String? { storage.typ }
    /// The claims JSON exactly as signed.
    public var json: [UInt8] { storage.json }
    var members: [JSONMember] { storage.members }

    /// `scope` split on spaces (RFC 6749 §3.3), empty entries dropped.
    public var scopes: [Substring] {
        guard let scope else { return [] }
        return scope.split(separator: " ", omittingEmptySubsequences: true)
    }

    /// Names of all top-level claims, in document order.
    public var names: [String] {
        json.withUnsafeBufferPointer { b in
            members.map {
                JSONScanner.string(b.baseAddress!, Int($0.nameStart), Int($0.nameEnd), escaped: $0.nameEscaped)
            }
        }
    }

    func member(_ name: String) -> JSONMember? {
        let key = Array(name.utf8)
        return json.withUnsafeBufferPointer { b -> JSONMember? in
            let p = b.baseAddress!
            for m in members {
                let s = Int(m.nameStart), e = Int(m.nameEnd)
                if m.nameEscaped {
                    if JSONScanner.unescape(p, s, e) == key { return m }
                } else if e - s == key.count,
                    key.withUnsafeBufferPointer({ k in
                        (0..<key.count).allSatisfy { p[s + $0] == k[$0] }
                    })
                {
                    return m
                }
            }
            return nil
        }
    }

    /// The JSON kind of a top-level claim, or nil if absent.
    public func kind(of name: String) -> JSONValueKind? { member(name)?.kind }

    /// The raw JSON text of a top-level claim (strings keep their quotes and escapes).
    public func rawValue(_ name: String) -> ArraySlice<UInt8>? {
        guard let m = member(name) else { return nil }
        return json[Int(m.valueStart)..<Int(m.valueEnd)]
    }

    /// A top-level string claim, unescaped; nil if absent or not a string.
    public func string(_ name: String) -> String? {
        guard let m = member(name), m.kind == .string else { return nil }
        return json.withUnsafeBufferPointer { b in
            JSONScanner.string(b.baseAddress!, Int(m.valueStart) + 1, Int(m.valueEnd) - 1, escaped: m.valueEscaped)
        }
    }

    /// A top-level number claim; nil if absent or not a number.
    public func number(_ name: String) -> Double? {
        guard let m = member(name), m.kind == .number else { return nil }
        return json.withUnsafeBufferPointer { b in
            JSONScanner.double(b.baseAddress!, Int(m.valueStart), Int(m.valueEnd))
        }
    }

    /// A top-level claim for an HTTP header: strings unescaped, other values as their JSON text.
    public func textValue(_ name: String) -> String? {
        guard let m = member(name) else { return nil }
        if m.kind == .string { return string(name) }
        return String(decoding: json[Int(m.valueStart)..<Int(m.valueEnd)], as: UTF8.self)
    }

    public static func == (a: Claims, b: Claims) -> Bool { a.storage === b.storage || a.json == b.json }
}
