import CLinux
import Glibc
import Synchronization

/// Something registered with a loop: told which events fired, on the loop's thread.
public protocol Selectable: AnyObject {
    func ready(_ events: UInt32)
}

/// Something to run once the loop has handled every event of the current turn (see
/// `EventLoop.atTurnEnd`).
public protocol TurnEndHandler: AnyObject {
    func turnEnded()
}

/// One epoll loop on one thread. Descriptors are registered edge-triggered for input and
/// output at once, so readiness changes never cost an `epoll_ctl`; handlers keep their own
/// "readable"/"writable" flags and work until EAGAIN.
///
/// Everything but `execute` and `stop` must be called on the loop's own thread.
public final class EventLoop: @unchecked Sendable {
    public static let readEvent = shim_epollin()
    public static let writeEvent = shim_epollout()
    public static let hangupEvent = shim_epollrdhup() | shim_epollhup()
    public static let errorEvent = shim_epollerr()

    public let index: Int
    private let epfd: Int32
    private let wakefd: Int32
    private var handlers: ContiguousArray<Selectable?> = []
    private let pending = Mutex<[@Sendable () -> Void]>([])
    private let wakeupRequested = Atomic<Bool>(false)
    private let stopRequested = Atomic<Bool>(false)
    private var timers = TimerHeap()
    private var thread: pthread_t?
    /// Monotonic milliseconds, refreshed after every wait.
    public private(set) var now: Int64
    /// Per-loop buffers for connections.
    public let buffers = BufferPool()
    /// Handlers to run when this turn's events are done, and the list being run (two, swapped,
    /// so that neither is reallocated once grown).
    private var turnEnd: ContiguousArray<TurnEndHandler> = []
    private var turnEndRunning: ContiguousArray<TurnEndHandler> = []
    /// This turn's batched sends (`batchSend`); nil when off or when the kernel refuses io_uring.
    private let sendBatch: SendBatch?

