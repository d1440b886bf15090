import JOSE

/// `routes[].machine_tokens`: whether a route takes users' tokens, machines' tokens or both.
enum MachineTokenPolicy {
    /// A client-credentials token (RFC 9068 §2.2): it names its client and belongs to no
    /// session. Tokens the gateway mints at login never carry `client_id`.
    static func isMachine(_ claims: Claims) -> Bool {
        claims.kind(of: "client_id") == .string && claims.sid == nil
    }

    /// The 403 for a token of the wrong kind, or nil; sets `failure` for the access log.
    static func check(_ route: RouteConfig, _ grant: AccessGrant, realm: String, failure: inout String?)
        -> LocalResponse?
    {
        let d: String
        switch (route.machineTokens, grant.machine) {
        case (.require, false): d = "This route takes only client-credentials tokens"
        case (.refuse, true): d = "This route takes only users' tokens"
        default: return nil
        }
        failure = "token_kind"
        return .error(
            403, "insufficient_scope", d,
            headers: [("WWW-Authenticate", AuthAnswers.challenge(realm, "insufficient_scope", d))])
    }
}
