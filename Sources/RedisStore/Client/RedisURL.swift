/// Where the Redis server is and how to log in: `redis://[user:password@]host:port/db`, or
/// `rediss://…` for TLS (the context comes from `RedisOptions.tls`).
///
/// User and password are percent-decoded; a bare `redis://:password@host` gives a password
/// alone (the `default` user), and `redis://user@host` a user whose password comes from
/// elsewhere (`RedisOptions.password`, typically an environment variable). `description`
/// never shows the password.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    /// The logical database (`SELECT`), 0 unless the path names another.
    public var database: Int
    public var username: String?
    public var password: String?
    /// `rediss://`: the connection is TLS, verified against the server's certificate.
    public var tls: Bool

    public init(
        host: String,
        port: UInt16 = 6379,
        database: Int = 0,
        username: String? = nil,
        password: String? = nil,
        tls: Bool = false
    ) {
        self.tls = tls
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
    }

    /// Parses a `redis://` or `rediss://` (TLS) URL.
    public init(parsing text: String) throws(RedisURLError) {
        guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else { throw .notARedisURL }
        let scheme = text[..<colon].lowercased()
        guard scheme == "redis" || scheme == "rediss" else { throw .unsupportedScheme(scheme) }
        tls = scheme == "rediss"
        var rest = text[text.index(colon, offsetBy: 3)...]
        if rest.contains("?") || rest.contains("#") { throw .queryNotSupported }

        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var hostPort = rest
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            hostPort = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = try Self.percentDecode(userInfo[..<colon])
                username = user.isEmpty ? nil : user
                password = try Self.percentDecode(userInfo[userInfo.index(after: colon)...])
            } else {
                let user = try Self.percentDecode(userInfo)
                username = user.isEmpty ? nil : user
            }
        }

        port = 6379
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw .badHost }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .badHost }
                port = try Self.port(after.dropFirst())
            }
        } else if let colon = hostPort.firstIndex(of: ":") {
            host = String(hostPort[..<colon])
            port = try Self.port(hostPort[hostPort.index(after: colon)...])
        } else {
            host = String(hostPort)
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }) else { throw .badHost }

        database = 0
        if !path.isEmpty {
            guard let db = Int(path), db >= 0, path.allSatisfy(\.isASCII) else { throw .badDatabase }
            database = db
        }
    }

    /// The URL with the password replaced by `***`.
    public var description: String {
        var userInfo = ""
        if username != nil || password != nil {
            userInfo = (username ?? "") + (password != nil ? ":***" : "") + "@"
        }
        let h = host.contains(":") ? "[\(host)]" : host
        return (tls ? "rediss://" : "redis://") + "\(userInfo)\(h):\(port)/\(database)"
    }

    private static func port(_ s: Substring) throws(RedisURLError) -> UInt16 {
        guard let p = UInt16(s), p > 0 else { throw .badPort }
        return p
    }

    private static func percentDecode(_ s: Substring) throws(RedisURLError) -> String {
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%") {
                guard bytes.count >= 2, let hi = hexValue(bytes.popFirst()!), let lo = hexValue(bytes.popFirst()!)
                else {
                    throw .badPercentEncoding
                }
                out.append(hi << 4 | lo)
            } else {
                out.append(b)
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw .badPercentEncoding }
        return text
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Why a Redis URL was refused (the message never contains the URL: it may hold a password).
public enum RedisURLError: Error, Sendable, Equatable, CustomStringConvertible {
    case notARedisURL
    case unsupportedScheme(String)
    case queryNotSupported
    case badHost
    case badPort
    case badDatabase
    case badPercentEncoding

    public var description: String {
        switch self {
        case .notARedisURL: return "not a redis:// or rediss:// URL"
        case .unsupportedScheme(let s): return "unsupported scheme '\(s)' (only redis:// and rediss:// are supported)"
        case .queryNotSupported: return "query or fragment not supported in a Redis URL"
        case .badHost: return "bad host in Redis URL"
        case .badPort: return "bad port in Redis URL"
        case .badDatabase: return "bad database number in Redis URL"
        case .badPercentEncoding: return "bad percent-encoding in Redis URL credentials"
        }
    }
}
