import EventLoop
import Glibc
import Synchronization

/// Starts one worker per event loop, each with its own SO_REUSEPORT listener, and
/// coordinates reloads and draining across them.
final class GatewayServer: Sendable {
    let group: EventLoopGroup
    private let state = Mutex<[WorkerHandle]>([])
    let limiter: ConnectionLimiter
    let context: ServerContext
    /// The admin listener's port, when one is configured.
    let adminPort: Int?
    /// The port actually bound (differs from the configuration when it asked for port 0).
    let port: Int

    /// A worker and its listener, reachable only through their loop.
    private struct WorkerHandle: @unchecked Sendable {
        let worker: Worker
        let listener: Listener
        let admin: Listener?
    }

    /// Binds every listener before any thread starts, so that a bind error stops start-up.
    init(runtime: GatewayRuntime, context: ServerContext) throws(IOError) {
        let config = runtime.config
        let count = config.workers > 0 ? config.workers : Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        group = try EventLoopGroup(count: count, batchSends: config.ioUring)
        self.context = context
        limiter = context.limiter
        let hub = context.hub
        var adminFD: Int32 = -1
        if let a = config.adminListen {
            adminFD = try Socket.listen(on: a, reusePort: false)
            adminPort = Socket.localPort(adminFD)
        } else {
            adminPort = nil
        }
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
            if adminFD >= 0 { Syscall.close(adminFD) }
            throw error
        }
        port = address.port
        let listenFDs = fds
        let adminListenFD = adminFD
        let ready = Atomic<Int>(0)
        group.start(name: "gw-loop") { [self] loop in
            let worker = Worker(loop: loop, runtime: runtime, context: context)
            // `apply` runs through `loop.execute`, on the worker's own thread.
            nonisolated(unsafe) let w = worker
            worker.revocations = hub.register(loop: loop) { revocations in
                for r in revocations { w.revocations.apply(r) }
                w.revocationsApplied()
            }
            let listener = Listener(fd: listenFDs[loop.index], worker: worker)
            try! loop.registerListener(listener.fd, listener)
            var admin: Listener?
            if loop.index == 0 && adminListenFD >= 0 {
                let l = Listener(fd: adminListenFD, worker: worker, admin: true)
                try! loop.registerListener(adminListenFD, l)
                admin = l
            }
            self.state.withLock { $0.append(WorkerHandle(worker: worker, listener: listener, admin: admin)) }
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

    /// Runs `body` on every worker's own loop (the upstream watcher's answers).
    func eachWorker(_ body: @escaping @Sendable (Worker) -> Void) {
        for h in state.withLock({ $0 }) {
            let handle = h
            handle.worker.loop.execute { body(handle.worker) }
        }
    }

    /// Stops accepting and closes idle connections; in-flight exchanges finish.
    func beginDrain() {
        context.draining = true
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
        // Lines batched by the workers reach the writer before the loops stop.
        let pending = Completion<Bool>()
        let handles = state.withLock { $0 }
        let left = PendingCounter(handles.count)
        for h in handles {
            let handle = h
            handle.worker.loop.execute {
                handle.worker.flushAccessLog()
                if left.arrive() { pending.fulfil(true) }
            }
        }
        _ = pending.wait(timeoutMillis: 2000)
        group.stop()
        context.accessLog.flush()
    }
}

extension SocketAddress {
    func withPort(_ port: Int) -> String {
        description.hasPrefix("[") ? "[\(hostText)]:\(port)" : "\(hostText):\(port)"
    }
}
