import EventLoop

/// Request ids: a random per-worker prefix and a counter, so generating one costs no
/// system call and no lock, and ids never repeat across workers or restarts.
struct RequestIDGenerator {
    private var prefix: [UInt8]
    private var counter: UInt64 = 0

    init() {
        let seed = Syscall.randomBytes(8)
        prefix = []
        for b in seed { RequestIDGenerator.appendHex(b, to: &prefix) }
    }

    /// Appends 32 hex characters.
    mutating func next(into out: inout [UInt8]) {
        counter &+= 1
        out.append(contentsOf: prefix)
        // On the stack: this runs for every request without an id of its own.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { tmp in
            var c = counter
            for i in stride(from: 15, through: 0, by: -1) {
                let d = UInt8(c & 0xF)
                tmp[i] = d < 10 ? 0x30 + d : 0x61 + d - 10
                c >>= 4
            }
            out.append(contentsOf: tmp)
        }
    }

    static func appendHex(_ b: UInt8, to out: inout [UInt8]) {
        let digits: StaticString = "0123456789abcdef"
        out.append(digits.utf8Start[Int(b >> 4)])
        out.append(digits.utf8Start[Int(b & 0xF)])
    }

    /// An incoming id is kept if it is 1–128 characters of `[A-Za-z0-9._:-]`.
    static func isValid(_ b: UnsafeRawBufferPointer) -> Bool {
        guard b.count > 0, b.count <= 128 else { return false }
        for c in b {
            let ok =
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: ":") || c == UInt8(ascii: "-")
            if !ok { return false }
        }
        return true
    }
}
