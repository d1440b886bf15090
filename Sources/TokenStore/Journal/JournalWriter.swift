import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The one thread that owns the state of a `JournalTokenStore`.
///
/// Callers enqueue under a mutex and never wait. The writer takes everything queued (up to
/// `maxBatch`), applies it to the state in order, appends the records of the whole batch
/// with one `write`, makes them durable with one `fdatasync` (group commit: concurrent
/// refreshes share it), and only then runs the completions, on this thread. After a failed
/// write it stops accepting work (fail-stop): the state in memory is ahead of the disk and
/// the page cache cannot be trusted after an fsync error; a restart recovers from disk.
final class JournalWriter: @unchecked Sendable {  // inbox behind a Mutex; the rest confined to the writer thread
    typealias Finish = @Sendable (TokenStoreError?) -> Void

    enum Entry: Sendable {
        /// A store operation: applied to the state, its changes journaled, then finished;
        /// or refused without being applied.
        case operation(
            apply: @Sendable (inout TokenState) -> (changes: [StateChange], finish: Finish),
            refuse: @Sendable (TokenStoreError) -> Void
        )
        /// Start a compaction now (tests).
        case compact(@Sendable (Bool) -> Void)
        /// Look at the state and the journal between batches (tests).
        case inspect(@Sendable (TokenState, Journal?) -> Void)
    }

    private struct Inbox {
        var entries: [Entry] = []
        var closed = false
        var sleeping = false
        var failure: TokenStoreError?
    }

    private let inbox = Mutex(Inbox())
    private let wake = DispatchSemaphore(value: 0)
    /// Left when the writer thread has stopped and released the directory.
    private let stopped = DispatchGroup()
    private let writerThread = Mutex<pthread_t?>(nil)
    let counters = JournalCounters()
    private let options: JournalOptions

    // Confined to the writer thread.
    private var state: TokenState
    private var journal: Journal?
    private var failure: TokenStoreError?
    private var buffer: [UInt8] = []
    private var finishes: [Finish] = []
    let compactor: Compactor

    init(journal: Journal, state: TokenState, options: JournalOptions) {
        self.journal = journal
        self.state = state
        self.options = options
        self.compactor = Compactor(options: options, counters: counters)
    }

    /// Starts the writer thread; returns pthread_create's error number, or 0.
    func start() -> Int32 {
        stopped.enter()
        let rc = StoreThread.detach { [self] in
            writerThread.withLock { $0 = StoreThread.current }
            run()
        }
        if rc != 0 { stopped.leave() }
        return rc
    }

    /// Queues an operation; `completion` gets the result once its changes are durable.
    func submit<O: Sendable>(
        _ body: @escaping @Sendable (inout TokenState) -> Step<O>,
        completion: @escaping @Sendable (Result<O, TokenStoreError>) -> Void
    ) {
        let entry = Entry.operation(
            apply: { state in
                let step = body(&state)
                return (step.changes, { error in completion(error.map { .failure($0) } ?? step.result) })
            },
            refuse: { completion(.failure($0)) }
        )
        if let refused = enqueue(entry) { completion(.failure(refused)) }
    }

    /// Queues `entry`, or answers why it cannot be.
    func enqueue(_ entry: Entry) -> TokenStoreError? {
        let (refused, wakeWriter) = inbox.withLock { box -> (TokenStoreError?, Bool) in
            if box.closed { return (.closed, false) }
            if let f = box.failure { return (f, false) }
            // Back-pressure instead of an unbounded queue when the disk cannot keep up.
            if box.entries.count >= options.maxQueued { return (.unavailable(reason: "token store queue full"), false) }
            box.entries.append(entry)
            let wasSleeping = box.sleeping
            box.sleeping = false
            return (nil, wasSleeping)
        }
        if wakeWriter { wake.signal() }
        return refused
    }

    /// Nil while the store can write; the reason it cannot otherwise.
    var currentFailure: TokenStoreError? { inbox.withLock { $0.failure } }

    /// Stops accepting work; the writer finishes what is queued, waits for a running
    /// compaction, and releases the directory. Waits for all that unless called on the
    /// writer thread itself (from a completion).
    func close() {
        let wakeWriter = inbox.withLock { box -> Bool in
            box.closed = true
            defer { box.sleeping = false }
            return box.sleeping
        }
        if wakeWriter { wake.signal() }
        let onWriter = writerThread.withLock { t in t.map { pthread_equal($0, StoreThread.current) != 0 } ?? false }
        if !onWriter { stopped.wait() }
    }

    // MARK: - writer thread

    private func run() {
        var batch: [Entry] = []
        while true {
            let closing = inbox.withLock { box -> Bool in
                let n = min(box.entries.count, max(1, options.maxBatch))
                if n == box.entries.count {
                    swap(&batch, &box.entries)
                } else {
                    batch.append(contentsOf: box.entries[..<n])
                    box.entries.removeFirst(n)
                }
                if batch.isEmpty && !box.closed { box.sleeping = true }
                return box.closed
            }
            if batch.isEmpty {
                if closing { break }
                wake.wait()
                continue
            }
            process(batch)
            batch.removeAll(keepingCapacity: true)
        }
        compactor.waitUntilIdle()
        journal = nil  // closes the log and releases the lock
        stopped.leave()
    }

    private func process(_ batch: [Entry]) {
        counters.operations.add(batch.count, ordering: .relaxed)
        if let failure {
            for entry in batch { reject(entry, failure) }
            return
        }
        buffer.removeAll(keepingCapacity: true)
        finishes.removeAll(keepingCapacity: true)
        var compactRequests: [@Sendable (Bool) -> Void] = []
        for entry in batch {
            switch entry {
            case .operation(let apply, _):
                let (changes, finish) = apply(&state)
                for change in changes {
                    do { try JournalRecord.change(change).encode(into: &buffer) } catch {
                        // StoreLimits keeps every change far below the frame limit.
                        preconditionFailure("state change of \(error.size) bytes")
                    }
                }
                finishes.append(finish)
            case .compact(let done):
                compactRequests.append(done)
            case .inspect(let look):
                look(state, journal)
            }
        }
        if !buffer.isEmpty, let journal {
            do {
                try journal.append(buffer)
                if options.fsync {
                    try journal.sync()
                    counters.fsyncs.add(1, ordering: .relaxed)
                }
                counters.writeBatches.add(1, ordering: .relaxed)
                counters.bytesWritten.add(buffer.count, ordering: .relaxed)
            } catch {
                stop(because: error)
                for finish in finishes { finish(failure) }
                for done in compactRequests { done(false) }
                return
            }
        }
        state.sweep(budget: options.sweepBudget)
        for finish in finishes { finish(nil) }
        finishes.removeAll(keepingCapacity: true)  // release the completions now
        if let journal {
            let started = compactor.startIfDue(journal: journal, state: state, force: !compactRequests.isEmpty)
            for done in compactRequests { done(started) }
        }
    }

    private func reject(_ entry: Entry, _ error: TokenStoreError) {
        switch entry {
        case .operation(_, let refuse): refuse(error)
        case .compact(let done): done(false)
        case .inspect(let look): look(state, journal)  // tests only; never leave them waiting
        }
    }

    private func stop(because error: JournalIOError) {
        let f = TokenStoreError.unavailable(reason: "journal write failed (\(error)); restart to recover")
        failure = f
        inbox.withLock { $0.failure = f }
        options.logger(.error, "token store stopped writing: \(error)")
    }
}
