import EventLoop
import HTTP1

/// Per-exchange proxy state, reset for each request.
struct ProxyExchangeState {
    enum Body {
        case none
        case length(remaining: Int64)
        case chunked(ChunkedDecoder)
        case untilClose
    }
    var target: UpstreamURL?
    var attempts = 0
    /// A WebSocket handshake the route passes through, and the accept value its 101 must carry.
    var upgrade = false
    var webSocketAccept: [UInt8] = []
    var requestBodySent = false
    /// Any byte of the answer has arrived: no retry any more.
    var responseBytesSeen = false
    var responseHeadDone = false
    var responseBody: Body = .none
    var clientFraming: ClientFraming = .asIs
    var status = 0
    /// When the request was handed to the upstream, and how long its response head took (ms).
    var upstreamStart: Int64 = 0
    var upstreamMillis: Int64?
}

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
        exchange = ProxyExchangeState()
        if route.config.websocket && head.hasUpgradeField {
            switch WebSocketHandshake.classify(head) {
            case .webSocket:
                exchange.upgrade = true
                exchange.webSocketAccept = WebSocketAccept.value(forKey: WebSocketHandshake.key(head) ?? [])
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
        let target = worker.nextUpstream(route)
        exchange.target = target
        upstreamRequestHead.removeAll()
        RequestHeadBuilder(
            head: head, route: route, target: target, dropped: route.droppedRequestHeaders,
            clientAddress: client.peerText, secure: transport.isLayered, requestID: requestID,
            identityBlock: identity,
            upgrade: exchange.upgrade, trustedPeer: client.trustedPeer, listenPort: runtime.config.listen.port
        ).write(normalizedPath: worker.pathScratch, into: &upstreamRequestHead)
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
                upstreamUnavailable(error)
                return
            }
        }
        let up = conn!
        upstream = up
        up.owner = self
        exchange.attempts += 1
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
        do {
            try up.flush()
        } catch {
            upstreamFailed(up, error)
            return
        }
        if server.requestComplete && deadline < now + upstreamWaitTimeout && exchange.responseHeadDone == false {
            deadline = now + upstreamWaitTimeout
        }
    }

    /// Moves body bytes from the client's buffer into the upstream's output. Returns false
    /// if the exchange ended.
    private func forwardRequestBody(from input: IOBuffer, to up: UpstreamConnection) -> Bool {
        while !server.requestComplete && input.readableCount > 0 {
            let (consumed, event) = server.next(input.readableBytes, into: &head)
            switch event {
            case .body(let range):
                let bytes = UnsafeRawBufferPointer(rebasing: input.readableBytes[range])
                if head.isChunked {
                    // Re-framed: the gateway's own chunk sizes, no extensions, no trailers.
                    up.queueChunkHeader(range.count)
                    up.queue(bytes)
                    up.queueStatic("\r\n")
                } else {
                    up.queue(bytes)
                }
                input.consume(consumed)
                exchange.requestBodySent = true
                if !head.isChunked { return true }
            case .bodyEnd:
                input.consume(consumed)
                if head.isChunked { up.queueStatic("0\r\n\r\n") }
                return true
            case .needInput:
                input.consume(consumed)
                return true
            case .head, .paused:
                return true
            case .error(.bodyTooLarge):
                tooLarge()
                return false
            case .error(let error):
                if exchange.responseHeadDone {
                    abort()
                } else {
                    dropUpstream()
                    refuse(error)
                }
                return false
            }
        }
        return true
    }

    private func tooLarge() {
        if exchange.responseHeadDone {
            abort()
        } else {
            dropUpstream()
            sendError(413, "payload_too_large", "The request body is larger than this route accepts", forceClose: true)
        }
    }

    // MARK: Response, upstream → client

    private func relayResponse() {
        guard phase == .proxy, let up = upstream else { return }
        while phase == .proxy {
            if pendingOutput > ClientConnection.highWater { break }
            if let buf = up.input, buf.readableCount > 0 {
                if !exchange.responseHeadDone {
                    // nil: the exchange ended; true: head taken, relay what follows it;
                    // false: the head is incomplete, read more.
                    guard let headTaken = takeResponseHead(up, buf) else { return }
                    if headTaken { continue }
                } else {
                    if relayBody(up, buf) { return }
                    continue
                }
            }
            guard up.readable else { break }
            do {
                switch try up.read() {
                case .processed(0):
                    upstreamEOF(up)
                    return
                case .processed:
                    exchange.responseBytesSeen = true
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

    /// Parses the upstream's head once complete. Returns nil if the exchange ended, false if
    /// more bytes are needed, true to go on with the body.
    private func takeResponseHead(_ up: UpstreamConnection, _ buf: IOBuffer) -> Bool? {
        let end: Int?
        do {
            end = try responseScanner.scan(
                buf.readableBytes, limits: HTTPLimits(maxRequestLine: 8192, maxHeaderBytes: 65536))
            if let end {
                try ResponseHeadParser.parse(
                    UnsafeRawBufferPointer(rebasing: buf.readableBytes[..<end]), skip: responseScanner.skipped,
                    limits: HTTPLimits(maxRequestLine: 8192, maxHeaderBytes: 65536, maxHeaderCount: 200),
                    into: &responseHead)
            }
        } catch {
            badGateway("The upstream sent a malformed response")
            return nil
        }
        guard let end else { return false }  // incomplete: leave it buffered, read more
        buf.consume(end)
        responseScanner.reset()
        if responseHead.isInformational {
            if responseHead.status == 101 {
                // A switch nobody asked for (or to something else) would turn the client's
                // connection into a raw pipe to the upstream.
                guard exchange.upgrade else {
                    badGateway("The upstream switched protocols without being asked to")
                    return nil
                }
                guard WebSocketHandshake.answerSwitches(responseHead, accept: exchange.webSocketAccept) else {
                    badGateway("The upstream's 101 answer is not a WebSocket handshake answer")
                    return nil
                }
                startTunnel(up)
                return nil
            }
            // 100/103 answers are the gateway's business (it handled Expect): skip them.
            return true
        }
        exchange.status = responseHead.status
        exchange.responseHeadDone = true
        worker.upstreamEvent(exchange.target, .responded)
        exchange.upstreamMillis = now - exchange.upstreamStart
        // A request body still arriving cannot be told from the next request: close after.
        let keepAlive = server.responseStarted()
        worker.headScratch.removeAll()
        exchange.clientFraming = ResponseHeadBuilder(
            response: responseHead, requestMethod: head.method, clientVersion: head.version, keepAlive: keepAlive,
            requestID: requestID, removed: route?.removedResponseHeaders ?? HeaderNameSet([]),
            setHeaders: (route?.config.setResponseHeaders ?? []) + corsHeaders, upgrade: false,
            dropCORS: runtime.cors != nil
        ).write(into: &worker.headScratch)
        if exchange.clientFraming == .untilClose { self.keepAlive = false }
        queue(worker.headScratch.bytes)
        switch responseHead.framing(requestMethod: head.method) {
        case .none:
            responseComplete(up)
            return nil
        case .length(let n):
            exchange.responseBody = .length(remaining: n)
        case .chunked:
            exchange.responseBody = .chunked(ChunkedDecoder())
        case .untilClose:
            exchange.responseBody = .untilClose
        }
        return true
    }

    /// Relays body bytes; returns true if the exchange ended (or the client closed).
    private func relayBody(_ up: UpstreamConnection, _ buf: IOBuffer) -> Bool {
        switch exchange.responseBody {
        case .length(let remaining):
            let n = Int(min(remaining, Int64(buf.readableCount)))
            queue(UnsafeRawBufferPointer(rebasing: buf.readableBytes[..<n]))
            buf.consume(n)
            if remaining - Int64(n) == 0 {
                responseComplete(up)
                return true
            }
            exchange.responseBody = .length(remaining: remaining - Int64(n))
        case .chunked(var decoder):
            while buf.readableCount > 0 {
                let r: (consumed: Int, step: ChunkedDecoder.Step)
                do {
                    r = try decoder.decode(buf.readableBytes)
                } catch {
                    // Mid-body: the client can only learn of it by the connection closing.
                    abort()
                    return true
                }
                switch r.step {
                case .data(let range):
                    if exchange.clientFraming == .chunked {
                        queueChunkHeader(range.count)
                        queue(UnsafeRawBufferPointer(rebasing: buf.readableBytes[range]))
                        queueStatic("\r\n")
                    } else {
                        queue(UnsafeRawBufferPointer(rebasing: buf.readableBytes[range]))
                    }
                case .end:
                    buf.consume(r.consumed)
                    if exchange.clientFraming == .chunked { queueStatic("0\r\n\r\n") }
                    responseComplete(up)
                    return true
                case .needMore:
                    break
                }
                buf.consume(r.consumed)
                if pendingOutput > ClientConnection.highWater { break }
            }
            exchange.responseBody = .chunked(decoder)
        case .untilClose:
            if exchange.clientFraming == .chunked {
                queueChunkHeader(buf.readableCount)
                queue(buf.readableBytes)
                queueStatic("\r\n")
            } else {
                queue(buf.readableBytes)
            }
            buf.consume(buf.readableCount)
        case .none:
            responseComplete(up)
            return true
        }
        if writeFailed {
            abort()
            return true
        }
        return false
    }

    private func upstreamEOF(_ up: UpstreamConnection) {
        if !exchange.responseHeadDone {
            if !exchange.responseBytesSeen && canRetry(up) {
                retry(up)
            } else {
                badGateway("The upstream closed the connection without answering")
            }
            return
        }
        if case .untilClose = exchange.responseBody {
            if exchange.clientFraming == .chunked { queueStatic("0\r\n\r\n") }
            up.readable = false
            responseComplete(up, reusable: false)
        } else {
            // Truncated body: the client must not mistake it for a complete one.
            abort()
        }
    }

    /// The answer is complete: keep the upstream connection if it can serve another.
    private func responseComplete(_ up: UpstreamConnection, reusable: Bool = true) {
        // A last read that filled the buffer may have left bytes in the socket, past the
        // answer's end, with no new edge to report them: look before pooling.
        let pending: Syscall.Pending = reusable && up.readable ? up.pendingInput() : .nothing
        let refusal = UpstreamReuse.refusal(
            UpstreamReuse.AnswerEnd(
                upstreamKeepAlive: responseHead.keepAlive, closeDelimited: !reusable,
                requestBodyDone: server.requestComplete, upgraded: exchange.upgrade,
                leftoverBytes: up.input?.readableCount ?? 0, unsentBytes: up.pendingOutput, pending: pending))
        upstream = nil
        if refusal == nil {
            worker.upstreamPool.give(up, now: now)
        } else {
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
        if !exchange.responseBytesSeen && canRetry(up) {
            retry(up)
            return
        }
        if exchange.responseHeadDone {
            abort()
        } else {
            upstreamUnavailable(failure)
        }
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

    /// One retry, on a fresh connection, of an idempotent request without a body whose
    /// pooled connection failed before any byte of the answer (SPEC §3).
    private func canRetry(_ up: UpstreamConnection) -> Bool {
        up.reused && exchange.attempts == 1 && head.method.isIdempotent && !exchange.requestBodySent
            && !head.hasBody
    }

    private func retry(_ up: UpstreamConnection) {
        if upstream === up { upstream = nil }
        up.close()
        connectUpstream(fresh: true)
    }

    private func upstreamUnavailable(_ failure: UpstreamFailure) {
        worker.upstreamUnavailable(exchange.target, failure)
        if case .tls(let reason) = failure, let target = exchange.target {
            // The operator needs the reason (wrong CA, name mismatch); the client gets a plain 502.
            Logger(level: runtime.config.log.level).warning("TLS to upstream \(target) failed: \(reason)")
        }
        dropUpstream()
        switch failure {
        case .connectTimedOut:
            sendError(504, "upstream_timeout", "The upstream did not accept the connection in time")
        default:
            sendError(502, "bad_gateway", "The upstream is unavailable")
        }
    }

    private func badGateway(_ description: String) {
        dropUpstream()
        if exchange.responseHeadDone {
            abort()
        } else {
            sendError(502, "bad_gateway", description)
        }
    }

    func proxyTimedOut() {
        if let up = upstream, up.connecting {
            upstreamUnavailable(.connectTimedOut)
            return
        }
        if !server.requestComplete && (upstream?.pendingOutput ?? 0) <= ClientConnection.highWater {
            dropUpstream()
            sendError(408, "request_timeout", "The request body was not received in time", forceClose: true)
            return
        }
        if exchange.responseHeadDone {
            abort()
            return
        }
        dropUpstream()
        worker.upstreamEvent(exchange.target, .timedOut)
        sendError(504, "upstream_timeout", "The upstream did not answer in time")
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
