import Dispatch
import Synchronization
import Testing

@testable import TokenStore

@Suite("Journal group commit")
struct JournalGroupCommitTests {
    /// Operations queued while the writer is busy are committed together with one fsync.
    @Test func queuedRotationsShareOneFsync() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        let store = try fx.open(fsync: true)
        defer { store.close() }
        let fams = (0..<64).map { _ in TestFamily() }
        for f in fams { try await store.create(f.newFamily(now: t0)).get() }

        let gate = DispatchSemaphore(value: 0), held = DispatchSemaphore(value: 0)
        store.inspect { _, _ in  // holds the writer between batches
            held.signal()
            gate.wait()
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                held.wait()
                c.resume()
            }
        }
        let before = store.statistics
        let results = Mutex<[Result<RotationOutcome, TokenStoreError>]>([])
        let done = DispatchGroup()
        DispatchQueue.concurrentPerform(iterations: fams.count) { i in
            done.enter()
            store.rotate(fams[i].rotation(now: t0 + 1)) { r in
                results.withLock { $0.append(r) }
                done.leave()
            }
        }
        #expect(store.statistics.fsyncs == before.fsyncs)  // nothing acknowledged while held
        gate.signal()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            done.notify(queue: .global()) { c.resume() }
        }
        let after = store.statistics
        #expect(results.withLock { $0.count } == 64)
        #expect(results.withLock { $0.allSatisfy { if case .success(.rotated) = $0 { true } else { false } } })
        #expect(after.fsyncs - before.fsyncs == 1)
        #expect(after.writeBatches - before.writeBatches == 1)
    }

    /// Rotations per second with fsync on and 32 concurrent callers, each a thread that waits
    /// for its answer before the next refresh. Prints the figure; asserts only correctness
    /// and that callers shared fsyncs.
    @Test func measureRotationsPerSecondWithFsync() async throws {
        let fx = JournalFixture()
        defer { fx.cleanup() }
        let store = try fx.open(fsync: true)
        defer { store.close() }
        let callers = 32, perCaller = 150
        let fams = (0..<callers).map { _ in TestFamily() }
        for f in fams { try await store.create(f.newFamily(now: t0)).get() }
        let before = store.statistics
        let failures = Atomic<Int>(0)
        let finished = DispatchGroup()
        let clock = ContinuousClock()
        let start = clock.now
        for c in 0..<callers {
            finished.enter()
            _ = StoreThread.detach {
                var fam = fams[c]
                let answered = DispatchSemaphore(value: 0)
                for i in 0..<perCaller {
                    let r = fam.rotation(now: t0 + Int64(i + 1))
                    let ok = Atomic<Bool>(false)
                    store.rotate(r) { result in
                        if case .success(.rotated) = result { ok.store(true, ordering: .relaxed) }
                        answered.signal()
                    }
                    answered.wait()
                    if ok.load(ordering: .relaxed) {
                        fam = fam.rotated(by: r)
                    } else {
                        failures.add(1, ordering: .relaxed)
                    }
                }
                finished.leave()
            }
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            finished.notify(queue: .global()) { c.resume() }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let total = callers * perCaller
        let fsyncs = store.statistics.fsyncs - before.fsyncs
        let perSecond = Int(Double(total) / seconds)
        let perFsync = String(Double(total) / Double(max(1, fsyncs))).prefix(5)
        print(
            "token store: \(total) rotations, fsync on, \(callers) callers: \(perSecond) rotations/s, "
                + "\(fsyncs) fsyncs (\(perFsync) rotations per fsync)"
        )
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(fsyncs < total / 2)
    }
}
