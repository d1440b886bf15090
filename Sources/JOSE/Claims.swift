#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    /// `scopes` as strings, for ASCII split over the bytes (no `Substring` per scope). A
    /// non-ASCII value takes `scopes`' way, by characters: a space followed by a combining
    /// mark is one character there, not a separator.
    public var scopeList: [String] {
        guard var scope else { return [] }
        guard scope.utf8.allSatisfy({ $0 < 0x80 }) else { return scopes.map(String.init) }
        return scope.withUTF8 { u in
            var out: [String] = []
            var i = 0
            while i < u.count {
                while i < u.count && u[i] == 0x20 { i += 1 }
                let start = i
                while i < u.count && u[i] != 0x20 { i += 1 }
                if i > start {
                    out.append(String(decoding: UnsafeBufferPointer(rebasing: u[start..<i]), as: UTF8.self))
                }
            }
            return out
        }
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
        // The name's own UTF-8 where it is contiguous (native strings): no array per lookup,
        // which `MachineTokenPolicy.isMachine` makes once per verified token.
        if let found = name.utf8.withContiguousStorageIfAvailable({ member($0) }) { return found }
        return Array(name.utf8).withUnsafeBufferPointer { member($0) }
    }

    private func member(_ key: UnsafeBufferPointer<UInt8>) -> JSONMember? {
        json.withUnsafeBufferPointer { b -> JSONMember? in
            let p = b.baseAddress!
            for m in members {
                let s = Int(m.nameStart), e = Int(m.nameEnd)
                if m.nameEscaped {
                    if JSONScanner.unescape(p, s, e).elementsEqual(key) { return m }
                } else if e - s == key.count, key.count == 0 || memcmp(p + s, key.baseAddress!, key.count) == 0 {
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
