import EventLoop
import HTTP1

extension ClientConnection {
    // MARK: Responses the gateway makes

    /// Answers a request whose head could not be parsed: the framing cannot be trusted,
    /// so the connection closes after the answer.
    func refuse(_ error: HTTPParseError) {
        sendError(error.status, "invalid_request", error.reason, forceClose: true)
    }

    /// Answers what the server state machine refused (framing, limits).
    func refuse(_ error: HTTPServerError) {
        switch error {
        case .parse(let e):
            refuse(e)
        case .bodyTooLarge:
            sendError(413, "payload_too_large", "The request body is larger than this route accepts", forceClose: true)
        case .headerTimeout:
            sendError(408, "request_timeout", "The request head was not received in time", forceClose: true)
        case .bodyTimeout:
            sendError(408, "request_timeout", "The request body was not received in time", forceClose: true)
        }
    }

    func sendError(
        _ status: Int, _ code: String, _ description: String,
        extraHeaders: [(String, String)] = [], forceClose: Bool = false
    ) {
        sendLocal(.error(status, code, description, headers: extraHeaders, close: forceClose))
    }

    /// Writes a gateway-made response. If the request had a body the gateway did not read,
    /// the connection closes afterwards (its remaining bytes cannot be told from the next
    /// request).
    func sendLocal(_ response: LocalResponse) {
        guard phase != .closed else { return }
        dropUpstream()
        // A body not read to its end makes the state machine close after this answer.
        if response.close || phase == .linger { self.keepAlive = false }
        let keepAlive = server.responseStarted()
        exchange.status = response.status
        var out = worker.scratch
        out.removeAll(keepingCapacity: true)
        LocalAnswerWriter(
            response: response, date: worker.date.value, corsHeaders: corsHeaders, requestID: requestID,
            keepAlive: keepAlive, requestMethod: head.method, requestVersion: head.version
        ).write(into: &out)
        queue(out)
        worker.scratch = out
        phase = .respond
        deadline = now + limits.idleTimeout
        flushOutput()
        if phase == .respond && pendingOutput == 0 { finishExchange() }
    }

    // MARK: Gateway-served paths

    func localHandlerForPath() -> LocalHandler? {
        let table = runtime.localRoutes
        guard !table.isEmpty else { return nil }
        return worker.pathScratch.withUnsafeBytes { table.handler(for: $0) }
    }

    func startLocal(_ handler: LocalHandler) {
        localHandler = handler
        localBody.removeAll(keepingCapacity: true)
        if server.setBodyLimit(Int64(handler.maxBodyBytes), contentLength: head.contentLength) != nil {
            sendError(413, "invalid_request", "The request body is too large")
            return
        }
        exchange = ExchangeRecord()
        phase = .localBody
        deadline = now + limits.clientBodyTimeout
        if server.bodyWanted(buffered: input?.readableCount ?? 0) {
            queueStatic("HTTP/1.1 100 Continue\r\n\r\n")
            flushOutput()
        }
        readLocalBody()
    }

    /// Reads the (small) body of a gateway-served request, then hands it to the handler.
    func readLocalBody() {
        guard phase == .localBody, let handler = localHandler else { return }
        while !server.requestComplete {
            if let input, input.readableCount > 0 {
                let (consumed, event) = server.next(input.readableBytes, into: &head)
                switch event {
                case .body(let range):
                    localBody.append(contentsOf: UnsafeRawBufferPointer(rebasing: input.readableBytes[range]))
                    input.consume(consumed)
                    continue
                case .bodyEnd, .head, .paused:
                    input.consume(consumed)
                    continue
                case .needInput:
                    input.consume(consumed)
                case .error(.bodyTooLarge):
                    sendError(413, "invalid_request", "The request body is too large", forceClose: true)
                    return
                case .error(let error):
                    refuse(error)
                    return
                }
            }
            guard readable else { return }
            if input == nil { input = worker.loop.buffers.take() }
            do {
                switch try input!.read(from: transport, max: 16384) {
                case .processed(0):
                    _ = server.inputEnded()
                    close()
                    return
                case .processed:
                    deadline = now + limits.clientBodyTimeout
                case .wouldBlock:
                    readable = false
                }
            } catch {
                close()
                return
            }
        }
        phase = .localPending
        deadline = 0
        localGeneration += 1
        let request = LocalRequest(
            method: head.method, path: String(decoding: worker.pathScratch, as: UTF8.self), query: head.query,
            headers: head.fields.map { (head.name($0).lowercased(), head.value($0)) }, body: localBody,
            clientAddress: client.text, requestID: String(decoding: requestID, as: UTF8.self))
        handler.handle(
            request, respond: LocalResponder(connection: self, loop: worker.loop, generation: localGeneration))
    }

    /// The handler's answer. Ignored if the connection moved on (closed meanwhile).
    func finishLocal(_ response: LocalResponse, generation: Int) {
        guard phase == .localPending, generation == localGeneration else { return }
        sendLocal(response)
    }

    // MARK: Access log

    func logAccess() {
        worker.recordExchange(self)
    }
}
