/// What a request asks for with `Upgrade` (RFC 9110 §7.8), judged for a route that passes
/// WebSocket upgrades through. Only an RFC 6455 §4.1 opening handshake is tunnelled.
public enum UpgradeRequest: Equatable, Sendable {
    /// No `Upgrade` field: an ordinary request.
    case none
    /// A valid WebSocket opening handshake.
    case webSocket
    /// Some other protocol (`h2c`, `foo/1`, ...): not one the gateway tunnels.
    case otherProtocol
    /// `websocket` was asked for, but the handshake is not one RFC 6455 allows.
    case invalidWebSocket(WebSocketHandshakeError)
}

/// Why a WebSocket opening handshake (RFC 6455 §4.1) was refused.
public enum WebSocketHandshakeError: Error, Equatable, Sendable {
    /// The handshake is a GET.
    case methodNotGet
    /// The handshake is HTTP/1.1.
    case versionNotHTTP11
    /// `Connection` does not list `upgrade`.
    case connectionLacksUpgrade
    /// `Upgrade` names more than `websocket` (or appears twice).
    case upgradeNotAlone
    /// `Sec-WebSocket-Key` is missing or sent twice.
    case keyMissing
    /// `Sec-WebSocket-Key` is not the base64 of 16 bytes.
    case keyInvalid
    /// `Sec-WebSocket-Version` is missing, sent twice, or not 13.
    case versionUnsupported

    public var reason: String {
        switch self {
        case .methodNotGet: return "A WebSocket handshake must be a GET"
        case .versionNotHTTP11: return "A WebSocket handshake must be HTTP/1.1"
        case .connectionLacksUpgrade: return "A WebSocket handshake must list upgrade in Connection"
        case .upgradeNotAlone: return "Upgrade must name websocket alone"
        case .keyMissing: return "A WebSocket handshake needs exactly one Sec-WebSocket-Key"
        case .keyInvalid: return "Sec-WebSocket-Key must be the base64 of 16 bytes"
        case .versionUnsupported: return "Only Sec-WebSocket-Version 13 is supported"
        }
    }
}

public enum WebSocketHandshake {
    /// Judges the request's `Upgrade` field and, for `websocket`, its opening handshake.
    public static func classify(_ head: RequestHead) -> UpgradeRequest {
        guard head.hasUpgradeField else { return .none }
        return head.bytes.withUnsafeBytes { b -> UpgradeRequest in
            var protocols = 0
            var webSocket = false
            var upgradeFields = 0
            var keys = 0
            var keyValid = false
            var versions = 0
            var version13 = false
            for f in head.fields {
                let vs = Int(f.valueStart)
                let ve = Int(f.valueEnd)
                if f.known == .upgrade {
                    upgradeFields += 1
                    forEachToken(b, vs, ve) { s, e in
                        protocols += 1
                        if b.equalsLowercase(s, e, "websocket") { webSocket = true }
                    }
                    continue
                }
                guard f.known == .other else { continue }
                let ns = Int(f.nameStart)
                let ne = Int(f.nameEnd)
                if b.equalsLowercase(ns, ne, "sec-websocket-key") {
                    keys += 1
                    keyValid = isNonce(b, vs, ve)
                } else if b.equalsLowercase(ns, ne, "sec-websocket-version") {
                    versions += 1
                    version13 = ve - vs == 2 && b[vs] == UInt8(ascii: "1") && b[vs + 1] == UInt8(ascii: "3")
                }
            }
            guard webSocket else { return .otherProtocol }
            if upgradeFields != 1 || protocols != 1 { return .invalidWebSocket(.upgradeNotAlone) }
            if head.method != .get { return .invalidWebSocket(.methodNotGet) }
            if head.version != .http11 { return .invalidWebSocket(.versionNotHTTP11) }
            if !head.connectionUpgrade { return .invalidWebSocket(.connectionLacksUpgrade) }
            if keys != 1 { return .invalidWebSocket(.keyMissing) }
            if !keyValid { return .invalidWebSocket(.keyInvalid) }
            if versions != 1 || !version13 { return .invalidWebSocket(.versionUnsupported) }
            return .webSocket
        }
    }

    /// The value of the request's `Sec-WebSocket-Key` (call after `classify` said `.webSocket`).
    public static func key(_ head: RequestHead) -> [UInt8]? {
        head.bytes.withUnsafeBytes { b -> [UInt8]? in
            for f in head.fields where f.known == .other {
                if b.equalsLowercase(Int(f.nameStart), Int(f.nameEnd), "sec-websocket-key") {
                    return Array(b[Int(f.valueStart)..<Int(f.valueEnd)])
                }
            }
            return nil
        }
    }

    /// Whether a 101 answer switches to WebSocket and nothing else: `Connection: upgrade`,
    /// `Upgrade: websocket` alone, and `Sec-WebSocket-Accept` equal to `accept` (RFC 6455 §4.2.2).
    public static func answerSwitches(_ response: ResponseHead, accept: [UInt8]) -> Bool {
        guard response.status == 101, response.connectionUpgrade else { return false }
        return response.bytes.withUnsafeBytes { b -> Bool in
            var upgrades = 0
            var webSocket = false
            var accepts = 0
            var acceptMatches = false
            for f in response.fields {
                let ns = Int(f.nameStart)
                let ne = Int(f.nameEnd)
                let vs = Int(f.valueStart)
                let ve = Int(f.valueEnd)
                if f.known == .upgrade {
                    forEachToken(b, vs, ve) { s, e in
                        upgrades += 1
                        if b.equalsLowercase(s, e, "websocket") { webSocket = true }
                    }
                } else if f.known == .other && b.equalsLowercase(ns, ne, "sec-websocket-accept") {
                    accepts += 1
                    acceptMatches = ve - vs == accept.count && accept.indices.allSatisfy { b[vs + $0] == accept[$0] }
                }
            }
            return upgrades == 1 && webSocket && accepts == 1 && acceptMatches
        }
    }

    /// Comma-separated list elements, without the parse errors `forEachListElement` may throw.
    private static func forEachToken(
        _ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int, _ body: (Int, Int) -> Void
    ) {
        try? forEachListElement(b, s, e) { (s, e) throws(HTTPParseError) in body(s, e) }
    }

    /// 24 characters of canonical base64 for 16 bytes: 22 of the alphabet (the last one
    /// carrying only 2 bits), then `==` (RFC 6455 §4.1, RFC 4648 §4).
    static func isNonce(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Bool {
        guard e - s == 24, b[s + 22] == UInt8(ascii: "="), b[s + 23] == UInt8(ascii: "=") else { return false }
        for i in s..<(s + 22) where base64Value(b[i]) == nil { return false }
        // The last character's low 4 bits fall past the 16th byte: canonical means zero.
        return base64Value(b[s + 21])! & 0x0F == 0
    }

    private static func base64Value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
