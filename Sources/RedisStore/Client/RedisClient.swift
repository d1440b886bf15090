import EventLoop
import Synchronization

/// A small pool of Redis connections on one event loop (the store's own thread, never a
/// gateway loop). Commands go to the ready connection with the fewest in flight and are
/// pipelined; replies complete on the loop's thread.
///
/// While no connection is ready, a command waits only if a first attempt to (re)connect
/// is under way; once an attempt has failed, commands fail at once with `.unavailable`
/// until a connection is back (fail fast: the gateway answers 503 instead of queueing).
/// Lost connections are re-dialled at once, then with capped exponential backoff.
final class RedisClient: @unchecked Sendable {
    // Everything below `up` is touched on the loop thread only.
    let loop: EventLoop
    let options: RedisOptions
    private let up = Atomic<Bool>(false)
    /// Whether tasks may still be handed to the loop. Checked and set under the lock together
    /// with `execute`/`stop`, so that every accepted command runs (a task queued after the
    /// loop stopped would never run, and its completion never be called).
    private let accepting = Mutex(true)

    private final class Slot {
        var connection: RedisConnection?
        var isReady = false
        var backoff: Backoff
        var retry: TimerHandle?
        init(_ backoff: Backoff) { self.backoff = backoff }
    }

    private struct Waiting {
        var command: RedisCommand
        var deadline: Int64
        var reply: RedisConnection.Reply
    }

    private var slots: [Slot] = []
    private var waiting: [Waiting] = []
    private var waitTimer: TimerHandle?
    private var closed = false
    private var everConnected = false

    /// Called on the loop when the pool goes from no ready connection to one, or back.
    var onAvailabilityChange: ((Bool) -> Void)?

    init(loop: EventLoop, options: RedisOptions) {
        self.loop = loop
        self.options = options
    }

    /// Whether a connection is ready (any thread).
    var isUp: Bool { up.load(ordering: .acquiring) }

    /// Starts connecting every slot (loop thread).
    func start() {
        for _ in 0..<options.poolSize {
            let slot = Slot(Backoff(base: options.reconnectBaseDelay, max: options.reconnectMaxDelay))
            slots.append(slot)
            connect(slot)
        }
    }

    /// Closes every connection; waiting and in-flight commands fail with `.closed` (loop thread).
    func close() {
        guard !closed else { return }
        closed = true
        waitTimer?.cancel()
        for slot in slots {
            slot.retry?.cancel()
            slot.connection?.close(.closed)
        }
        failWaiting(.closed)
        up.store(false, ordering: .releasing)
    }

    // MARK: - Commands

    /// Closes the pool, runs `andThen` on the loop, then stops the loop. Later calls fail
    /// with `.closed` on the caller's thread. Safe from any thread.
    func shutdown(andThen: @escaping @Sendable () -> Void = {}) {
        accepting.withLock { open in
            guard open else { return }
            open = false
            loop.execute { [self] in
                close()
                andThen()
            }
            loop.stop()
        }
    }

    /// Runs `task` on the loop, or fails `reply` with `.closed` after `shutdown`.
    private func hop(
        _ reply: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void,
        _ task: @escaping @Sendable () -> Void
    ) {
        let accepted = accepting.withLock { open in
            if open { loop.execute(task) }
            return open
        }
        if !accepted { reply(.failure(.closed)) }
    }

    /// Sends `command`; `reply` runs on the loop thread. Safe from any thread.
    func send(_ command: RedisCommand, reply: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        hop(reply) { [self] in send(command, deadline: loop.now + options.commandTimeout, reply: reply) }
    }

    /// Runs a script: `EVALSHA`, then `EVAL` on `NOSCRIPT`, within one deadline. Safe from any thread.
    func run(
        _ script: RedisScript,
        keys: [[UInt8]] = [],
        arguments: [[UInt8]],
        reply: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void
    ) {
        hop(reply) { [self] in
            let deadline = loop.now + options.commandTimeout
            let tail = [Array(String(keys.count).utf8)] + keys + arguments
            let evalsha = RedisCommand(arguments: [Array("EVALSHA".utf8), Array(script.sha1.utf8)] + tail)
            send(evalsha, deadline: deadline) { [self] result in
                if case .success(.error(let message)) = result, message.hasPrefix("NOSCRIPT") {
                    let eval = RedisCommand(arguments: [Array("EVAL".utf8), Array(script.source.utf8)] + tail)
                    send(eval, deadline: deadline, reply: reply)
                } else {
                    reply(result)
                }
            }
        }
    }

