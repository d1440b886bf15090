/// A binary min-heap of (expiry, key): the next thing to expire is found in O(1) and
/// removed in O(log n), so a sweep does bounded work per call however large the state is.
///
/// Entries may be stale (the key was renewed or removed); the sweeper checks each popped
/// entry against the state, and re-queues renewed keys instead of pushing on every renewal,
/// which keeps one entry per live key.
struct ExpiryHeap<Key: Sendable>: Sendable {
    private var items: [(at: Int64, key: Key)] = []

    var count: Int { items.count }

    /// The earliest entry's expiry.
    var earliest: Int64? { items.first?.at }

    mutating func push(_ at: Int64, _ key: Key) {
        items.append((at, key))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].at < items[parent].at else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    /// Removes and returns the earliest entry if it expires at or before `now`.
    mutating func popExpired(now: Int64) -> (at: Int64, key: Key)? {
        guard let first = items.first, first.at <= now else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return first }
        items[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count, items[l].at < items[m].at { m = l }
            if r < items.count, items[r].at < items[m].at { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return first
    }

    mutating func removeAll() { items.removeAll() }
}
