import HTTP1
import JOSE

/// Renders the identity header lines a verified request is forwarded with (SPEC §3).
enum IdentityHeaders {
    /// A claim whose value cannot be put into a header as it is.
    struct Unforwardable: Error {
        let claim: String
    }

    /// `Name: value\r\n` lines for subject, scopes (space-separated), roles
    /// (comma-separated), session and the configured claim mappings. Absent claims give no line.
    /// - Throws: `Unforwardable` if a value holds a control character, a non-ASCII byte, or
    ///   (for roles) a comma, which would change what the upstream reads.
    static func render(_ claims: Claims, names: IdentityHeaderNames, into out: inout [UInt8]) throws(Unforwardable) {
        try render(
            subject: claims.sub, scopes: claims.scope == nil ? nil : claims.scopes.map(String.init),
            roles: claims.roles, session: claims.sid, claims: claims, extra: [], names: names, into: &out)
    }

    /// The same lines from values already mapped (outside issuers, or scopes the caller
    /// split already), plus `extra` header lines.
    static func render(
        subject: String?, scopes: [String]?, roles: [String], session: String?, claims: Claims,
        extra: [(header: String, value: String, claim: String)], names: borrowing IdentityHeaderNames,
        into out: inout [UInt8]
    ) throws(Unforwardable) {
        // One allocation for the usual lines (rendered once per token, kept in the cache).
        out.reserveCapacity(out.count + 160)
        if let sub = subject { try line(names.subject, [sub], separator: 0, claim: "sub", into: &out) }
        if let scopes {
            // Re-joined with single spaces; tabs or other separators are refused below.
            try line(names.scopes, scopes, separator: 0x20, claim: "scope", into: &out)
        }
        if !roles.isEmpty {
            // Each role alone: an empty role, or one padded with spaces, would read as another
            // role to an upstream that trims around commas.
            for r in roles
            where r.isEmpty || r.utf8.contains(UInt8(ascii: ",")) || r.utf8.first == 0x20 || r.utf8.last == 0x20 {
                throw Unforwardable(claim: "roles")
            }
            try line(names.roles, roles, separator: UInt8(ascii: ","), claim: "roles", into: &out)
        }
        if let sid = session { try line(names.session, [sid], separator: 0, claim: "sid", into: &out) }
        for (claim, header) in names.claims {
            if let v = claims.textValue(claim) { try line(header, [v], separator: 0, claim: claim, into: &out) }
        }
        for (header, value, claim) in extra { try line(header, [value], separator: 0, claim: claim, into: &out) }
    }

    /// `name: parts[0] separator parts[1] ...\r\n`, written in place and then checked.
    private static func line(
        _ name: String, _ parts: [String], separator: UInt8, claim: String, into out: inout [UInt8]
    ) throws(Unforwardable) {
        // Byte appends: a two-byte `append(contentsOf:)` costs ~200 instructions.
        append(name, to: &out)
        out.append(UInt8(ascii: ":"))
        out.append(UInt8(ascii: " "))
        let start = out.count
        for (k, p) in parts.enumerated() {
            if k > 0 { out.append(separator) }
            append(p, to: &out)
        }
        // Visible ASCII and inner spaces only: no CR, LF, NUL, DEL or other controls, no
        // obs-text, and no leading or trailing whitespace that a parser would trim.
        let end = out.count
        if end > start {
            if out[start] == 0x20 || out[end - 1] == 0x20 { throw Unforwardable(claim: claim) }
            for i in start..<end where out[i] < 0x20 || out[i] > 0x7E { throw Unforwardable(claim: claim) }
        }
        out.append(0x0D)
        out.append(0x0A)
    }

    /// The UTF-8 bytes of `s`, copied in one go where the string is contiguous (native ones
    /// are): `append(contentsOf: s.utf8)` takes a byte-at-a-time path.
    @inline(__always)
    private static func append(_ s: String, to out: inout [UInt8]) {
        if s.utf8.withContiguousStorageIfAvailable({ out.append(contentsOf: $0) }) == nil {
            out.append(contentsOf: s.utf8)
        }
    }
}
