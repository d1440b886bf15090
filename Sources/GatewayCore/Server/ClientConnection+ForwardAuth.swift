import HTTP1

extension ClientConnection {
    /// Answers an ingress controller's auth subrequest on `auth.verify_path` (nginx
    /// `auth_request`, Traefik ForwardAuth, Caddy `forward_auth`, Envoy `ext_authz`): the
    /// route of the request it asks about is chosen as for a proxied request, and that
    /// route's policy (`authorize`) answers: `200` with the identity headers, or the very
    /// `401`/`403` the gateway would send itself. Returns false when the path is another.
    func forwardAuthIfAsked() -> Bool {
        guard let verifyPath = runtime.config.auth.verifyPath else { return false }
        let verify = verifyPath.utf8
        let p = worker.pathScratch
        var suffix: ArraySlice<UInt8>?
        if p.count > verify.count {
            guard p.starts(with: verify), p[verify.count] == UInt8(ascii: "/") else { return false }
            suffix = p[verify.count...]
        } else if !p.elementsEqual(verify) {
            return false
        }
        routeLabel = verifyPath
        guard client.trustedPeer else {
            worker.context.edge.count(.forwardAuthUntrusted)
            authFailure = "untrusted_forward_auth"
            sendError(403, "forbidden", "Forward-auth requests are accepted only from trusted proxies")
            return true
        }
        let target: ForwardAuthTarget
        switch ForwardAuthTarget.read(head, suffix: suffix, path: &worker.pathScratch) {
        case .success(let t): target = t
        case .failure(let problem):
            sendError(400, "invalid_request", ForwardAuthAnswers.describe(problem))
            return true
        }
        let match = worker.pathScratch.withUnsafeBytes { path in
            target.host.withUnsafeBytes { host in runtime.routes.match(path: path, host: host, method: target.method) }
        }
        switch match {
        case .notFound, .methodNotAllowed:
            // Fail closed: what no route serves, no token opens.
            authFailure = "no_route"
            sendError(403, "forbidden", "No route matches the forwarded request")
        case .route(let r):
            route = r
            switch authorize(r) {
            case .allow(let identity):
                sendLocal(ForwardAuthAnswers.allowed(identity))
            case .deny(let response):
                sendLocal(response)
            }
        }
        return true
    }
}
