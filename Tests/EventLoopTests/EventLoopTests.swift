import CLinux
import Dispatch
import Glibc
import Synchronization
import Testing

@testable import EventLoop

/// A loop running on its own thread; `shutDown()` stops it and waits for `run()` to return.
final class RunningLoop: Sendable {
    let loop: EventLoop
    private let finished = DispatchSemaphore(value: 0)

    init(batchSends: Bool = false) throws {
        loop = try EventLoop(index: 0, batchSends: batchSends)
        let loop = self.loop
        let finished = self.finished
        Thread.spawn(name: "test-loop") {
            loop.run()
            finished.signal()
        }
        // `inEventLoop` is true once `run()` took the thread.
        let ready = DispatchSemaphore(value: 0)
        loop.execute { ready.signal() }
        precondition(ready.wait(timeout: .now() + 5) == .success, "loop did not start")
    }

    func shutDown() {
        loop.stop()
        precondition(finished.wait(timeout: .now() + 5) == .success, "loop did not stop")
    }
}

/// Values recorded from the loop's thread.
final class Recorder<T: Sendable>: Sendable {
    private let items = Mutex<[T]>([])
    private let signal = DispatchSemaphore(value: 0)

    func add(_ v: T) {
        items.withLock { $0.append(v) }
        signal.signal()
    }

    var values: [T] { items.withLock { $0 } }

    /// Waits for `count` values in all, at most `seconds`.
    func wait(for count: Int, seconds: Double = 5) -> Bool {
        let deadline = DispatchTime.now() + seconds
        while items.withLock({ $0.count }) < count {
            if signal.wait(timeout: deadline) == .timedOut { return items.withLock { $0.count } >= count }
        }
        return true
    }
}

/// Non-Sendable loop-thread state, handed to later loop tasks.
final class LoopBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

@Suite("Event loop")
struct EventLoopTests {
    @Test("execute from another thread runs on the loop, in order")
    func execute() throws {
        let running = try RunningLoop()
        defer { running.shutDown() }
        let loop = running.loop
        #expect(!loop.inEventLoop)
        let seen = Recorder<String>()
        for i in 0..<100 {
            loop.execute { seen.add(loop.inEventLoop ? "\(i)" : "off-loop") }
        }
        #expect(seen.wait(for: 100))
        #expect(seen.values == (0..<100).map { "\($0)" })
    }

