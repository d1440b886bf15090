/// One mutation of `TokenState`, decided once and then applied: live, and again when the
/// journal is replayed. Applying never decides anything, so a replay reproduces exactly the
/// state that was acknowledged.
enum StateChange: Sendable, Equatable {
    /// A login. `family.now` is the store time of the decision.
    case familyCreated(NewFamily)
    /// The family's current token became its previous one and `refreshHash` is current.
    case rotated(sid: String, refreshHash: Digest32, accessJti: String, graceBlob: [UInt8], at: Int64, expiresAt: Int64)
    /// The family is revoked; its revocation is in force until `until`.
    case familyRevoked(sid: String, at: Int64, until: Int64)
    /// One access token is revoked until `until`.
    case tokenRevoked(jti: String, at: Int64, until: Int64)

    /// Store time at which the change was decided.
    var at: Int64 {
        switch self {
        case .familyCreated(let f): return f.now
        case .rotated(_, _, _, _, let at, _), .familyRevoked(_, let at, _), .tokenRevoked(_, let at, _): return at
        }
    }
}

/// What one operation did: the changes to make durable, and the answer to give once they are.
struct Step<Outcome: Sendable>: Sendable {
    var changes: [StateChange]
    var result: Result<Outcome, TokenStoreError>

    static func answer(_ result: Result<Outcome, TokenStoreError>) -> Step { Step(changes: [], result: result) }
}