    /// `batchSends`: send what connections queue for the turn's end in one system call
    /// (io_uring) where the kernel allows it; see `SendBatch`.
    public init(index: Int, batchSends: Bool = false) throws(IOError) {
        self.index = index
        sendBatch = batchSends ? SendBatch() : nil
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epfd >= 0 else { throw IOError(errno: errno, function: "epoll_create1") }
        wakefd = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakefd >= 0 else { throw IOError(errno: errno, function: "eventfd") }
        now = EventLoop.monotonicMillis()
        var ev = epoll_event()
        ev.events = shim_epollin()
        ev.data.fd = wakefd
        epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev)
    }

    deinit {
        Syscall.close(epfd)
        Syscall.close(wakefd)
    }

    public static func monotonicMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Whether the caller runs on this loop's thread.
    public var inEventLoop: Bool {
        guard let thread else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }

    // MARK: Registration (loop thread only)

    /// Registers `fd` for edge-triggered input, output and hang-up events.
    public func register(_ fd: Int32, _ handler: Selectable) throws(IOError) {
        var ev = epoll_event()
        ev.events = shim_epollin() | shim_epollout() | shim_epollrdhup() | shim_epollet()
        ev.data.fd = fd
        guard epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0 else { throw IOError(errno: errno, function: "epoll_ctl") }
        let slot = Int(fd)
        if slot >= handlers.count {
            handlers.append(contentsOf: repeatElement(nil, count: max(slot + 1 - handlers.count, handlers.count)))
        }
        handlers[slot] = handler
    }

    /// Registers a listening socket (level-triggered input only).
    public func registerListener(_ fd: Int32, _ handler: Selectable) throws(IOError) {
        var ev = epoll_event()
        ev.events = shim_epollin()
        ev.data.fd = fd
        guard epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0 else { throw IOError(errno: errno, function: "epoll_ctl") }
        let slot = Int(fd)
        if slot >= handlers.count {
            handlers.append(contentsOf: repeatElement(nil, count: max(slot + 1 - handlers.count, handlers.count)))
        }
        handlers[slot] = handler
    }

    /// Stops delivering events for `fd` and forgets its handler. Call before closing it.
    public func deregister(_ fd: Int32) {
        var ev = epoll_event()
        epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev)
        if Int(fd) < handlers.count { handlers[Int(fd)] = nil }
    }

    // MARK: Tasks and timers

    /// Runs `task` on the loop's thread soon. Safe from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        pending.withLock { $0.append(task) }
        if !wakeupRequested.exchange(true, ordering: .acquiringAndReleasing) {
            var one: UInt64 = 1
            _ = Glibc.write(wakefd, &one, 8)
        }
    }

    /// Runs `body` once, `delay` ms from now (loop thread only).
    @discardableResult
    public func schedule(after delay: Int64, _ body: @escaping () -> Void) -> TimerHandle {
        let handle = TimerHandle(body)
        timers.push(deadline: now + delay, handle)
        return handle
    }

    /// Runs `body` every `interval` ms until the returned handle is cancelled.
    @discardableResult
    public func scheduleRepeating(every interval: Int64, _ body: @escaping () -> Void) -> TimerHandle {
        let handle = TimerHandle {}
        func arm() {
            let next = TimerHandle {
                guard !handle.cancelled else { return }
                body()
                arm()
            }
            timers.push(deadline: now + interval, next)
        }
        arm()
        return handle
    }

    // MARK: Running

    /// Runs the loop on the calling thread until `stop()`.
    public func run() {
        thread = pthread_self()
        let capacity: Int32 = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
        defer { events.deallocate() }
        while !stopRequested.load(ordering: .relaxed) {
            var timeout: Int32 = -1
            if let deadline = timers.nextDeadline {
                timeout = Int32(clamping: max(0, deadline - now))
            }
            let n = epoll_wait(epfd, events, capacity, timeout)
            now = EventLoop.monotonicMillis()
            if n < 0 {
                if errno == EINTR { continue }
                fatalError("epoll_wait: \(IOError(errno: errno, function: "epoll_wait"))")
            }
            var woken = false
            for i in 0..<Int(n) {
                let fd = events[i].data.fd
                if fd == wakefd {
                    woken = true
                    continue
                }
                if Int(fd) < handlers.count, let h = handlers[Int(fd)] {
                    h.ready(events[i].events)
                }
            }
            if woken { runPendingTasks() }
            runDueTimers()
            // Last, so that what tasks and timers queued goes out in this turn too.
            if !turnEnd.isEmpty { runTurnEnd() }
        }
        runPendingTasks()
    }

    /// Asks the loop to return from `run()`. Safe from any thread.
    public func stop() {
        stopRequested.store(true, ordering: .relaxed)
        execute {}
    }

    /// Runs `h.turnEnded()` once every event of this turn has been handled: writes queued
    /// by many connections in one turn go out back to back, after all of the turn's work,
    /// instead of each between other connections' work.
    public func atTurnEnd(_ h: TurnEndHandler) {
        turnEnd.append(h)
    }

    /// Until none is left: a handler may queue another (a failed write retried on a new
    /// connection). The sends the handlers batched go out after each round of them.
    private func runTurnEnd() {
        while !turnEnd.isEmpty {
            swap(&turnEnd, &turnEndRunning)
            for h in turnEndRunning { h.turnEnded() }
            turnEndRunning.removeAll(keepingCapacity: true)
            sendBatch?.submit()
        }
    }

    /// Whether sends are batched: io_uring asked for and granted by the kernel.
    public var batchesSends: Bool { sendBatch.map { !$0.broken } ?? false }

    /// Queues a send on a non-blocking socket to go out with this turn's others, in one
    /// system call, once the turn-end handlers have run (only from `turnEnded`). `bytes`
    /// must stay valid and unchanged until `completion` is told the result. Nil: not
    /// batched (off, full or broken), and the caller writes itself.
    func batchSend(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ completion: BatchedSendCompletion)
        -> BatchedSendTicket?
    {
        sendBatch?.add(fd: fd, bytes, completion)
    }

    /// Withdraws a send queued with `batchSend` whose completion has not been called (before
    /// its socket is closed, or its bytes change): nil if it had not run (it never will),
    /// else its result, as the completion would have had it. The completion is not called.
    public func withdrawBatchedSend(_ ticket: BatchedSendTicket) -> Int32?? {
        switch sendBatch?.withdraw(ticket) {
        case .ran(let r): return .some(r)
        case .notRun, .told, nil: return nil
        }
    }

    private func runPendingTasks() {
        var drained: UInt64 = 0
        _ = Glibc.read(wakefd, &drained, 8)
        wakeupRequested.store(false, ordering: .releasing)
        let tasks = pending.withLock { tasks -> [@Sendable () -> Void] in
            let t = tasks
            tasks.removeAll(keepingCapacity: true)
            return t
        }
        for task in tasks { task() }
    }

    private func runDueTimers() {
        while let deadline = timers.nextDeadline, deadline <= now {
            let handle = timers.pop()
            if !handle.cancelled { handle.body() }
        }
    }
}

/// A scheduled task; `cancel()` stops it from running.
public final class TimerHandle {
    fileprivate let body: () -> Void
    public private(set) var cancelled = false

    init(_ body: @escaping () -> Void) {
        self.body = body
    }

    public func cancel() {
        cancelled = true
    }
}

/// A binary min-heap of timers ordered by deadline, then insertion.
struct TimerHeap {
    private var entries: [(deadline: Int64, seq: UInt64, handle: TimerHandle)] = []
    private var seq: UInt64 = 0

    var nextDeadline: Int64? { entries.first?.deadline }

    mutating func push(deadline: Int64, _ handle: TimerHandle) {
        seq &+= 1
        entries.append((deadline, seq, handle))
        var i = entries.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if less(i, parent) {
                entries.swapAt(i, parent)
                i = parent
            } else {
                break
            }
        }
    }

    mutating func pop() -> TimerHandle {
        let top = entries[0].handle
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var m = i
                if l < entries.count && less(l, m) { m = l }
                if r < entries.count && less(r, m) { m = r }
                if m == i { break }
                entries.swapAt(i, m)
                i = m
            }
        }
        return top
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        entries[a].deadline < entries[b].deadline
            || (entries[a].deadline == entries[b].deadline && entries[a].seq < entries[b].seq)
    }
}