    @Test("execute from many threads at once")
    func concurrentExecute() throws {
        let running = try RunningLoop()
        defer { running.shutDown() }
        let loop = running.loop
        let seen = Recorder<Int>()
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for i in 0..<50 { loop.execute { seen.add(t * 1000 + i) } }
        }
        #expect(seen.wait(for: 400))
        #expect(Set(seen.values).count == 400)
    }

    @Test("timers fire in deadline order, then insertion order; now advances")
    func timers() throws {
        let running = try RunningLoop()
        defer { running.shutDown() }
        let loop = running.loop
        let fired = Recorder<(String, Int64)>()
        let start = Recorder<Int64>()
        loop.execute {
            let t0 = loop.now
            start.add(t0)
            loop.schedule(after: 60) { fired.add(("c", loop.now - t0)) }
            loop.schedule(after: 20) { fired.add(("a", loop.now - t0)) }
            loop.schedule(after: 40) { fired.add(("b1", loop.now - t0)) }
            loop.schedule(after: 40) { fired.add(("b2", loop.now - t0)) }
            loop.schedule(after: 0) { fired.add(("now", loop.now - t0)) }
            let cancelled = loop.schedule(after: 10) { fired.add(("cancelled", 0)) }
            cancelled.cancel()
            if !cancelled.cancelled { fired.add(("not cancelled", 0)) }
        }
        #expect(fired.wait(for: 5))
        let v = fired.values
        #expect(v.map(\.0) == ["now", "a", "b1", "b2", "c"])
        #expect(v[1].1 >= 20)
        #expect(v[2].1 >= 40 && v[3].1 >= 40)
        #expect(v[4].1 >= 60)
        #expect(v[4].1 < 2_000)
        // Nothing else fires later.
        usleep(30_000)
        #expect(fired.values.count == 5)
    }

    @Test("repeating timers run until cancelled")
    func repeating() throws {
        let running = try RunningLoop()
        defer { running.shutDown() }
        let loop = running.loop
        let ticks = Recorder<Int64>()
        let handle = LoopBox<TimerHandle?>(nil)
        loop.execute {
            let t0 = loop.now
            var n = 0
            handle.value = loop.scheduleRepeating(every: 10) {
                n += 1
                ticks.add(loop.now - t0)
                if n == 3 { handle.value?.cancel() }
            }
        }
        #expect(ticks.wait(for: 3))
        usleep(60_000)
        let v = ticks.values
        #expect(v.count == 3)
        #expect(v == v.sorted())
        #expect(v[0] >= 10 && v[2] >= 30)
    }

    @Test("stop returns from run; tasks queued before stop still run")
    func stop() throws {
        let loop = try EventLoop(index: 3)
        #expect(loop.index == 3)
        let finished = DispatchSemaphore(value: 0)
        let ran = Recorder<Bool>()
        loop.execute { ran.add(true) }
        Thread.spawn(name: "test-stop") {
            loop.run()
            finished.signal()
        }
        loop.stop()
        #expect(finished.wait(timeout: .now() + 5) == .success)
        #expect(ran.values == [true])
    }

    @Test("a group starts one thread per loop and stops them")
    func group() throws {
        let group = try EventLoopGroup(count: 3)
        #expect(group.loops.map(\.index) == [0, 1, 2])
        let started = Recorder<Int>()
        group.start(name: "test-group") { loop in started.add(loop.index) }
        defer { group.stop() }
        #expect(started.wait(for: 3))
        let onLoop = Recorder<Bool>()
        for loop in group.loops { loop.execute { onLoop.add(loop.inEventLoop) } }
        #expect(onLoop.wait(for: 3))
        #expect(onLoop.values == [true, true, true])
        #expect(Set(started.values) == [0, 1, 2])
    }

    @Test("the monotonic clock does not go backwards")
    func clock() {
        let a = EventLoop.monotonicMillis()
        usleep(5_000)
        let b = EventLoop.monotonicMillis()
        #expect(b >= a + 4)
    }

    @Test("a turn-end handler runs after the rest of the turn's work, and one it queues runs in the same turn")
    func turnEnd() throws {
        let running = try RunningLoop()
        defer { running.shutDown() }
        let loop = running.loop
        let seen = Recorder<String>()
        /// Queues `then` (if any) from its own turn-end call, as a failed write retried on a
        /// new connection does.
        final class Handler: TurnEndHandler, @unchecked Sendable {
            let name: String
            let seen: Recorder<String>
            let loop: EventLoop
            var then: Handler?
            init(_ name: String, _ seen: Recorder<String>, _ loop: EventLoop) {
                self.name = name
                self.seen = seen
                self.loop = loop
            }
            func turnEnded() {
                seen.add(name)
                if let then {
                    self.then = nil
                    loop.atTurnEnd(then)
                }
            }
        }
        let first = Handler("end 1", seen, loop)
        first.then = Handler("end 2", seen, loop)
        // Both tasks run in one turn (queued before the loop wakes up): the handler the first
        // queues must wait for the second, and the one it queues needs no further event.
        let gate = DispatchSemaphore(value: 0)
        loop.execute { gate.wait() }
        loop.execute {
            seen.add("task 1")
            loop.atTurnEnd(first)
        }
        loop.execute { seen.add("task 2") }
        gate.signal()
        #expect(seen.wait(for: 4))
        #expect(seen.values == ["task 1", "task 2", "end 1", "end 2"])
    }

    @Test("batched sends: what turn-end handlers queue goes out once they all ran, each told its result")
    func batchedTurnEndSends() throws {
        let running = try RunningLoop(batchSends: true)
        defer { running.shutDown() }
        let loop = running.loop
        #expect(loop.batchesSends)
        let seen = Recorder<String>()
        final class Writer: TurnEndHandler, BatchedSendCompletion, @unchecked Sendable {
            let name: String
            let seen: Recorder<String>
            let loop: EventLoop
            let transport: PlainTransport
            let bytes: UnsafeMutableRawBufferPointer
            init(_ name: String, fd: Int32, _ seen: Recorder<String>, _ loop: EventLoop) {
                self.name = name
                self.seen = seen
                self.loop = loop
                transport = PlainTransport(fd: fd)
                bytes = .allocate(byteCount: name.utf8.count, alignment: 1)
                bytes.copyBytes(from: Array(name.utf8))
            }
            deinit { bytes.deallocate() }
            func turnEnded() {
                let t = transport.queueBatchedWrite(UnsafeRawBufferPointer(bytes), on: loop, completion: self)
                seen.add(t == nil ? "not batched \(name)" : "queued \(name)")
            }
            func batchedSendCompleted(_ result: Int32?) {
                seen.add("sent \(name) \(result.map(String.init) ?? "nil")")
            }
        }
        var fds: [Int32] = [0, 0, 0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds[0]) == 0)
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds[2]) == 0)
        let writers = LoopBox([Writer("one", fd: fds[0], seen, loop), Writer("three", fd: fds[2], seen, loop)])
        defer {
            for w in writers.value { w.transport.close() }
            close(fds[1])
            close(fds[3])
        }
        loop.execute {
            for w in writers.value { loop.atTurnEnd(w) }
        }
        #expect(seen.wait(for: 4))
        #expect(seen.values == ["queued one", "queued three", "sent one 3", "sent three 5"])
        var buf = [UInt8](repeating: 0, count: 16)
        #expect(Glibc.read(fds[1], &buf, 16) == 3)
        #expect(Glibc.read(fds[3], &buf, 16) == 5)
        #expect(String(decoding: buf[0..<5], as: UTF8.self) == "three")
    }
}
