import EventLoop
import HTTP1

/// The proxy driver: moves bytes between the client's transport, the `UpstreamConnection`
/// and the `ProxyExchange` (which makes every protocol decision), and carries out the
/// exchange's actions. Reading, writing, timers and backpressure stay here.
extension ClientConnection: UpstreamOwner {
    // MARK: Starting

    func startProxy(_ route: Route, identity: [UInt8]) {
        var identity = identity
        if let cert = clientCertificate,
            !ClientCertificateHeaders.render(cert, names: runtime.config.identityHeaders, into: &identity)
        {
            sendError(400, "invalid_request", "The client certificate's subject cannot be forwarded")
            return
        }
        // Stored fields, not `hasBody`: a computed property of the stored head copies it.
        var request = ProxyExchange.Request(
            method: head.method, version: head.version,
            replayable: head.method.isIdempotent && !head.isChunked && head.contentLength <= 0,
            chunkedBody: head.isChunked)
        if route.config.websocket && head.hasUpgradeField {
            switch WebSocketHandshake.classify(head) {
            case .webSocket:
                request.upgrade = true
                request.webSocketAccept = WebSocketAccept.value(forKey: WebSocketHandshake.key(head) ?? [])
            case .invalidWebSocket(let error):
                // RFC 6455 §4.4: a version the server does not speak is answered with the one it does.
                let extra: [(String, String)] = error == .versionUnsupported ? [("Sec-WebSocket-Version", "13")] : []
                sendError(400, "invalid_upgrade", error.reason, extraHeaders: extra)
                return
            case .none, .otherProtocol:
                // Not a protocol the gateway tunnels: `Upgrade` is hop-by-hop, so it is dropped
                // and the request goes on as an ordinary one (what nginx does by default).
                break
            }
        }
        proxy.start(
            request,
            rewrite: ProxyExchange.Rewrite(
                requestID: requestID, removed: route.removedResponseHeaders,
                routeHeaders: route.config.setResponseHeaders, corsHeaders: corsHeaders,
                dropCORS: runtime.cors != nil))
        let target = worker.nextUpstream(route)
        exchange = ExchangeRecord(target: target)
        upstreamRequestHead.removeAll()
        RequestHeadBuilder(
            route: route, clientAddress: client.peerText, secure: transport.isLayered, requestID: requestID,
            identityBlock: identity,
            upgrade: request.upgrade, trustedPeer: client.trustedPeer, listenPort: runtime.config.listen.port
        ).write(&head, target: target, normalizedPath: worker.pathScratch, into: &upstreamRequestHead)
        phase = .proxy
        exchange.upstreamStart = now
        connectUpstream()
    }

    /// Takes a pooled connection (or opens one) and sends the head, plus whatever of the
    /// body has already arrived, in one write.
    private func connectUpstream(fresh: Bool = false) {
        guard let target = exchange.target else { return }
        var conn: UpstreamConnection? = fresh ? nil : worker.upstreamPool.take(target)
        if conn == nil {
            do {
                conn = try UpstreamConnection.connect(to: target, worker: worker)
            } catch {
                proxyFailed(.unavailable(error))
                return
            }
        }
        let up = conn!
        upstream = up
        up.owner = self
        deadline = now + (up.connecting ? limits.upstreamConnectTimeout : upstreamWaitTimeout)
        up.queue(upstreamRequestHead.bytes)
        if server.bodyWanted(buffered: input?.readableCount ?? 0) {
            // The gateway handles Expect itself (the header is not forwarded): the route and
            // policy accepted the request, so the client may send its body.
            queueStatic("HTTP/1.1 100 Continue\r\n\r\n")
            flushOutput()
        }
        pumpRequestBody()
    }

    private var upstreamWaitTimeout: Int64 { route?.config.upstreamTimeout ?? limits.upstreamResponseTimeout }

    func proxyDrive() {
        pumpRequestBody()
        if phase == .proxy { relayResponse() }
    }

    // MARK: Request body, client → upstream

