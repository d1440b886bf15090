import EventLoop

/// After a 101 answer to an allowed WebSocket upgrade, bytes flow both ways unchanged,
/// with the same backpressure as bodies. A half-close on one side is passed on; the
/// tunnel ends when both sides have closed, or when the token that opened it is revoked
/// or expires (`TunnelIndex`).
extension ClientConnection {
    func startTunnel(_ up: UpstreamConnection) {
        if let grant {
            // The grant was checked when the request arrived; a revocation applied while the
            // upstream answered must not be outlived.
            let wallNow = WallClock.millis()
            let closesAt = tunnelClosesAt(grant)
            let revoked = worker.revocations.isRevoked(sid: grant.sid, jti: grant.jti, now: wallNow)
            if revoked || (closesAt ?? .max) <= wallNow {
                refuseUpgrade(revoked: revoked)
                return
            }
            worker.tunnels.add(self, sid: grant.sid, jti: grant.jti, closesAt: closesAt)
        }
        exchange.status = 101
        exchange.responseHeadDone = true
        worker.headScratch.removeAll()
        _ = ResponseHeadBuilder(
            response: responseHead, requestMethod: head.method, clientVersion: head.version, keepAlive: false,
            requestID: requestID, removed: route?.removedResponseHeaders ?? HeaderNameSet([]),
            setHeaders: route?.config.setResponseHeaders ?? [], upgrade: true
        ).write(into: &worker.headScratch)
        queue(worker.headScratch.bytes)
        phase = .tunnel
        keepAlive = false
        deadline = now + limits.idleTimeout
        tunnelDrive()
    }

    /// When a tunnel opened with `grant` closes: at its `exp` plus the token leeway, unless
    /// the route keeps tunnels open past expiry (revocation still closes them).
    private func tunnelClosesAt(_ grant: AccessGrant) -> Int64? {
        guard route?.config.websocketCloseAtExpiry ?? true, let exp = grant.expiresAt else { return nil }
        return saturatingSum(exp, runtime.config.tokens?.leeway ?? 30_000)
    }

    /// The token that opened the upgrade lost its authority before the switch: the client
    /// is told so, and the upstream connection (already switched) is closed.
    private func refuseUpgrade(revoked: Bool) {
        dropUpstream()
        authFailure = revoked ? "revoked" : "expired"
        let realm = runtime.auth?.realm ?? ""
        sendLocal(revoked ? AuthAnswers.revoked(realm: realm) : AuthAnswers.invalidToken(realm: realm, .expired))
    }

    /// Ends a tunnel whose authority ended (revoked or expired). The bytes are the
    /// application's own framing, so nothing can be said in-band: both sides are closed.
    func endTunnel() {
        guard phase == .tunnel else { return }
        close()
    }

    func tunnelDrive() {
        guard phase == .tunnel, let up = upstream else { return }
        var progress = true
        while progress && phase == .tunnel {
            progress = false
            // Client → upstream.
            if !tunnelClientDone && up.pendingOutput <= ClientConnection.highWater {
                if let input, input.readableCount > 0 {
                    up.queue(input.readableBytes)
                    input.consume(input.readableCount)
                    progress = true
                } else if readable {
                    if input == nil { input = worker.loop.buffers.take() }
                    do {
                        switch try input!.read(from: transport, max: 65536) {
                        case .processed(0):
                            tunnelClientDone = true
                            try? up.flush()
                            up.shutdownWrite()
                        case .processed:
                            progress = true
                        case .wouldBlock:
                            readable = false
                        }
                    } catch {
                        close()
                        return
                    }
                }
                do {
                    try up.flush()
                } catch {
                    close()
                    return
                }
            }
            // Upstream → client.
            if !tunnelUpstreamDone && pendingOutput <= ClientConnection.highWater {
                if let buf = up.input, buf.readableCount > 0 {
                    queue(buf.readableBytes)
                    buf.consume(buf.readableCount)
                    progress = true
                } else if up.readable {
                    do {
                        switch try up.read() {
                        case .processed(0):
                            tunnelUpstreamDone = true
                            up.readable = false
                        case .processed:
                            progress = true
                        case .wouldBlock:
                            break
                        }
                    } catch {
                        close()
                        return
                    }
                }
                guard flushOutput() else { return }
                if tunnelUpstreamDone && pendingOutput == 0 && !tunnelShutClient {
                    tunnelShutClient = true
                    _ = try? transport.shutdownWrite()
                }
            }
            if progress { deadline = now + limits.idleTimeout }
        }
        if tunnelClientDone && tunnelUpstreamDone && pendingOutput == 0 { close() }
    }
}
