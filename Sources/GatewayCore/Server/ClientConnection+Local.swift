import EventLoop
import HTTP1

extension ClientConnection {
    // MARK: Responses the gateway makes

    /// Answers a request whose head could not be parsed: the framing cannot be trusted,
    /// so the connection closes after the answer.
    func refuse(_ error: HTTPParseError) {
        sendError(error.status, "invalid_request", error.reason, forceClose: true)
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
        let bodyUnread = (phase == .head || phase == .idle) ? head.hasBody : !exchange.requestBodyDone
        if response.close || bodyUnread || phase == .linger { keepAlive = false }
        exchange.status = response.status
        exchange.responseHeadDone = true
        var out = worker.scratch
        out.removeAll(keepingCapacity: true)
        HeadWriter.appendStatusLine(response.status, to: &out)
        HeadWriter.append("Date: ", to: &out)
        out.append(contentsOf: worker.date.value)
        HeadWriter.append("\r\n", to: &out)
        for (name, value) in response.headers + corsHeaders {
            HeadWriter.append(name, to: &out)
            HeadWriter.append(": ", to: &out)
            HeadWriter.append(value, to: &out)
            HeadWriter.append("\r\n", to: &out)
        }
        if !requestID.isEmpty {
            HeadWriter.append("X-Request-Id: ", to: &out)
            out.append(contentsOf: requestID)
            HeadWriter.append("\r\n", to: &out)
        }
        if response.status != 204 && response.status != 304 {
            HeadWriter.append("Content-Length: ", to: &out)
            HeadWriter.appendDecimal(Int64(response.body.count), to: &out)
            HeadWriter.append("\r\n", to: &out)
        }
        if !keepAlive {
            HeadWriter.append("Connection: close\r\n", to: &out)
        } else if head.version == .http10 {
            HeadWriter.append("Connection: keep-alive\r\n", to: &out)
        }
        HeadWriter.append("\r\n", to: &out)
        if head.method != .head && response.status != 204 && response.status != 304 {
            out.append(contentsOf: response.body)
        }
        queue(out)
        worker.scratch = out
        phase = .respond
        deadline = now + limits.idleTimeout
        flushOutput()
        if phase == .respond && pendingOutput == 0 { finishExchange() }
    }

    // MARK: Gateway-served paths

    func localHandlerForPath() -> LocalHandler? {
        guard !runtime.localRoutes.isEmpty else { return nil }
        for (path, handler) in runtime.localRoutes where path == worker.pathScratch {
            return handler
        }
        return nil
    }

    func startLocal(_ handler: LocalHandler) {
        localHandler = handler
        localBody.removeAll(keepingCapacity: true)
        if head.contentLength > Int64(handler.maxBodyBytes) {
            sendError(413, "invalid_request", "The request body is too large")
            return
        }
        exchange = ProxyExchangeState()
        if head.isChunked {
            exchange.requestBody = .chunked(ChunkedDecoder())
            exchange.requestBodyDone = false
        } else if head.contentLength > 0 {
            exchange.requestBody = .length(remaining: head.contentLength)
            exchange.requestBodyDone = false
        }
        phase = .localBody
        deadline = now + limits.clientBodyTimeout
        if head.expectContinue && !exchange.requestBodyDone && (input?.readableCount ?? 0) == 0 {
            queueStatic("HTTP/1.1 100 Continue\r\n\r\n")
            flushOutput()
        }
        readLocalBody()
    }

    /// Reads the (small) body of a gateway-served request, then hands it to the handler.
    func readLocalBody() {
        guard phase == .localBody, let handler = localHandler else { return }
        while !exchange.requestBodyDone {
            if let input, input.readableCount > 0 {
                switch exchange.requestBody {
                case .length(let remaining):
                    let n = Int(min(remaining, Int64(input.readableCount)))
                    localBody.append(contentsOf: UnsafeRawBufferPointer(rebasing: input.readableBytes[..<n]))
                    input.consume(n)
                    if remaining - Int64(n) == 0 {
                        exchange.requestBodyDone = true
                    } else {
                        exchange.requestBody = .length(remaining: remaining - Int64(n))
                    }
                case .chunked(var decoder):
                    do {
                        while input.readableCount > 0 {
                            let r = try decoder.decode(input.readableBytes)
                            if case .data(let range) = r.step {
                                localBody.append(
                                    contentsOf: UnsafeRawBufferPointer(rebasing: input.readableBytes[range]))
                            }
                            input.consume(r.consumed)
                            if r.step == .end {
                                exchange.requestBodyDone = true
                                break
                            }
                            if r.step == .needMore { break }
                        }
                    } catch {
                        refuse(error)
                        return
                    }
                    exchange.requestBody = .chunked(decoder)
                    if localBody.count > handler.maxBodyBytes {
                        sendError(413, "invalid_request", "The request body is too large", forceClose: true)
                        return
                    }
                default:
                    exchange.requestBodyDone = true
                }
                continue
            }
            guard readable else { return }
            if input == nil { input = worker.loop.buffers.take() }
            do {
                switch try input!.read(from: transport, max: 16384) {
                case .processed(0):
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
