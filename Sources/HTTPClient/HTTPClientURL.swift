/// An absolute `http://` or `https://` URL as the client fetches it: scheme, host, port and
/// the request target (path and query). No user info, no fragment.
public struct HTTPClientURL: Sendable, Hashable, CustomStringConvertible {
    public var isTLS: Bool
    /// Lower-cased host name or IP literal (IPv6 without brackets).
    public var host: String
    public var port: UInt16
    /// The request target: starts with `/`.
    public var target: String

    /// `host[:port]` as sent in `Host` (the port only when it is not the scheme's default).
    public var authority: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? h : "\(h):\(port)"
    }

    /// Same scheme, host and port (RFC 6454 origin).
    public func sameOrigin(as other: HTTPClientURL) -> Bool {
        isTLS == other.isTLS && host == other.host && port == other.port
    }

    public var description: String { "\(isTLS ? "https" : "http")://\(authority)\(target)" }

    /// Parses `text`; nil for anything but an absolute http(s) URL with a host.
    public init?(_ text: String) {
        let lower = text.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            isTLS = true
            rest = text.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            isTLS = false
            rest = text.dropFirst(7)
        } else {
            return nil
        }
        // Only visible ASCII: a space or control byte would end up in the request line.
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), !text.contains("#") else { return nil }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        if path.isEmpty { path = "/" } else if path.hasPrefix("?") { path = "/" + path }
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var hostPart = Substring(authority)
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { return nil }
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCII),
                let p = UInt16(portText), p > 0
            else { return nil }
            port = p
        } else {
            port = isTLS ? 443 : 80
        }
        host = hostPart.lowercased()
        target = path
    }

    /// Resolves a `Location` value against this URL: absolute, or an absolute path.
    public func resolving(_ location: String) -> HTTPClientURL? {
        if location.hasPrefix("/") && !location.hasPrefix("//") {
            guard location.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
            var u = self
            u.target = location
            return u
        }
        return HTTPClientURL(location)
    }
}
