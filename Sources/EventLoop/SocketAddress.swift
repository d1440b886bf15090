import CLinux
import Glibc

/// An IPv4 or IPv6 socket address.
public struct SocketAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    enum Storage: Sendable, Equatable, Hashable {
        case v4(host: UInt32, port: UInt16)  // network byte order host
        case v6(host: [UInt8], port: UInt16)
    }
    let storage: Storage

    public var port: Int {
        switch storage {
        case .v4(_, let p), .v6(_, let p): return Int(p)
        }
    }

    /// Parses `1.2.3.4:80`, `[::1]:80`, or `:80` (all interfaces is not offered: a bare port
    /// means 127.0.0.1).
    public init?(parsing text: String) {
        var host = "127.0.0.1"
        var portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            if colon != text.startIndex { host = String(text[..<colon]) }
            portText = text[text.index(after: colon)...]
        } else {
            return nil
        }
        guard let port = UInt16(portText) else { return nil }
        self.init(numericHost: host, port: port)
    }

    /// A numeric IPv4 or IPv6 address; nil for a name.
    public init?(numericHost host: String, port: UInt16) {
        var a4 = in_addr()
        if inet_pton(AF_INET, host, &a4) == 1 {
            storage = .v4(host: a4.s_addr, port: port)
            return
        }
        var a6 = in6_addr()
        if inet_pton(AF_INET6, host, &a6) == 1 {
            storage = .v6(host: withUnsafeBytes(of: a6) { Array($0) }, port: port)
            return
        }
        return nil
    }

    /// Resolves a host name (blocking `getaddrinfo`: for start-up and reload only, never on
    /// an event loop).
    public static func resolve(host: String, port: UInt16) throws(IOError) -> [SocketAddress] {
        if let numeric = SocketAddress(numericHost: host, port: port) { return [numeric] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else { throw IOError(errno: EHOSTUNREACH, function: "getaddrinfo(\(host))") }
        defer { freeaddrinfo(first) }
        var out: [SocketAddress] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let ai = p {
            if let sa = ai.pointee.ai_addr {
                if ai.pointee.ai_family == AF_INET {
                    let v = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
                    out.append(SocketAddress(storage: .v4(host: v.sin_addr.s_addr, port: port)))
                } else if ai.pointee.ai_family == AF_INET6 {
                    let v = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
                    out.append(
                        SocketAddress(storage: .v6(host: withUnsafeBytes(of: v.sin6_addr) { Array($0) }, port: port)))
                }
            }
            p = ai.pointee.ai_next
        }
        if out.isEmpty { throw IOError(errno: EHOSTUNREACH, function: "getaddrinfo(\(host))") }
        return out
    }

    init(storage: Storage) {
        self.storage = storage
    }

    var family: Int32 {
        switch storage {
        case .v4: return AF_INET
        case .v6: return AF_INET6
        }
    }

    /// Calls `body` with a `sockaddr` view of this address.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        switch storage {
        case .v4(let host, let port):
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr.s_addr = host
            return withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6(let host, let port):
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { dst in
                for i in 0..<16 { dst[i] = host[i] }
            }
            return withUnsafePointer(to: &sin6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }

    /// Reads a peer address filled in by `accept4`.
    init?(_ ss: sockaddr_storage) {
        var copy = ss
        switch Int32(ss.ss_family) {
        case AF_INET:
            let v = withUnsafePointer(to: &copy) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
            }
            storage = .v4(host: v.sin_addr.s_addr, port: UInt16(bigEndian: v.sin_port))
        case AF_INET6:
            let v = withUnsafePointer(to: &copy) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
            }
            storage = .v6(host: withUnsafeBytes(of: v.sin6_addr) { Array($0) }, port: UInt16(bigEndian: v.sin6_port))
        default:
            return nil
        }
    }

    /// The host part alone, as a hashable key (per-client limits, throttling).
    public struct HostKey: Hashable, Sendable {
        let v4: UInt32
        let v6: [UInt8]
    }

    public var hostKey: HostKey {
        switch storage {
        case .v4(let host, _): return HostKey(v4: host, v6: [])
        case .v6(let host, _): return HostKey(v4: 0, v6: host)
        }
    }

    /// The address without the port, as text (`127.0.0.1`, `::1`).
    public var hostText: String {
        switch storage {
        case .v4(let host, _):
            // Formatted by hand: it is asked for on every proxied request (X-Forwarded-For), and
            // at most 15 bytes make a small string, so this allocates nothing (inet_ntop formats
            // with sprintf and needs a buffer and a copy).
            let octets = UInt32(bigEndian: host)
            return String(unsafeUninitializedCapacity: 15) { out in
                var n = 0
                for shift in stride(from: 24, through: 0, by: -8) {
                    let o = Int((octets >> UInt32(shift)) & 0xFF)
                    if o >= 100 {
                        out[n] = UInt8(0x30 + o / 100)
                        n += 1
                    }
                    if o >= 10 {
                        out[n] = UInt8(0x30 + o / 10 % 10)
                        n += 1
                    }
                    out[n] = UInt8(0x30 + o % 10)
                    n += 1
                    if shift > 0 {
                        out[n] = UInt8(ascii: ".")
                        n += 1
                    }
                }
                return n
            }
        case .v6(let host, _):
            var a = in6_addr()
            withUnsafeMutableBytes(of: &a) { dst in for i in 0..<16 { dst[i] = host[i] } }
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(INET6_ADDRSTRLEN) + 1) { buf in
                guard inet_ntop(AF_INET6, &a, buf.baseAddress, socklen_t(buf.count)) != nil else { return "" }
                return String(cString: buf.baseAddress!)
            }
        }
    }

    /// `127.0.0.1:80` or `[::1]:80`.
    public var description: String {
        switch storage {
        case .v4: return "\(hostText):\(port)"
        case .v6: return "[\(hostText)]:\(port)"
        }
    }
}