    private func pumpRequestBody() {
        guard phase == .proxy, let up = upstream else { return }
        while !server.requestComplete {
            if up.pendingOutput > ClientConnection.highWater {
                // Flush before giving up: events are edge-triggered, so stopping while the
                // upstream socket could still take bytes would wait for an edge that never comes.
                do {
                    try up.flush()
                } catch {
                    upstreamFailed(up, error)
                    return
                }
                if up.pendingOutput > ClientConnection.highWater { break }
            }
            if let input, input.readableCount > 0 {
                if !forwardRequestBody(from: input, to: up) { return }
                continue
            }
            guard readable else { break }
            if input == nil { input = worker.loop.buffers.take() }
            do {
                switch try input!.read(from: transport, max: 65536) {
                case .processed(0):
                    // The client gave up in the middle of its body.
                    _ = server.inputEnded()
                    abort()
                    return
                case .processed:
                    deadline = now + limits.clientBodyTimeout
                case .wouldBlock:
                    readable = false
                }
            } catch {
                abort()
                return
            }
        }
        if server.requestComplete && up.pendingOutput <= ClientConnection.highWater {
            up.flushAtTurnEnd()
        } else {
            do {
                try up.flush()
            } catch {
                upstreamFailed(up, error)
                return
            }
        }
        if server.requestComplete && deadline < now + upstreamWaitTimeout && !proxy.responseHeadSent {
            deadline = now + upstreamWaitTimeout
        }
    }

    /// Passes body bytes from the client's buffer through the exchange to the upstream's
    /// output. Returns false if the exchange ended.
    private func forwardRequestBody(from input: IOBuffer, to up: UpstreamConnection) -> Bool {
        while !server.requestComplete && input.readableCount > 0 {
            let (consumed, event) = server.next(input.readableBytes, into: &head)
            switch event {
            case .body(let range):
                proxy.requestBody(UnsafeRawBufferPointer(rebasing: input.readableBytes[range]), to: up)
                input.consume(consumed)
                if !head.isChunked { return true }
            case .bodyEnd:
                input.consume(consumed)
                proxy.requestBodyEnd(to: up)
                return true
            case .needInput:
                input.consume(consumed)
                return true
            case .head, .paused:
                return true
            case .error(let error):
                carryOut(proxy.requestBodyFailed(error), up)
                return false
            }
        }
        return true
    }

    // MARK: Response, upstream → client

    private func relayResponse() {
        guard phase == .proxy, let up = upstream else { return }
        while phase == .proxy {
            if pendingOutput > ClientConnection.highWater { break }
            if let buf = up.input, buf.readableCount > 0 {
                let (consumed, action) = proxy.upstreamBytes(buf.readableBytes, scratch: &worker.headScratch, to: self)
                buf.consume(consumed)
                if action != .readMore {
                    carryOut(action, up)
                    return
                }
                if writeFailed {
                    abort()
                    return
                }
                // The head is incomplete, or the buffer was relayed: read more.
            }
            guard up.readable else { break }
            do {
                switch try up.read() {
                case .processed(0):
                    carryOut(proxy.upstreamEOF(reused: up.reused, to: self), up)
                    return
                case .processed:
                    deadline = now + upstreamWaitTimeout
                case .wouldBlock:
                    break
                }
            } catch {
                upstreamFailed(up, error)
                return
            }
        }
        if phase == .proxy { flushOutput() }
    }

    /// Carries out what the exchange decided.
    private func carryOut(_ action: ProxyAction, _ up: UpstreamConnection?) {
        switch action {
        case .readMore:
            break
        case .complete:
            if let up { responseComplete(up) }
        case .tunnel:
            if let up { startTunnel(up) }
        case .retry:
            if let up {
                if upstream === up { upstream = nil }
                up.close()
            }
            connectUpstream(fresh: true)
        case .fail(let failure):
            proxyFailed(failure)
        case .abort:
            abort()
        }
    }

