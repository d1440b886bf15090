import HTTP1
import JOSE

/// What a client-credentials token will say, decided from the client's registration and
/// the request (pure): scope and audience may only be narrowed, never widened.
struct ClientGrant: Sendable, Equatable {
    var scope: String?
    var audience: [String]
    /// Milliseconds.
    var ttl: Int64

    enum Refusal: Error, Equatable {
        /// RFC 6749 §5.2 invalid_scope: a scope the client is not registered for.
        case invalidScope(String)
        /// RFC 8707 §2 invalid_target: an audience the client may not ask for.
        case invalidTarget(String)
    }

    /// `requestedScope` is the `scope` parameter; `requestedAudience` the `audience` or
    /// `resource` parameter (one value).
    static func decide(
        client: RegisteredClient, requestedScope: String?, requestedAudience: String?, tokens: TokenSettings
    ) -> Result<ClientGrant, Refusal> {
        var scopes = client.scopes
        if let requestedScope {
            let asked = requestedScope.split(separator: " ").map(String.init)
            for s in asked where !client.scopes.contains(s) {
                return .failure(.invalidScope("The client may not ask for scope \(JSONWriter.quoted(s))"))
            }
            // Order and duplicates as registered, so the same request gives the same token.
            scopes = client.scopes.filter { asked.contains($0) }
        }
        let allowed = client.audiences.isEmpty ? tokens.audience : client.audiences
        var audience = client.audiences.isEmpty ? tokens.audience : [client.audiences[0]]
        if let requestedAudience {
            guard allowed.contains(requestedAudience) else {
                return .failure(
                    .invalidTarget("The client may not ask for audience \(JSONWriter.quoted(requestedAudience))"))
            }
            audience = [requestedAudience]
        }
        return .success(
            ClientGrant(
                scope: scopes.isEmpty ? nil : scopes.joined(separator: " "), audience: audience,
                ttl: min(client.accessTTL ?? tokens.accessTTL, tokens.accessTTL)))
    }

    /// The claims of the token (RFC 9068 §2.2): `sub` and `client_id` are the client id, no `sid`
    /// (no session: nothing to refresh, revoked by `jti`).
    func payload(client: RegisteredClient, issuer: String, jti: String, now: Int64) -> [UInt8] {
        let iat = now / 1000
        var members: [(String, JSONValue)] = [
            ("iss", .string(issuer)),
            ("sub", .string(client.id)),
            ("aud", audience.count == 1 ? .string(audience[0]) : .array(audience.map { .string($0) })),
            ("exp", .number(Double(iat + ttl / 1000))),
            ("iat", .number(Double(iat))),
            ("nbf", .number(Double(iat))),
            ("jti", .string(jti)),
            ("client_id", .string(client.id)),
        ]
        if let scope { members.append(("scope", .string(scope))) }
        if !client.roles.isEmpty { members.append(("roles", .array(client.roles.map { .string($0) }))) }
        var out: [UInt8] = []
        JSONWriter.serialize(.object(members), to: &out)
        return out
    }

    /// RFC 6749 §4.4.3 / §5.1: no refresh token.
    func response(accessToken: String) -> [UInt8] {
        var body: [UInt8] = []
        HeadWriter.append("{\"access_token\":", to: &body)
        JSONWriter.appendString(accessToken, to: &body)
        HeadWriter.append(",\"token_type\":\"Bearer\",\"expires_in\":\(ttl / 1000)", to: &body)
        if let scope {
            HeadWriter.append(",\"scope\":", to: &body)
            JSONWriter.appendString(scope, to: &body)
        }
        HeadWriter.append("}", to: &body)
        return body
    }
}
