/// A record of the journal: a `StateChange` in a log, or a piece of a snapshot. This file
/// is the codec of their payloads (framing is in `JournalFormat`).
enum JournalRecord: Sendable, Equatable {
    case change(StateChange)
    /// Snapshot: one whole family.
    case family(Family)
    /// Snapshot: one revocation in force.
    case revocation(Revocation.Target, until: Int64)
    /// Snapshot: the last record, whose counts prove the snapshot complete.
    case snapshotEnd(families: UInt64, revocations: UInt64, clock: Int64)

    private enum Tag: UInt8 {
        case familyCreated = 1
        case rotated = 2
        case familyRevoked = 3
        case tokenRevoked = 4
        case family = 16
        case revocation = 17
        case snapshotEnd = 18
    }

    enum DecodeError: Error, Equatable {
        case unknownType(UInt8)
        case malformed(type: UInt8, ByteReader.Failure)
    }

    /// Appends this record, framed, to `out`.
    func encode(into out: inout [UInt8]) throws(JournalFormat.FrameTooLarge) {
        switch self {
        case .change(.familyCreated(let f)):
            try JournalFormat.frame(type: Tag.familyCreated.rawValue, into: &out) { w in
                w.string(f.sid)
                w.string(f.subject)
                w.blob(f.claims)
                w.digest(f.lookupKey)
                w.digest(f.refreshHash)
                w.string(f.accessJti)
                w.i64(f.now)
                w.i64(f.expiresAt)
            }
        case let .change(.rotated(sid, refreshHash, accessJti, graceBlob, at, expiresAt)):
            try JournalFormat.frame(type: Tag.rotated.rawValue, into: &out) { w in
                w.string(sid)
                w.digest(refreshHash)
                w.string(accessJti)
                w.blob(graceBlob)
                w.i64(at)
                w.i64(expiresAt)
            }
        case let .change(.familyRevoked(sid, at, until)):
            try JournalFormat.frame(type: Tag.familyRevoked.rawValue, into: &out) { w in
                w.string(sid)
                w.i64(at)
                w.i64(until)
            }
        case let .change(.tokenRevoked(jti, at, until)):
            try JournalFormat.frame(type: Tag.tokenRevoked.rawValue, into: &out) { w in
                w.string(jti)
                w.i64(at)
                w.i64(until)
            }
        case .family(let f):
            try JournalFormat.frame(type: Tag.family.rawValue, into: &out) { w in Self.write(f, &w) }
        case let .revocation(target, until):
            try JournalFormat.frame(type: Tag.revocation.rawValue, into: &out) { w in
                switch target {
                case .family(let sid):
                    w.u8(0)
                    w.string(sid)
                case .token(let jti):
                    w.u8(1)
                    w.string(jti)
                }
                w.i64(until)
            }
        case let .snapshotEnd(families, revocations, clock):
            try JournalFormat.frame(type: Tag.snapshotEnd.rawValue, into: &out) { w in
                w.u64(families)
                w.u64(revocations)
                w.i64(clock)
            }
        }
    }

    /// Decodes the payload `range` of `buffer`, written with type `type`. The payload must
    /// be consumed exactly.
    static func decode(type: UInt8, _ buffer: [UInt8], _ range: Range<Int>) throws(DecodeError) -> JournalRecord {
        guard let tag = Tag(rawValue: type) else { throw .unknownType(type) }
        var r = ByteReader(buffer, from: range.lowerBound, to: range.upperBound)
        do {
            let record = try decode(tag, &r)
            guard r.remaining == 0 else { throw ByteReader.Failure.invalidValue("\(r.remaining) trailing bytes") }
            return record
        } catch let failure as ByteReader.Failure {
            throw .malformed(type: type, failure)
        } catch {
            throw .malformed(type: type, .invalidValue("\(error)"))
        }
    }