    /// The answer is complete: keep the upstream connection if it can serve another.
    private func responseComplete(_ up: UpstreamConnection) {
        let leftover = up.input?.readableCount ?? 0
        var refusal = proxy.reuseRefusal(
            requestBodyDone: server.requestComplete, leftoverBytes: leftover, unsentBytes: up.pendingOutput)
        if refusal == nil && up.readable {
            // A last read that filled the buffer may have left bytes in the socket, past the
            // answer's end, with no new edge to report them: look before pooling.
            refusal = proxy.reuseRefusal(
                requestBodyDone: server.requestComplete, leftoverBytes: leftover, unsentBytes: up.pendingOutput,
                pending: up.pendingInput())
        }
        upstream = nil
        if refusal == nil {
            worker.upstreamPool.give(up, now: now)
        } else {
            up.readable = false
            up.close()
        }
        phase = .respond
        flushOutput()
        if phase == .respond && pendingOutput == 0 { finishExchange() }
    }

    // MARK: Upstream events

    func upstreamConnected(_ up: UpstreamConnection) {
        guard up === upstream else { return }
        deadline = now + upstreamWaitTimeout
    }

    func upstreamReadable(_ up: UpstreamConnection) {
        guard up === upstream else { return }
        if phase == .tunnel {
            tunnelDrive()
        } else {
            relayResponse()
        }
    }

    func upstreamWritable(_ up: UpstreamConnection) {
        guard up === upstream else { return }
        if phase == .tunnel {
            tunnelDrive()
        } else {
            pumpRequestBody()
        }
    }

    func upstreamFailed(_ up: UpstreamConnection, _ failure: UpstreamFailure) {
        guard up === upstream, phase == .proxy || phase == .tunnel else { return }
        upstream = nil
        up.close()
        if phase == .tunnel {
            close()
            return
        }
        carryOut(proxy.upstreamFailed(failure, reused: up.reused), up)
    }

    /// Resumes relaying once the client has taken what was queued.
    func upstreamMayResume() {
        guard let up = upstream else { return }
        if phase == .tunnel {
            tunnelDrive()
        } else if phase == .proxy && (up.readable || (up.input?.readableCount ?? 0) > 0) {
            relayResponse()
        }
    }

    /// Answers for an upstream that did not: nothing of the response went out yet.
    private func proxyFailed(_ failure: ProxyFailure) {
        dropUpstream()
        switch failure {
        case .unavailable(let reason):
            worker.upstreamUnavailable(exchange.target, reason)
            if case .tls(let why) = reason, let target = exchange.target {
                // The operator needs the reason (wrong CA, name mismatch); the client gets a plain 502.
                Logger(level: runtime.config.log.level).warning("TLS to upstream \(target) failed: \(why)")
            }
            sendError(failure.status, failure.status == 504 ? "upstream_timeout" : "bad_gateway", failure.description)
        case .responseTimeout:
            worker.upstreamEvent(exchange.target, .timedOut)
            sendError(504, "upstream_timeout", failure.description)
        case .requestBodyTimeout:
            sendError(408, "request_timeout", failure.description, forceClose: true)
        case .requestBody(let error):
            refuse(error)
        case .malformedResponse, .closedWithoutAnswer, .unaskedSwitch, .badSwitch:
            sendError(502, "bad_gateway", failure.description)
        }
    }

    func proxyTimedOut() {
        carryOut(
            proxy.timedOut(
                connecting: upstream?.connecting ?? false, requestComplete: server.requestComplete,
                upstreamBackedUp: (upstream?.pendingOutput ?? 0) > ClientConnection.highWater),
            upstream)
    }

    /// Closes the upstream connection of an exchange that will not complete.
    func dropUpstream() {
        if let up = upstream {
            upstream = nil
            up.close()
        }
    }

    func proxyAbandon() {
        if phase == .tunnel { worker.tunnels.remove(self) }
        dropUpstream()
    }
}

/// The client side of a proxied exchange: the response goes into the connection's output.
extension ClientConnection: ExchangeResponseSink {
    func responseStarting(status: Int) -> Bool {
        exchange.status = status
        worker.upstreamEvent(exchange.target, .responded)
        exchange.upstreamMillis = now - exchange.upstreamStart
        return server.responseStarted()
    }

    func responseHead(_ bytes: UnsafeRawBufferPointer, closeAfter: Bool) {
        if closeAfter { keepAlive = false }
        queue(bytes)
    }

    func responseBodyPart(_ bytes: UnsafeRawBufferPointer) {
        queue(bytes)
    }

    func responseEnd() {}
}
