import Glibc

/// The gateway's own paths (normalised bytes: login, refresh, logout, JWKS, ...) and what
/// answers them, matched exactly.
///
/// Every request is looked up here before its route, so the paths live in one flat byte
/// array with their offsets: the scan compares lengths first and bytes only when a length
/// matches, and touches no reference-counted element (an array of `([UInt8], any
/// LocalHandler)` pairs cost about 2,000 instructions per request, each pair copied out of
/// the array with its retains and releases).
struct LocalRouteTable: Sendable {
    private let bytes: [UInt8]
    private let spans: [(start: Int, count: Int)]
    private let handlers: [any LocalHandler]

    init(_ routes: [([UInt8], any LocalHandler)] = []) {
        var bytes: [UInt8] = []
        var spans: [(start: Int, count: Int)] = []
        for (path, _) in routes {
            spans.append((bytes.count, path.count))
            bytes.append(contentsOf: path)
        }
        self.bytes = bytes
        self.spans = spans
        self.handlers = routes.map(\.1)
    }

    var isEmpty: Bool { spans.isEmpty }

    /// The handler of exactly `path`, if the gateway serves it.
    func handler(for path: UnsafeRawBufferPointer) -> (any LocalHandler)? {
        let found: Int? = bytes.withUnsafeBytes { all in
            spans.withUnsafeBufferPointer { spans in
                for (i, span) in spans.enumerated() where span.count == path.count {
                    if span.count == 0 || memcmp(all.baseAddress! + span.start, path.baseAddress!, span.count) == 0 {
                        return i
                    }
                }
                return nil
            }
        }
        return found.map { handlers[$0] }
    }
}
