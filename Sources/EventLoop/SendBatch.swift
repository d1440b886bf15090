import CURing
import Glibc

/// Told how a batched send went: bytes sent, `-EAGAIN`, or another `-errno`. Or `nil`: the
/// batch could not run this send, and the sender writes the bytes itself.
public protocol BatchedSendCompletion: AnyObject {
    func batchedSendCompleted(_ result: Int32?)
}

/// Names one queued send, to cancel it (`EventLoop.cancelBatchedSend`).
public struct BatchedSendTicket: Equatable, Sendable {
    let round: UInt64
    let slot: Int
}

/// Sends queued by many connections during one loop turn, handed to the kernel in one
/// `io_uring_enter` instead of one `send` each.
///
/// Why: a peer on the same core (an upstream beside the gateway) is woken by each send,
/// and as the kernel preempts at the return to user space, it runs after every one of
/// them: one context switch per request (`perf sched`: the loop and the upstream in strict
/// alternation). Sent from inside one system call, the wake-ups all happen before the
/// return, and the peer takes the whole batch in one run.
///
/// Non-blocking sockets only; every send carries `MSG_DONTWAIT`, so each completes inline
/// and `submit` returns with every result. Loop-confined, like the loop that owns it.
final class SendBatch {
    private var ring: OpaquePointer?
    /// The senders of the queued sends by slot (nil: cancelled), and the list being told
    /// (two, swapped, so that neither is reallocated once grown); the results by slot.
    private var waiting: ContiguousArray<BatchedSendCompletion?> = []
    private var telling: ContiguousArray<BatchedSendCompletion?> = []
    private var results: ContiguousArray<Int32>
    private static let noResult = Int32.min
    /// Counts submits: a ticket from an earlier round names a send that already ran.
    private var round: UInt64 = 0
    private(set) var broken = false

    /// Nil when the kernel refuses io_uring (too old, `io_uring_disabled`, a seccomp filter).
    init?(entries: UInt32 = 256) {
        results = []
        var error: Int32 = 0
        guard let r = curing_create(entries, &error) else { return nil }
        ring = r
        let n = Int(curing_entries(r))
        results = ContiguousArray(repeating: SendBatch.noResult, count: n)
        waiting.reserveCapacity(n)
        telling.reserveCapacity(n)
    }

    deinit {
        curing_free(ring)
    }

    var isEmpty: Bool { waiting.isEmpty }

    /// Queues a send of `bytes`, which must stay valid and unchanged until `submit` (or
    /// `cancel`). Nil when the batch is full or broken: the caller writes itself.
    func add(fd: Int32, _ bytes: UnsafeRawBufferPointer, _ completion: BatchedSendCompletion) -> BatchedSendTicket? {
        guard !broken, bytes.count > 0 else { return nil }
        let slot = waiting.count
        guard curing_prep_send(ring, fd, bytes.baseAddress, UInt32(clamping: bytes.count), UInt64(slot)) == 0
        else { return nil }
        waiting.append(completion)
        return BatchedSendTicket(round: round, slot: slot)
    }

    /// What withdrawing a send found (`withdraw`).
    enum Withdrawal: Equatable {
        /// It had not run: a no-op now, the bytes unsent.
        case notRun
        /// It ran in the round whose results are being told, and this is its result (as
        /// `BatchedSendCompletion` has it); its completion will not be called.
        case ran(Int32?)
        /// Its result was told already.
        case told
    }

    /// Takes a send back (its socket is closing, or its bytes are about to change) and
    /// forgets its sender.
    func withdraw(_ ticket: BatchedSendTicket) -> Withdrawal {
        if ticket.round == round, ticket.slot < waiting.count, waiting[ticket.slot] != nil, let ring {
            curing_cancel(ring, UInt32(ticket.slot))
            waiting[ticket.slot] = nil
            return .notRun
        }
        if ticket.round &+ 1 == round, ticket.slot < telling.count, telling[ticket.slot] != nil {
            telling[ticket.slot] = nil
            let r = results[ticket.slot]
            results[ticket.slot] = SendBatch.noResult
            return .ran(r == SendBatch.noResult ? nil : r)
        }
        return .told
    }

    /// Runs the queued sends, then tells each sender its result. Senders may queue again
    /// (the next round) from their completion, or withdraw a send whose result is not told
    /// yet (it then comes with the withdrawal).
    func submit() {
        guard !waiting.isEmpty, let ring else { return }
        let failed = curing_submit(ring) != 0
        var tag: UInt64 = 0
        var res: Int32 = 0
        while curing_reap(ring, &tag, &res) == 1 {
            if Int(tag) < waiting.count { results[Int(tag)] = res }
        }
        if failed {
            // Entries the kernel did not take must never run later: drop the ring.
            broken = true
            curing_free(ring)
            self.ring = nil
        }
        round &+= 1
        swap(&waiting, &telling)
        for i in telling.indices {
            let r = results[i]
            results[i] = SendBatch.noResult
            guard let c = telling[i] else { continue }
            telling[i] = nil
            c.batchedSendCompleted(r == SendBatch.noResult ? nil : r)
        }
        telling.removeAll(keepingCapacity: true)
    }
}
