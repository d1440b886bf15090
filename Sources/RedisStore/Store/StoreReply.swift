import TokenStore

/// Decodes the script's replies (`RedisScripts.store`): arrays whose first element names
/// the answer. Any other shape is a protocol violation (nil).
enum StoreReply {
    static func tag(_ reply: RESPValue) -> String? {
        reply.array?.first?.string
    }

    static func rotation(_ reply: RESPValue) -> RotationOutcome? {
        guard let a = reply.array, let tag = a.first?.string else { return nil }
        switch (tag, a.count) {
        case ("rejected", 2):
            return a[1].string.flatMap(RotationRejection.init(rawValue:)).map { .rejected($0) }
        case ("rotated", 5):
            return snapshot(a).map { .rotated($0) }
        case ("grace", 7):
            guard let s = snapshot(a), let blob = a[5].bytes, let jti = a[6].string else { return nil }
            return .graceReplay(s, graceBlob: blob, accessJti: jti)
        case ("reuse", 3):
            return familyRevocation(a).map { .reuseDetected($0) }
        case ("mismatch", 3):
            return familyRevocation(a).map { .bindingMismatch($0) }
        default:
            return nil
        }
    }

    /// `none`, or `revoked sid until`. Double optional: nil is "unexpected reply".
    static func optionalFamilyRevocation(_ reply: RESPValue) -> Revocation?? {
        guard let a = reply.array, let tag = a.first?.string else { return nil }
        if tag == "none", a.count == 1 { return .some(nil) }
        guard tag == "revoked", a.count == 3, let r = familyRevocation(a) else { return nil }
        return .some(r)
    }

    /// `list sid until sid until…`
    static func familyList(_ reply: RESPValue) -> [Revocation]? {
        pairs(reply) { id, until in Revocation(target: .family(sid: id), expiresAt: until) }
    }

    /// `list member until…` with members `f:<sid>` or `t:<jti>`.
    static func revocationList(_ reply: RESPValue) -> [Revocation]? {
        pairs(reply) { member, until in
            if member.hasPrefix("f:") {
                return Revocation(target: .family(sid: String(member.dropFirst(2))), expiresAt: until)
            }
            if member.hasPrefix("t:") {
                return Revocation(target: .token(jti: String(member.dropFirst(2))), expiresAt: until)
            }
            return nil
        }
    }

    private static func pairs(_ reply: RESPValue, _ make: (String, Int64) -> Revocation?) -> [Revocation]? {
        guard let a = reply.array, a.first?.string == "list", a.count % 2 == 1 else { return nil }
        var out: [Revocation] = []
        out.reserveCapacity(a.count / 2)
        for i in stride(from: 1, to: a.count, by: 2) {
            guard let id = a[i].string, let until = a[i + 1].int64, let r = make(id, until) else { return nil }
            out.append(r)
        }
        return out
    }

    private static func snapshot(_ a: [RESPValue]) -> FamilySnapshot? {
        guard let sid = a[1].string, let subject = a[2].string, let claims = a[3].bytes, let exp = a[4].int64 else {
            return nil
        }
        return FamilySnapshot(sid: sid, subject: subject, claims: claims, refreshExpiresAt: exp)
    }

    private static func familyRevocation(_ a: [RESPValue]) -> Revocation? {
        guard let sid = a[1].string, let until = a[2].int64 else { return nil }
        return Revocation(target: .family(sid: sid), expiresAt: until)
    }
}
