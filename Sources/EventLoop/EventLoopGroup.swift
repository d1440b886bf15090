import CLinux
import Glibc

/// A fixed set of event loops, one thread each.
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]

    public init(count: Int, batchSends: Bool = false) throws(IOError) {
        var loops: [EventLoop] = []
        for i in 0..<max(1, count) { loops.append(try EventLoop(index: i, batchSends: batchSends)) }
        self.loops = loops
    }

    /// Starts each loop on its own thread; `setUp` runs first on that thread.
    public func start(name: String, setUp: @escaping @Sendable (EventLoop) -> Void) {
        for loop in loops {
            Thread.spawn(name: "\(name)-\(loop.index)") {
                setUp(loop)
                loop.run()
            }
        }
    }

    public func stop() {
        for loop in loops { loop.stop() }
    }
}

/// Plain pthreads: Foundation's Thread would pull Foundation into the binary.
public enum Thread {
    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Starts a detached thread running `body`.
    public static func spawn(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(
            &tid, nil,
            { arg in
                let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        pthread_setname_np(tid, String(name.prefix(15)))
        pthread_detach(tid)
    }
}
