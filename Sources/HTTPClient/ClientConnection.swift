import EventLoop
import Glibc
import HTTP1
import TLS

/// One outgoing connection carrying one request, confined to its loop: connects without
/// blocking, writes the request, feeds what it reads to a ``ResponseReader`` and reports
/// once. Only the transport touches the socket.
final class HTTPClientConnection: Selectable {
    private let loop: EventLoop
    private let transport: any Transport
    private var connecting: Bool
    private var output: [UInt8]
    private var sent = 0
    private var reader: ResponseReader
    private var completion: ((Result<HTTPResponse, HTTPClientError>) -> Void)?
    private var connectTimer: TimerHandle?
    private let isTLS: Bool
    private var scratch = [UInt8](repeating: 0, count: 16384)

    /// Starts connecting to `address`; `completion` runs exactly once, on `loop`.
    static func start(
        _ request: HTTPClientRequest, address: SocketAddress, tls: TLSContext?, options: HTTPClientOptions,
        loop: EventLoop, completion: @escaping (Result<HTTPResponse, HTTPClientError>) -> Void
    ) -> HTTPClientConnection? {
        let r: (fd: Int32, inProgress: Bool)
        do {
            r = try Socket.connect(to: address)
        } catch {
            completion(.failure(.connectFailed(error.description)))
            return nil
        }
        let transport: any Transport
        if request.url.isTLS {
            guard let tls else {
                Syscall.close(r.fd)
                completion(.failure(.tls("no TLS context for \(request.url.authority)")))
                return nil
            }
            do {
                transport = try TLSTransport(
                    fd: r.fd, context: tls, role: .client(serverName: request.tlsServerName ?? request.url.host))
            } catch {
                Syscall.close(r.fd)
                completion(.failure(.tls("\(error)")))
                return nil
            }
        } else {
            transport = PlainTransport(fd: r.fd)
        }
        let c = HTTPClientConnection(
            loop: loop, transport: transport, connecting: r.inProgress, request: request, options: options,
            completion: completion)
        do {
            try loop.register(r.fd, c)
        } catch {
            transport.close()
            completion(.failure(.connectFailed(error.description)))
            return nil
        }
        // The connect timeout also bounds the TLS handshake: it is cancelled by the first answer byte.
        c.connectTimer = loop.schedule(after: options.connectTimeout) { [weak c] in
            c?.finish(.failure(.connectTimedOut))
        }
        if !r.inProgress { c.progress() }
        return c
    }

    private init(
        loop: EventLoop, transport: any Transport, connecting: Bool, request: HTTPClientRequest,
        options: HTTPClientOptions, completion: @escaping (Result<HTTPResponse, HTTPClientError>) -> Void
    ) {
        self.loop = loop
        self.transport = transport
        self.connecting = connecting
        self.output = request.serialized()
        self.reader = ResponseReader(maxBodyBytes: options.maxBodyBytes, requestMethod: request.method)
        self.completion = completion
        self.isTLS = request.url.isTLS
    }

    func ready(_ events: UInt32) {
        guard completion != nil else { return }
        if connecting {
            guard events & (EventLoop.writeEvent | EventLoop.errorEvent | EventLoop.hangupEvent) != 0 else { return }
            connecting = false
            let err = Socket.pendingError(transport.fd)
            guard err == 0 else {
                finish(.failure(.connectFailed(String(cString: strerror(err)))))
                return
            }
        }
        progress()
    }

    /// Writes what is left, then reads until the transport would block; TLS may need either
    /// direction for either, so both are tried on every event.
    private func progress() {
        do {
            while sent < output.count {
                let io = try output[sent...].withUnsafeBytes { (b) throws(TransportError) in try transport.write(b) }
                guard case .bytes(let n) = io else { break }
                sent += n
            }
            if sent == output.count, !output.isEmpty {
                // The request (which may hold a password) is not kept once written.
                for i in output.indices { output[i] = 0 }
                output = []
            }
            while completion != nil {
                let io = try scratch.withUnsafeMutableBytes { (b) throws(TransportError) in try transport.read(into: b)
                }
                switch io {
                case .bytes(let n):
                    connectTimer?.cancel()
                    let step = try scratch.withUnsafeBytes { (b) throws(HTTPClientError) in
                        try reader.feed(UnsafeRawBufferPointer(rebasing: b[0..<n]))
                    }
                    if case .complete(let response) = step {
                        finish(.success(response))
                        return
                    }
                case .closed:
                    if case .complete(let response) = try reader.closed() { finish(.success(response)) }
                    return
                case .wantRead, .wantWrite:
                    return
                }
            }
        } catch let e as HTTPClientError {
            finish(.failure(e))
        } catch let e as TransportError {
            switch e {
            case .io(let io): finish(.failure(.io(io.description)))
            case .handshake(let reason), .protocolViolation(let reason): finish(.failure(.tls(reason)))
            }
        } catch {
            finish(.failure(.io("\(error)")))
        }
    }

    /// Reports once and releases the socket.
    func finish(_ result: Result<HTTPResponse, HTTPClientError>) {
        guard let completion else { return }
        self.completion = nil
        connectTimer?.cancel()
        loop.deregister(transport.fd)
        transport.close()
        completion(result)
    }
}
