import JOSE

/// The RFC 6750 §3 answers of protected routes (SPEC §3, §8), with JSON bodies.
enum AuthAnswers {
    /// No credentials: a challenge without an error code.
    static func unauthorized(realm: String) -> LocalResponse {
        .error(
            401, "unauthorized", "Authentication is required",
            headers: [("WWW-Authenticate", "Bearer realm=\"\(realm)\"")])
    }

    /// A malformed `Authorization` header: 400 `invalid_request`.
    static func invalidRequest(realm: String, _ description: String) -> LocalResponse {
        .error(
            400, "invalid_request", description,
            headers: [("WWW-Authenticate", challenge(realm, "invalid_request", description))])
    }

    /// Expired, badly signed, wrong issuer/audience/type, or malformed token: 401 `invalid_token`.
    static func invalidToken(realm: String, _ error: JOSEError) -> LocalResponse {
        let description: String
        switch error {
        case .expired: description = "The access token expired"
        case .notYetValid: description = "The access token is not valid yet"
        default: description = "The access token is invalid"
        }
        return .error(
            401, "invalid_token", error == .expired ? description : "\(description): \(error)",
            headers: [("WWW-Authenticate", challenge(realm, "invalid_token", description))])
    }

    static func revoked(realm: String) -> LocalResponse {
        let d = "The access token was revoked"
        return .error(401, "invalid_token", d, headers: [("WWW-Authenticate", challenge(realm, "invalid_token", d))])
    }

    /// A claim that cannot be forwarded as a header: the token is unusable here.
    static func unforwardable(realm: String, claim: String) -> LocalResponse {
        let d = "The access token carries a claim that cannot be forwarded"
        return .error(
            401, "invalid_token", "\(d) (\(claim))",
            headers: [("WWW-Authenticate", challenge(realm, "invalid_token", d))])
    }

    /// 403 `insufficient_scope` when the token lacks a required scope or every allowed role.
    static func insufficient(
        _ route: RouteConfig, scopes granted: [String], roles held: [String],
        realm: String
    ) -> LocalResponse? {
        var description: String?
        if !route.scopes.isEmpty && !route.scopes.allSatisfy({ granted.contains($0) }) {
            description = "The access token lacks a required scope"
        }
        if description == nil && !route.roles.isEmpty && !route.roles.contains(where: { held.contains($0) }) {
            description = "The access token lacks a required role"
        }
        guard let description else { return nil }
        var header = challenge(realm, "insufficient_scope", description)
        if !route.scopes.isEmpty { header += ", scope=\"\(route.scopes.joined(separator: " "))\"" }
        return .error(403, "insufficient_scope", description, headers: [("WWW-Authenticate", header)])
    }

    static func challenge(_ realm: String, _ error: String, _ description: String) -> String {
        "Bearer realm=\"\(realm)\", error=\"\(error)\", error_description=\"\(description)\""
    }
}
