import EventLoop
import Glibc
import Synchronization

/// Starts one worker per event loop, each with its own SO_REUSEPORT listener, and
/// coordinates reloads and draining across them.
final class GatewayServer: Sendable {
    let group: EventLoopGroup
    private let state = Mutex<[WorkerHandle]>([])
    let limiter: ConnectionLimiter
    /// The port actually bound (differs from the configuration when it asked for port 0).
    let port: Int

    /// A worker and its listener, reachable only through their loop.
    private struct WorkerHandle: @unchecked Sendable {
        let worker: Worker
        let listener: Listener
    }

    /// Binds every listener before any thread starts, so that a bind error stops start-up.
    init(runtime: GatewayRuntime, hub: RevocationHub) throws(IOError) {
        let config = runtime.config
        let count = config.workers > 0 ? config.workers : Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        group = try EventLoopGroup(count: count)
        limiter = ConnectionLimiter(maxTotal: config.limits.maxConnections,
                                    maxPerAddress: config.limits.maxConnectionsPerClient)
        var fds: [Int32] = []
        var address = config.listen
        do {
            for _ in 0..<group.loops.count {
                let fd = try Socket.listen(on: address, reusePort: true)
                if address.port == 0 {
                    address = SocketAddress(parsing: address.withPort(Socket.localPort(fd)))!
                }
                fds.append(fd)
            }
        } catch {
            for fd in fds { Syscall.close(fd) }
            throw error
        }
        port = address.port
        let listenFDs = fds
        let limiter = self.limiter
        let ready = Atomic<Int>(0)
        group.start(name: "gw-loop") { [self] loop in
            let worker = Worker(loop: loop, runtime: runtime, limiter: limiter)
            // `apply` runs through `loop.execute`, on the worker's own thread.
            nonisolated(unsafe) let w = worker
            worker.revocations = hub.register(loop: loop) { revocations in
                for r in revocations { w.revocations.apply(r) }
            }
            let listener = Listener(fd: listenFDs[loop.index], worker: worker)
            try! loop.registerListener(listener.fd, listener)
            self.state.withLock { $0.append(WorkerHandle(worker: worker, listener: listener)) }
            ready.add(1, ordering: .releasing)
        }
        // Bounded wait for every loop to be set up.
        for _ in 0..<5000 where ready.load(ordering: .acquiring) < group.loops.count {
            usleep(1000)
        }
    }

    /// Swaps in a new runtime on every worker, between requests.
    func reload(_ runtime: GatewayRuntime) {
        for h in state.withLock({ $0 }) {
            let handle = h
            handle.worker.loop.execute { handle.worker.runtime = runtime }
        }
    }

    /// Stops accepting and closes idle connections; in-flight exchanges finish.
    func beginDrain() {
        for h in state.withLock({ $0 }) {
            let handle = h
            handle.worker.loop.execute {
                handle.listener.close()
                handle.worker.beginDrain()
            }
        }
    }

    /// Open client connections across all workers.
    var openConnections: Int { limiter.open }

    func stop() {
        group.stop()
    }
}

extension SocketAddress {
    func withPort(_ port: Int) -> String {
        description.hasPrefix("[") ? "[\(hostText)]:\(port)" : "\(hostText):\(port)"
    }
}