    private static func decode(_ tag: Tag, _ r: inout ByteReader) throws -> JournalRecord {
        switch tag {
        case .familyCreated:
            let sid = try r.string(), subject = try r.string(), claims = try r.blob()
            let lookupKey = try r.digest(), refreshHash = try r.digest(), jti = try r.string()
            let now = try r.i64(), expiresAt = try r.i64()
            return .change(
                .familyCreated(
                    NewFamily(
                        sid: sid,
                        subject: subject,
                        claims: claims,
                        lookupKey: lookupKey,
                        refreshHash: refreshHash,
                        accessJti: jti,
                        now: now,
                        expiresAt: expiresAt
                    )
                )
            )
        case .rotated:
            let sid = try r.string(), hash = try r.digest(), jti = try r.string(), blob = try r.blob()
            let at = try r.i64(), expiresAt = try r.i64()
            return .change(
                .rotated(sid: sid, refreshHash: hash, accessJti: jti, graceBlob: blob, at: at, expiresAt: expiresAt)
            )
        case .familyRevoked:
            let sid = try r.string(), at = try r.i64(), until = try r.i64()
            return .change(.familyRevoked(sid: sid, at: at, until: until))
        case .tokenRevoked:
            let jti = try r.string(), at = try r.i64(), until = try r.i64()
            return .change(.tokenRevoked(jti: jti, at: at, until: until))
        case .family:
            return .family(try readFamily(&r))
        case .revocation:
            let kind = try r.u8(), id = try r.string(), until = try r.i64()
            switch kind {
            case 0: return .revocation(.family(sid: id), until: until)
            case 1: return .revocation(.token(jti: id), until: until)
            default: throw ByteReader.Failure.invalidValue("revocation kind \(kind)")
            }
        case .snapshotEnd:
            return .snapshotEnd(families: try r.u64(), revocations: try r.u64(), clock: try r.i64())
        }
    }

    private static func write(_ f: Family, _ w: inout ByteWriter) {
        w.string(f.sid)
        w.string(f.subject)
        w.blob(f.claims)
        w.digest(f.lookupKey)
        w.digest(f.currentHash)
        w.string(f.currentJti)
        if let p = f.previous {
            w.u8(1)
            w.digest(p.hash)
            w.string(p.jti)
            w.i64(p.rotatedAt)
            w.blob(p.graceBlob)
        } else {
            w.u8(0)
        }
        w.u64(f.generation)
        w.i64(f.expiresAt)
        if let revokedAt = f.revokedAt {
            w.u8(1)
            w.i64(revokedAt)
            w.i64(f.revocationExpiresAt)
        } else {
            w.u8(0)
        }
        // Appended last: a family record of an older snapshot simply ends before it.
        if !f.olderHashes.isEmpty {
            w.u8(UInt8(f.olderHashes.count))
            for h in f.olderHashes { w.digest(h) }
        }
    }

    private static func readFamily(_ r: inout ByteReader) throws -> Family {
        let sid = try r.string(), subject = try r.string(), claims = try r.blob()
        let lookupKey = try r.digest(), currentHash = try r.digest(), currentJti = try r.string()
        var previous: PreviousToken?
        if try r.bool() {
            let hash = try r.digest(), jti = try r.string(), rotatedAt = try r.i64(), blob = try r.blob()
            previous = PreviousToken(hash: hash, jti: jti, rotatedAt: rotatedAt, graceBlob: blob)
        }
        let generation = try r.u64(), expiresAt = try r.i64()
        var revokedAt: Int64?
        var revocationExpiresAt: Int64 = 0
        if try r.bool() {
            revokedAt = try r.i64()
            revocationExpiresAt = try r.i64()
        }
        var olderHashes: [Digest32] = []
        if r.remaining > 0 {
            let count = Int(try r.u8())
            guard count <= Family.maxOlderHashes else { throw ByteReader.Failure.invalidValue("\(count) older hashes") }
            for _ in 0..<count { olderHashes.append(try r.digest()) }
        }
        return Family(
            sid: sid,
            subject: subject,
            claims: claims,
            lookupKey: lookupKey,
            currentHash: currentHash,
            currentJti: currentJti,
            previous: previous,
            olderHashes: olderHashes,
            generation: generation,
            expiresAt: expiresAt,
            revokedAt: revokedAt,
            revocationExpiresAt: revocationExpiresAt
        )
    }
}
