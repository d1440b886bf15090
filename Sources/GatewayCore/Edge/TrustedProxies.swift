import EventLoop

/// One CIDR block over 128-bit addresses; IPv4 blocks are kept in IPv4-mapped form, so an
/// IPv4 peer and its `::ffff:` spelling match the same block.
public struct CIDRBlock: Sendable, Equatable, CustomStringConvertible {
    let hi: UInt64
    let lo: UInt64
    /// Prefix length over 128 bits (an IPv4 `/n` is `96 + n`).
    let bits: Int
    public let description: String

    /// `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128). Nil when malformed,
    /// or when host bits are set below the prefix (`10.0.0.1/8` is almost always a typo).
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let ip = IPText.parse(String(parts[0])) else { return nil }
        let v4 = !parts[0].contains(":")
        var bits = 128
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy(\.isASCII),
                let n = Int(parts[1]), n >= 0, n <= (v4 ? 32 : 128)
            else { return nil }
            bits = v4 ? 96 + n : n
        }
        let (mhi, mlo) = CIDRBlock.mask(bits)
        guard ip.hi & ~mhi == 0, ip.lo & ~mlo == 0 else { return nil }
        self.hi = ip.hi
        self.lo = ip.lo
        self.bits = bits
        self.description = text
    }

    static func mask(_ bits: Int) -> (UInt64, UInt64) {
        let hi: UInt64 = bits >= 64 ? ~0 : (bits == 0 ? 0 : ~0 << (64 - bits))
        let lo: UInt64 = bits <= 64 ? 0 : (bits >= 128 ? ~0 : ~0 << (128 - bits))
        return (hi, lo)
    }

    func contains(_ ip: (hi: UInt64, lo: UInt64)) -> Bool {
        let (mhi, mlo) = CIDRBlock.mask(bits)
        return ip.hi & mhi == hi && ip.lo & mlo == lo
    }
}

/// `trusted_proxies`: the peers whose forwarding headers and PROXY protocol headers are
/// believed. Empty (the default) trusts nobody.
public struct TrustedProxies: Sendable, Equatable {
    public var blocks: [CIDRBlock] = []

    public init(_ blocks: [CIDRBlock] = []) { self.blocks = blocks }

    public var isEmpty: Bool { blocks.isEmpty }

    func contains(_ ip: (hi: UInt64, lo: UInt64)) -> Bool {
        for b in blocks where b.contains(ip) { return true }
        return false
    }

    /// Whether `peer` is a trusted proxy; nil (a Unix socket, unknown) never is.
    public func contains(_ peer: SocketAddress?) -> Bool {
        guard let peer, !blocks.isEmpty else { return false }
        return contains(peer.mappedIP)
    }
}
