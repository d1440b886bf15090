import Glibc

extension SocketAddress {
    /// The host part as a 128-bit number, IPv4 as its IPv4-mapped IPv6 form
    /// (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2), so one comparison serves both families.
    public var mappedIP: (hi: UInt64, lo: UInt64) {
        switch storage {
        case .v4(let host, _):
            return (0, 0x0000_ffff_0000_0000 | UInt64(UInt32(bigEndian: host)))
        case .v6(let host, _):
            var hi: UInt64 = 0
            var lo: UInt64 = 0
            for i in 0..<8 { hi = hi << 8 | UInt64(host[i]) }
            for i in 8..<16 { lo = lo << 8 | UInt64(host[i]) }
            return (hi, lo)
        }
    }

    /// The address for a 128-bit number (`mappedIP`'s inverse); an IPv4-mapped one is IPv4.
    public init(mappedIP ip: (hi: UInt64, lo: UInt64), port: UInt16) {
        if ip.hi == 0 && ip.lo >> 32 == 0xffff {
            self.init(storage: .v4(host: UInt32(truncatingIfNeeded: ip.lo).bigEndian, port: port))
            return
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: ip.hi >> (56 - 8 * i)) }
        for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: ip.lo >> (56 - 8 * i)) }
        self.init(storage: .v6(host: bytes, port: port))
    }
}
