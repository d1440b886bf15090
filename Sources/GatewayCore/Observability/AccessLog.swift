import Dispatch
import Glibc
import Synchronization

/// One JSON line per request on standard output (SPEC §6). Workers batch lines in memory
/// and hand each batch to one writer thread, so an event loop never blocks on stdout. If
/// the output stalls beyond `maxPending` bytes, batches are dropped and counted rather than
/// buffered without bound.
final class AccessLog: Sendable {
    private let queue = DispatchQueue(label: "gw-access-log")
    private let pending = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)
    private let maxPending: Int

    init(maxPending: Int = 8 << 20) {
        self.maxPending = maxPending
    }

    var droppedLines: Int { dropped.load(ordering: .relaxed) }

    func write(_ batch: [UInt8], lines: Int) {
        guard !batch.isEmpty else { return }
        guard pending.add(batch.count, ordering: .relaxed).newValue <= maxPending else {
            pending.subtract(batch.count, ordering: .relaxed)
            dropped.add(lines, ordering: .relaxed)
            return
        }
        queue.async { [self] in
            var off = 0
            batch.withUnsafeBytes { b in
                while off < b.count {
                    let n = Glibc.write(1, b.baseAddress! + off, b.count - off)
                    if n < 0 {
                        if errno == EINTR { continue }
                        break
                    }
                    off += n
                }
            }
            pending.subtract(batch.count, ordering: .relaxed)
        }
    }

    /// Waits until everything handed over is written (shutdown).
    func flush() {
        queue.sync {}
    }
}
