import HTTP1

/// What the `Authorization` fields of a request hold, per RFC 6750 §2.1.
enum BearerCredentials: Equatable {
    /// No `Authorization` field, or a scheme other than Bearer (SPEC §8: no credentials).
    case none
    /// `Bearer <token68>`: the token's byte range in the head.
    case token(Range<Int>)
    /// A Bearer field that does not follow the grammar, or several `Authorization` fields
    /// (RFC 6750 §3.1 `invalid_request`, answered with 400).
    case malformed

    /// Parses one field value `value` (a range of `bytes`).
    static func parse(_ bytes: UnsafeRawBufferPointer, _ value: Range<Int>) -> BearerCredentials {
        let located = locate(bytes, value)
        if case .token(let r) = located, !isToken68(bytes, r) { return .malformed }
        return located
    }

    /// `parse` without the token68 check of the token's characters: `.token` here is a
    /// candidate, to be checked with `isToken68` unless it verifies (a compact JWS that
    /// verifies is a token68: three strict base64url segments), which saves a pass over
    /// ~300 bytes per request.
    static func locate(_ bytes: UnsafeRawBufferPointer, _ value: Range<Int>) -> BearerCredentials {
        var i = value.lowerBound
        let end = value.upperBound
        // auth-scheme is case-insensitive (RFC 9110 §11.1).
        let scheme: StaticString = "bearer"
        let n = scheme.utf8CodeUnitCount
        guard end - i >= n else { return isSchemeOnly(bytes, value, "bearer") ? .malformed : .none }
        var matches = true
        for k in 0..<n where bytes[i + k] | 0x20 != scheme.utf8Start[k] {
            matches = false
            break
        }
        guard matches else { return .none }
        i += n
        if i == end { return .malformed }
        // Another scheme that merely starts with "Bearer" (e.g. "BearerX") is not ours.
        guard bytes[i] == 0x20 else { return bytes[i] == 0x09 ? .malformed : .none }
        while i < end && bytes[i] == 0x20 { i += 1 }
        guard i < end else { return .malformed }
        return .token(i..<end)
    }

    /// Whether `bytes[token]` is a token68 (RFC 9110 §11.2):
    /// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
    static func isToken68(_ bytes: UnsafeRawBufferPointer, _ token: Range<Int>) -> Bool {
        let end = token.upperBound
        var i = HTTPGrammar.token68End(bytes, token.lowerBound, end)
        let bodyEnd = i
        while i < end && bytes[i] == UInt8(ascii: "=") { i += 1 }
        return bodyEnd > token.lowerBound && i == end
    }

    private static func isSchemeOnly(_ bytes: UnsafeRawBufferPointer, _ value: Range<Int>, _ scheme: String) -> Bool {
        let s = Array(scheme.utf8)
        guard value.count <= s.count, value.count > 0 else { return false }
        for (k, i) in value.enumerated() where bytes[i] | 0x20 != s[k] { return false }
        return value.count == s.count
    }
}
