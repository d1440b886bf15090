import TokenStore

/// The `TokenStore` operations: argument checks, then one script call each.
extension RedisTokenStore {
    public func createFamily(
        _ family: NewFamily,
        completion: @escaping @Sendable (Result<Void, TokenStoreError>) -> Void
    ) {
        if let reason = StoreLimits.check(family) { return completion(.failure(.unavailable(reason: reason))) }
        let args: [[UInt8]] = [
            arg(family.sid), arg(family.subject), family.claims, arg(family.lookupKey.hex),
            family.refreshHash.bytes, arg(family.accessJti), arg(family.expiresAt),
        ]
        run("create", now: family.now, args, completion: completion) { reply -> Void? in
            switch StoreReply.tag(reply) {
            case "ok": return ()
            default: return nil
            }
        } conflict: {
            completion(.failure(.conflict))
        }
    }

    public func rotate(
        _ request: RotationRequest,
        completion: @escaping @Sendable (Result<RotationOutcome, TokenStoreError>) -> Void
    ) {
        if let reason = StoreLimits.check(request) { return completion(.failure(.unavailable(reason: reason))) }
        let args: [[UInt8]] = [
            arg(request.lookupKey.hex), request.presentedHash.bytes,
            arg(request.boundAccess != nil), arg(request.boundAccess?.subject ?? ""),
            arg(request.boundAccess?.jti ?? ""),
            arg(request.requireBinding), request.newRefreshHash.bytes, arg(request.newAccessJti), request.graceBlob,
            arg(request.refreshTTL), arg(request.grace), arg(request.revocationTTL),
        ]
        run("rotate", now: request.now, args, completion: completion, decode: StoreReply.rotation)
    }

    public func revokeFamily(
        sid: String,
        revocationTTL: Int64,
        now: Int64,
        completion: @escaping @Sendable (Result<Revocation?, TokenStoreError>) -> Void
    ) {
        run(
            "revokeSid",
            now: now,
            [arg(sid), arg(revocationTTL)],
            completion: completion,
            decode: StoreReply.optionalFamilyRevocation
        )
    }

    public func revokeFamily(
        byRefreshToken lookupKey: Digest32,
        presentedHash: Digest32,
        revocationTTL: Int64,
        now: Int64,
        completion: @escaping @Sendable (Result<Revocation?, TokenStoreError>) -> Void
    ) {
        let args = [arg(lookupKey.hex), presentedHash.bytes, arg(revocationTTL)]
        run("revokeToken", now: now, args, completion: completion, decode: StoreReply.optionalFamilyRevocation)
    }

    public func revokeSubject(
        _ subject: String,
        revocationTTL: Int64,
        now: Int64,
        completion: @escaping @Sendable (Result<[Revocation], TokenStoreError>) -> Void
    ) {
        run(
            "revokeSubject",
            now: now,
            [arg(subject), arg(revocationTTL)],
            completion: completion,
            decode: StoreReply.familyList
        )
    }

    public func revokeToken(
        jti: String,
        expiresAt: Int64,
        now: Int64,
        completion: @escaping @Sendable (Result<Revocation, TokenStoreError>) -> Void
    ) {
        if let reason = StoreLimits.check(identifier: jti, "jti") {
            return completion(.failure(.unavailable(reason: reason)))
        }
        run("revokeJti", now: now, [arg(jti), arg(expiresAt)], completion: completion) { reply in
            guard StoreReply.tag(reply) == "until", let until = reply.array?[1].int64 else { return nil }
            return Revocation(target: .token(jti: jti), expiresAt: until)
        }
    }

    public func activeRevocations(
        now: Int64,
        completion: @escaping @Sendable (Result<[Revocation], TokenStoreError>) -> Void
    ) {
        run("active", now: now, [], completion: completion, decode: StoreReply.revocationList)
    }

    /// `run` for `create`, whose `conflict` answer is a failure rather than a value.
    private func run(
        _ op: String,
        now: Int64,
        _ arguments: [[UInt8]],
        completion: @escaping @Sendable (Result<Void, TokenStoreError>) -> Void,
        decode: @escaping @Sendable (RESPValue) -> Void?,
        conflict: @escaping @Sendable () -> Void
    ) {
        let wrapped: @Sendable (Result<Bool, TokenStoreError>) -> Void = { result in
            switch result {
            case .success(true): completion(.success(()))
            case .success(false): conflict()
            case .failure(let e): completion(.failure(e))
            }
        }
        run(op, now: now, arguments, completion: wrapped) { reply -> Bool? in
            if StoreReply.tag(reply) == "conflict" { return false }
            return decode(reply) != nil ? true : nil
        }
    }
}

extension Digest32 {
    /// Lower-case hex of the bytes: lookup keys in Redis key names (a hash, not a secret).
    var hex: String {
        var out = ""
        out.reserveCapacity(64)
        for b in bytes {
            out.append(Character(Unicode.Scalar(hexDigits[Int(b >> 4)])))
            out.append(Character(Unicode.Scalar(hexDigits[Int(b & 0xF)])))
        }
        return out
    }
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
