import JOSE
import TokenStore

/// Who logged in, as an authenticator reports it: the claims every access token of the
/// new family will carry.
struct LoginIdentity: Sendable {
    var subject: String
    var scope: String?
    var roles: [String]
    /// Further claims (registered claim names excluded).
    var extra: [(String, JSONValue)]

    /// Claims the gateway sets itself; an authenticator cannot supply them.
    static let reservedClaims: Set<String> = [
        "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "sid", "scope", "roles",
        "typ", "cnf", "client_id",
    ]

    /// The claims blob the store keeps for the family: `{"scope":..,"roles":[..],...}`.
    var familyClaims: [UInt8] {
        var members: [(String, JSONValue)] = []
        if let scope { members.append(("scope", .string(scope))) }
        if !roles.isEmpty { members.append(("roles", .array(roles.map { .string($0) }))) }
        members += extra
        var out: [UInt8] = []
        JSONWriter.serialize(.object(members), to: &out)
        return out
    }

    /// Reads a stored claims blob back.
    init(subject: String, familyClaims: [UInt8]) {
        self.subject = subject
        scope = nil
        roles = []
        extra = []
        guard case .object(let members)? = try? JSONParser.parse(familyClaims) else { return }
        for (name, value) in members {
            switch (name, value) {
            case ("scope", .string(let s)): scope = s
            case ("roles", .array(let items)):
                roles = items.compactMap { if case .string(let s) = $0 { s } else { nil } }
            default: if !Self.reservedClaims.contains(name) { extra.append((name, value)) }
            }
        }
    }

    init(subject: String, scope: String?, roles: [String], extra: [(String, JSONValue)]) {
        self.subject = subject
        self.scope = scope
        self.roles = roles
        self.extra = extra.filter { !Self.reservedClaims.contains($0.0) }
    }
}

/// A refresh token: 16 bytes of lookup id and 32 bytes of secret, base64url (64 characters).
/// The store sees only SHA-256 of the lookup id (its key) and of the whole token.
struct RefreshToken: Sendable {
    static let lookupBytes = 16
    static let secretBytes = 32
    static let encodedLength = 64

    let text: String
    let lookupKey: Digest32
    let hash: Digest32

    /// The first token of a new family.
    static func generate() -> RefreshToken {
        RefreshToken(raw: SecureRandom.bytes(count: lookupBytes + secretBytes))
    }

    /// The token that replaces this one: the family's lookup id, a fresh secret. The store
    /// finds the family by the lookup id and tells current from used tokens by the hash.
    func successor() -> RefreshToken {
        RefreshToken(raw: Array(lookupID) + SecureRandom.bytes(count: Self.secretBytes))
    }

    private let lookupID: ArraySlice<UInt8>

    private init(raw: [UInt8]) {
        lookupID = raw[0..<Self.lookupBytes]
        text = Base64URL.encodeToString(raw)
        lookupKey = Digest32(bytes: SHA256.hash(Array(raw[0..<Self.lookupBytes])))!
        hash = Digest32(bytes: SHA256.hash(Array(text.utf8)))!
    }

    /// Parses a presented token; nil unless it has exactly the shape the gateway issues.
    init?(presented: String) {
        guard presented.utf8.count == Self.encodedLength,
            let raw = try? Base64URL.decode(presented), raw.count == Self.lookupBytes + Self.secretBytes
        else { return nil }
        self.init(raw: raw)
    }

    /// Seals the token that replaces this one, under a key only holders of this one can
    /// derive: a concurrent second presentation within the grace period gets it back.
    func seal(successor: RefreshToken) -> [UInt8] {
        (try? graceKey().seal(Array(successor.text.utf8))) ?? []
    }

    func open(graceBlob: [UInt8]) -> RefreshToken? {
        guard let plain = try? graceKey().open(graceBlob) else { return nil }
        return RefreshToken(presented: String(decoding: plain, as: UTF8.self))
    }

    private func graceKey() throws(JOSEError) -> AESGCM {
        try AESGCM(key: SHA256.hash(Array(("gateway grace v1:" + text).utf8)))
    }
}

/// Mints access tokens (RFC 9068 profile) for the gateway's own sessions.
struct TokenMinter {
    let keys: TokenKeys

    static func newID() -> String { Base64URL.encodeToString(SecureRandom.bytes(count: 16)) }

    /// Signs an access token for `identity` in family `sid`. `now` in Unix ms.
    func accessToken(for identity: LoginIdentity, sid: String, jti: String, now: Int64) throws(JOSEError) -> String {
        let s = keys.settings
        let iat = now / 1000
        var members: [(String, JSONValue)] = [
            ("iss", .string(s.issuer)),
            ("sub", .string(identity.subject)),
            ("aud", s.audience.count == 1 ? .string(s.audience[0]) : .array(s.audience.map { .string($0) })),
            ("exp", .number(Double(iat + s.accessTTL / 1000))),
            ("iat", .number(Double(iat))),
            ("nbf", .number(Double(iat))),
            ("jti", .string(jti)),
            ("sid", .string(sid)),
        ]
        if let scope = identity.scope { members.append(("scope", .string(scope))) }
        if !identity.roles.isEmpty { members.append(("roles", .array(identity.roles.map { .string($0) }))) }
        members += identity.extra
        var payload: [UInt8] = []
        JSONWriter.serialize(.object(members), to: &payload)
        return String(decoding: try keys.keySet.sign(payload: payload, typ: "at+jwt"), as: UTF8.self)
    }
}
