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

    /// The same lines from values already mapped (outside issuers), plus `extra` header lines.
    static func render(
        subject: String?, scopes: [String]?, roles: [String], session: String?, claims: Claims,
        extra: [(header: String, value: String, claim: String)], names: IdentityHeaderNames, into out: inout [UInt8]
    ) throws(Unforwardable) {
        if let sub = subject { try line(names.subject, sub, claim: "sub", into: &out) }
        if let scopes {
            // Re-joined with single spaces; tabs or other separators are refused below.
            try line(names.scopes, scopes.joined(separator: " "), claim: "scope", into: &out)
        }
        if !roles.isEmpty {
            // Each role alone: an empty role, or one padded with spaces, would read as another
            // role to an upstream that trims around commas.
            for r in roles
            where r.isEmpty || r.utf8.contains(UInt8(ascii: ",")) || r.utf8.first == 0x20 || r.utf8.last == 0x20 {
                throw Unforwardable(claim: "roles")
            }
            try line(names.roles, roles.joined(separator: ","), claim: "roles", into: &out)
        }
        if let sid = session { try line(names.session, sid, claim: "sid", into: &out) }
        for (claim, header) in names.claims {
            if let v = claims.textValue(claim) { try line(header, v, claim: claim, into: &out) }
        }
        for (header, value, claim) in extra { try line(header, value, claim: claim, into: &out) }
    }

    private static func line(_ name: String, _ value: String, claim: String, into out: inout [UInt8])
        throws(Unforwardable)
    {
        // Visible ASCII and inner spaces only: no CR, LF, NUL, DEL or other controls, no
        // obs-text, and no leading or trailing whitespace that a parser would trim.
        let v = value.utf8
        if let f = v.first, f == 0x20 { throw Unforwardable(claim: claim) }
        if let l = v.last, l == 0x20 { throw Unforwardable(claim: claim) }
        for c in v where c < 0x20 || c > 0x7E { throw Unforwardable(claim: claim) }
        HeadWriter.append(name, to: &out)
        HeadWriter.append(": ", to: &out)
        out.append(contentsOf: v)
        HeadWriter.append("\r\n", to: &out)
    }
}
