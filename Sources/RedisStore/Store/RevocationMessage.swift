import TokenStore

/// The pub/sub payload announcing one revocation: `v1|<instance>|f|<until>|<sid>` or
/// `v1|<instance>|t|<until>|<jti>`. The id comes last so it may hold any byte; the
/// instance id lets a store skip its own announcements.
///
/// Built by the Lua script (`RedisScripts`), parsed here.
enum RevocationMessage {
    static func encode(instance: String, _ r: Revocation) -> [UInt8] {
        let (kind, id): (String, String) =
            switch r.target {
            case .family(let sid): ("f", sid)
            case .token(let jti): ("t", jti)
            }
        return Array("v1|\(instance)|\(kind)|\(r.expiresAt)|\(id)".utf8)
    }

    /// The sender's instance id and the revocation; nil for anything malformed.
    static func decode(_ payload: [UInt8]) -> (instance: String, revocation: Revocation)? {
        var fields: [ArraySlice<UInt8>] = []
        var rest = payload[...]
        for _ in 0..<4 {
            guard let bar = rest.firstIndex(of: UInt8(ascii: "|")) else { return nil }
            fields.append(rest[..<bar])
            rest = rest[(bar + 1)...]
        }
        guard fields[0].elementsEqual("v1".utf8),
            let until = Int64(String(decoding: fields[3], as: UTF8.self)),
            !rest.isEmpty
        else { return nil }
        let id = String(decoding: rest, as: UTF8.self)
        let target: Revocation.Target
        switch String(decoding: fields[2], as: UTF8.self) {
        case "f": target = .family(sid: id)
        case "t": target = .token(jti: id)
        default: return nil
        }
        return (String(decoding: fields[1], as: UTF8.self), Revocation(target: target, expiresAt: until))
    }
}
