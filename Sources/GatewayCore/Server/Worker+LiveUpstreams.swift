import EventLoop

extension Worker {
    /// What the proxy learnt about the upstream address it used: counts towards passive
    /// health, and a connect failure asks the resolver to look the name up again soon.
    func upstreamEvent(_ target: UpstreamURL?, _ event: AddressHealth.Event) {
        guard let target else { return }
        let settings = runtime.config.edge.upstreamHealth
        let action = live.report(target, event, now: loop.now, settings: settings)
        if case .ejected = action {
            context.edge.count(.upstreamEjected)
            Logger(level: runtime.config.log.level).warning(
                "upstream \(target.address) (\(target.host)) ejected for \(ConfigReader.format(settings.ejectFor))")
        }
        if event == .connectFailed, SocketAddress(numericHost: target.host, port: target.port) == nil {
            context.upstreamWatcher.poke()
        }
    }

    /// The proxy could not use the upstream: which failures count against the address.
    func upstreamUnavailable(_ target: UpstreamURL?, _ failure: UpstreamFailure) {
        switch failure {
        case .connectFailed, .connectTimedOut: upstreamEvent(target, .connectFailed)
        case .io, .tls: break
        }
    }
}
