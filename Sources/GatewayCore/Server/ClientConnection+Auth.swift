import HTTP1

extension ClientConnection {
    /// Runs the route's policy (`RequestPolicy`) for the current request and keeps what the
    /// access log and metrics need.
    func authorize(_ route: Route) -> AuthOutcome {
        let decision = RequestPolicy.decide(
            route, head: &head, clientAddress: client.text, runtime: runtime, worker: worker)
        if let failure = decision.failure { authFailure = failure }
        if let grant = decision.grant { self.grant = grant }
        return decision.outcome
    }
}
