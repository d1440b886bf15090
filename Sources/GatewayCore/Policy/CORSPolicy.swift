/// CORS for configured origins (Fetch standard §3.2): the gateway answers preflights itself
/// and adds the response headers to everything it sends an allowed origin.
struct CORSPolicy: Sendable {
    let settings: CORSSettings

    private var allowsAny: Bool { settings.origins.contains("*") }

    func allows(_ origin: String) -> Bool {
        allowsAny || settings.origins.contains(origin)
    }

    /// Headers for an actual (non-preflight) response to `origin`; empty if not allowed.
    func responseHeaders(origin: String) -> [(String, String)] {
        guard allows(origin) else { return [("Vary", "Origin")] }
        var h: [(String, String)] = []
        if allowsAny && !settings.allowCredentials {
            h.append(("Access-Control-Allow-Origin", "*"))
        } else {
            h.append(("Access-Control-Allow-Origin", origin))
            h.append(("Vary", "Origin"))
        }
        if settings.allowCredentials { h.append(("Access-Control-Allow-Credentials", "true")) }
        if !settings.exposeHeaders.isEmpty {
            h.append(("Access-Control-Expose-Headers", settings.exposeHeaders.joined(separator: ", ")))
        }
        return h
    }

    /// The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`).
    func preflight(origin: String, method: String, requestHeaders: String?) -> LocalResponse {
        let vary = ("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
        guard allows(origin) else {
            return .error(403, "cors_forbidden", "This origin is not allowed", headers: [vary])
        }
        guard settings.allowMethods.contains(method) || ["GET", "HEAD", "POST"].contains(method) else {
            return .error(
                403, "cors_forbidden", "This method is not allowed for cross-origin requests", headers: [vary])
        }
        if let requested = requestHeaders {
            let allowed = Set(settings.allowHeaders.map { $0.lowercased() })
            for name in requested.split(separator: ",") {
                let n = String(name).trimmed.lowercased()
                if !n.isEmpty && !allowed.contains(n) {
                    return .error(403, "cors_forbidden", "Request header \(n) is not allowed", headers: [vary])
                }
            }
        }
        var h = responseHeaders(origin: origin).filter { $0.0 != "Vary" }
        h.append(("Access-Control-Allow-Methods", settings.allowMethods.joined(separator: ", ")))
        if !settings.allowHeaders.isEmpty {
            h.append(("Access-Control-Allow-Headers", settings.allowHeaders.joined(separator: ", ")))
        }
        h.append(("Access-Control-Max-Age", "\(settings.maxAge / 1000)"))
        h.append(vary)
        return LocalResponse(status: 204, headers: h)
    }
}
