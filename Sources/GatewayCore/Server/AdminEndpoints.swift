import HTTP1

/// The admin listener's paths (SPEC §3): liveness, readiness and Prometheus metrics. Served
/// on their own port (loopback by default), never on the public listener.
enum AdminEndpoints {
    static func handlers(context: ServerContext, hasTokens: Bool) -> [([UInt8], LocalHandler)] {
        [
            (Array("/healthz".utf8), HealthHandler()),
            (Array("/readyz".utf8), ReadyHandler(context: context, hasTokens: hasTokens)),
            (Array("/metrics".utf8), MetricsHandler(context: context)),
        ]
    }
}

/// `/healthz`: the process serves requests.
struct HealthHandler: LocalHandler {
    var maxBodyBytes: Int { 0 }
    func handle(_ request: LocalRequest, respond: LocalResponder) {
        respond.respond(.json(200, Array("{\"status\":\"ok\"}".utf8)))
    }
}

/// `/readyz`: keys loaded, store reachable, not draining; 503 with the reason otherwise.
struct ReadyHandler: LocalHandler {
    let context: ServerContext
    let hasTokens: Bool
    var maxBodyBytes: Int { 0 }

    func handle(_ request: LocalRequest, respond: LocalResponder) {
        var reason: String?
        if context.draining {
            reason = "draining"
        } else if hasTokens, let store = context.services?.store, !store.isAvailable {
            reason = "token store unavailable"
        } else if hasTokens, let issuer = context.issuers.notReady {
            reason = "no usable keys yet for issuer \(issuer)"
        }
        if let reason {
            var body: [UInt8] = []
            HeadWriter.append("{\"status\":\"not_ready\",\"reason\":", to: &body)
            JSONWriter.appendString(reason, to: &body)
            HeadWriter.append("}", to: &body)
            respond.respond(.json(503, body, headers: [("Retry-After", "1")]))
        } else {
            respond.respond(.json(200, Array("{\"status\":\"ready\"}".utf8)))
        }
    }
}

/// `/metrics` in the Prometheus text format; the process metrics are read from /proc here,
/// at scrape time.
struct MetricsHandler: LocalHandler {
    let context: ServerContext
    var maxBodyBytes: Int { 0 }

    func handle(_ request: LocalRequest, respond: LocalResponder) {
        let available = context.services.map { $0.store.isAvailable ? 1 : 0 } ?? 1
        var body = context.metrics.render(
            gauges: [
                ("gateway_open_connections", "Open client connections on the public listener.", context.limiter.open),
                (
                    "gateway_open_admin_connections", "Open connections on the admin listener.",
                    context.adminLimiter.open
                ),
                (
                    "gateway_revocations_in_force", "Revoked sessions and tokens remembered in memory.",
                    context.hub.count
                ),
                ("gateway_store_available", "1 when the token store accepts writes.", available),
            ],
            counters: [
                (
                    "gateway_access_log_dropped_total", "Access-log lines dropped because stdout stalled.",
                    context.accessLog.droppedLines
                )
            ] + context.edge.samples,
            process: ProcessMetrics.current())
        body += Array(context.issuers.metrics(now: WallClock.millis()).utf8)
        respond.respond(
            LocalResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")], body: body))
    }
}
