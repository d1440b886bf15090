import EventLoop

/// What a PROXY protocol header said (haproxy's proxy-protocol.txt, v1 §2.1, v2 §2.2).
struct ProxyHeader: Equatable {
    /// The original client; nil for a v2 LOCAL command, v1 `UNKNOWN` or an unspecified
    /// family (health checks of the proxy itself): the connection's own peer stands.
    var source: SocketAddress?
    var destination: SocketAddress?
}

/// Why a PROXY protocol header was refused. Each closes the connection.
enum ProxyProtocolError: Error, Equatable {
    /// Neither the v1 `PROXY ` prefix nor the v2 signature.
    case badSignature
    /// A v1 line that is not `PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n`.
    case malformedV1
    /// v1 longer than 107 bytes, or v2 longer than `ProxyProtocolParser.maxLength`.
    case tooLong
    /// v2 version nibble other than 2.
    case unsupportedVersion
    /// v2 command other than LOCAL (0) or PROXY (1).
    case unsupportedCommand
    /// v2 datagram transport or an unknown family.
    case unsupportedFamily
    /// v2 length too short for its address family.
    case truncatedAddresses
}

/// Parses a PROXY protocol v1 or v2 header from the start of a connection. Pure: the caller
/// peeks at the socket, and consumes exactly `length` bytes once a header is complete, so
/// the bytes after it (TLS ClientHello, the HTTP request) stay for the connection.
enum ProxyProtocolParser {
    enum Result: Equatable {
        case needMore
        case header(ProxyHeader, length: Int)
    }

    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    static let v1Prefix: [UInt8] = Array("PROXY ".utf8)
    /// v1 §2.1: 107 bytes at most, CRLF included.
    static let maxV1Length = 107
    /// Largest v2 header accepted (16-byte preamble, addresses and TLVs).
    static let maxLength = 4096

    static func parse(_ b: UnsafeRawBufferPointer) throws(ProxyProtocolError) -> Result {
        if b.isEmpty { return .needMore }
        if b[0] == v2Signature[0] {
            for i in 0..<min(b.count, 12) where b[i] != v2Signature[i] { throw .badSignature }
            if b.count < 16 { return .needMore }
            return try parseV2(b)
        }
        for i in 0..<min(b.count, 6) where b[i] != v1Prefix[i] { throw .badSignature }
        return try parseV1(b)
    }

    private static func parseV2(_ b: UnsafeRawBufferPointer) throws(ProxyProtocolError) -> Result {
        let verCmd = b[12]
        guard verCmd >> 4 == 2 else { throw .unsupportedVersion }
        let command = verCmd & 0x0F
        guard command <= 1 else { throw .unsupportedCommand }
        let family = b[13] >> 4
        let proto = b[13] & 0x0F
        let length = Int(b[14]) << 8 | Int(b[15])
        guard 16 + length <= maxLength else { throw .tooLong }
        guard b.count >= 16 + length else { return .needMore }
        // LOCAL: the proxy speaks for itself; addresses (if any) are ignored (§2.2).
        if command == 0 { return .header(ProxyHeader(), length: 16 + length) }
        guard proto <= 1 else { throw .unsupportedFamily }
        switch family {
        case 0, 3:
            // UNSPEC, or AF_UNIX: no IP to use; the connection's own peer stands.
            guard proto == 1 || family == 0 else { throw .unsupportedFamily }
            return .header(ProxyHeader(), length: 16 + length)
        case 1:
            guard proto == 1 else { throw .unsupportedFamily }
            guard length >= 12 else { throw .truncatedAddresses }
            let src = SocketAddress(mappedIP: (0, 0x0000_ffff_0000_0000 | u32(b, 16)), port: u16(b, 24))
            let dst = SocketAddress(mappedIP: (0, 0x0000_ffff_0000_0000 | u32(b, 20)), port: u16(b, 26))
            return .header(ProxyHeader(source: src, destination: dst), length: 16 + length)
        case 2:
            guard proto == 1 else { throw .unsupportedFamily }
            guard length >= 36 else { throw .truncatedAddresses }
            let src = SocketAddress(mappedIP: (u64(b, 16), u64(b, 24)), port: u16(b, 48))
            let dst = SocketAddress(mappedIP: (u64(b, 32), u64(b, 40)), port: u16(b, 50))
            return .header(ProxyHeader(source: src, destination: dst), length: 16 + length)
        default:
            throw .unsupportedFamily
        }
    }

    private static func parseV1(_ b: UnsafeRawBufferPointer) throws(ProxyProtocolError) -> Result {
        var lf = -1
        for i in 0..<min(b.count, maxV1Length) where b[i] == 0x0A {
            lf = i
            break
        }
        if lf < 0 {
            if b.count >= maxV1Length { throw .tooLong }
            return .needMore
        }
        guard lf >= 1, b[lf - 1] == 0x0D else { throw .malformedV1 }
        let line = UnsafeRawBufferPointer(rebasing: b[6..<(lf - 1)])
        var parts: [Range<Int>] = []
        var s = 0
        for i in 0...line.count where i == line.count || line[i] == 0x20 {
            parts.append(s..<i)
            s = i + 1
        }
        func text(_ r: Range<Int>) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: line[r]), as: UTF8.self)
        }
        guard let first = parts.first else { throw .malformedV1 }
        let proto = text(first)
        // UNKNOWN: the rest of the line is to be ignored (§2.1).
        if proto == "UNKNOWN" { return .header(ProxyHeader(), length: lf + 1) }
        guard proto == "TCP4" || proto == "TCP6", parts.count == 5, parts.allSatisfy({ !$0.isEmpty }) else {
            throw .malformedV1
        }
        let v6 = proto == "TCP6"
        guard let sport = port(text(parts[3])), let dport = port(text(parts[4])),
            let src = address(text(parts[1]), v6: v6, port: sport),
            let dst = address(text(parts[2]), v6: v6, port: dport)
        else { throw .malformedV1 }
        return .header(ProxyHeader(source: src, destination: dst), length: lf + 1)
    }

    private static func address(_ t: String, v6: Bool, port: UInt16) -> SocketAddress? {
        guard t.contains(":") == v6, let ip = IPText.parse(t) else { return nil }
        return SocketAddress(mappedIP: ip, port: port)
    }

    /// 1-5 digits, no leading zero (except "0"), at most 65535.
    private static func port(_ t: String) -> UInt16? {
        guard !t.isEmpty, t.count <= 5, t.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if t.count > 1 && t.hasPrefix("0") { return nil }
        return UInt16(t)
    }

    private static func u16(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
    private static func u32(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt64 {
        UInt64(b[i]) << 24 | UInt64(b[i + 1]) << 16 | UInt64(b[i + 2]) << 8 | UInt64(b[i + 3])
    }
    private static func u64(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<8 { v = v << 8 | UInt64(b[i + k]) }
        return v
    }
}