    /// Loop thread only.
    func send(_ command: RedisCommand, deadline: Int64, reply: @escaping RedisConnection.Reply) {
        if closed { return reply(.failure(.closed)) }
        var best: RedisConnection?
        var load = waiting.count
        for slot in slots {
            guard let c = slot.connection else { continue }
            load += c.inFlight
            if slot.isReady, best == nil || c.inFlight < best!.inFlight { best = c }
        }
        guard load < options.maxPendingCommands else { return reply(.failure(.overloaded)) }
        if let best {
            best.send(command, deadline: deadline, reply: reply)
        } else if mayWait {
            waiting.append(Waiting(command: command, deadline: deadline, reply: reply))
            armWaitTimer()
        } else {
            reply(.failure(.unavailable("not connected")))
        }
    }

    /// A command may wait for a connection while an attempt that has not failed yet is
    /// under way: the first connect, or the immediate re-dial after a loss.
    private var mayWait: Bool {
        slots.contains { $0.connection != nil && !$0.isReady && $0.backoff.failures == 0 }
    }

    // MARK: - Connections

    private func connect(_ slot: Slot) {
        slot.retry = nil
        guard !closed else { return }
        let connection: RedisConnection
        do {
            let address = try resolve()
            connection = try RedisConnection(
                loop: loop,
                address: address,
                tls: options.tlsContext,
                handshake: Self.handshake(options.url),
                connectTimeout: options.connectTimeout,
                limits: options.limits
            )
        } catch {
            attemptFailed(slot, error)
            return
        }
        slot.connection = connection
        connection.onReady = { [unowned self, unowned slot] in
            slot.isReady = true
            slot.backoff.succeeded()
            if !everConnected || !isUp {
                options.logger(.info, "redis: connected to \(options.url)")
            }
            everConnected = true
            flushWaiting(to: connection)
            updateAvailability()
        }
        connection.onClose = { [unowned self, unowned slot] error in
            let wasReady = slot.isReady
            slot.connection = nil
            slot.isReady = false
            if closed { return }
            if wasReady {
                options.logger(.warning, "redis: connection lost (\(error))")
                slot.backoff.succeeded()
                updateAvailability()
                scheduleReconnect(slot)
            } else {
                attemptFailed(slot, error)
            }
        }
    }

    private func attemptFailed(_ slot: Slot, _ error: RedisError) {
        slot.backoff.failed()
        if slot.backoff.failures == 1 { options.logger(.warning, "redis: cannot connect (\(error))") }
        if !mayWait { failWaiting(.unavailable("cannot connect: \(error)")) }
        updateAvailability()
        scheduleReconnect(slot)
    }

    private func scheduleReconnect(_ slot: Slot) {
        guard !closed else { return }
        slot.retry = loop.schedule(after: slot.backoff.delay) { [weak self, weak slot] in
            guard let self, let slot else { return }
            connect(slot)
        }
    }

    private func resolve() throws(RedisError) -> SocketAddress {
        // A name is resolved here, on the store's own thread: getaddrinfo blocks, but
        // never a gateway loop.
        do {
            let all = try SocketAddress.resolve(host: options.url.host, port: options.url.port)
            return all[0]
        } catch {
            throw .unavailable(error.description)
        }
    }

    static func handshake(_ url: RedisURL) -> [RedisCommand] {
        var commands: [RedisCommand] = []
        if let password = url.password {
            if let user = url.username {
                commands.append(RedisCommand("AUTH", user, password))
            } else {
                commands.append(RedisCommand("AUTH", password))
            }
        }
        if url.database != 0 { commands.append(RedisCommand("SELECT", url.database)) }
        // TLS 1.3 completes the client's handshake before the server has checked the client
        // certificate (a refusal comes as a later alert): ready means Redis answered.
        if url.tls { commands.append(RedisCommand("PING")) }
        return commands
    }

    private func updateAvailability() {
        let now = slots.contains { $0.isReady }
        if up.exchange(now, ordering: .acquiringAndReleasing) != now { onAvailabilityChange?(now) }
    }

    // MARK: - Waiting commands

    private func flushWaiting(to connection: RedisConnection) {
        let queued = waiting
        waiting.removeAll()
        waitTimer?.cancel()
        waitTimer = nil
        for w in queued { connection.send(w.command, deadline: w.deadline, reply: w.reply) }
    }

    private func failWaiting(_ error: RedisError) {
        let queued = waiting
        waiting.removeAll()
        waitTimer?.cancel()
        waitTimer = nil
        for w in queued { w.reply(.failure(error)) }
    }

    private func armWaitTimer() {
        guard waitTimer == nil, let first = waiting.first else { return }
        waitTimer = loop.schedule(after: max(0, first.deadline - loop.now)) { [weak self] in
            guard let self else { return }
            waitTimer = nil
            let now = loop.now
            let expired = waiting.prefix { $0.deadline <= now }
            waiting.removeFirst(expired.count)
            for w in expired { w.reply(.failure(.timeout)) }
            armWaitTimer()
        }
    }
}
