/// The forward-auth endpoint's own answers; refusals reuse the proxy's (`AuthAnswers`).
enum ForwardAuthAnswers {
    /// `200` carrying the identity headers the route would have forwarded, for
    /// `auth_request_set` / `authResponseHeaders` / `copy_headers` to pass on.
    static func allowed(_ identityBlock: [UInt8]) -> LocalResponse {
        var r = LocalResponse(status: 200)
        r.headers = headers(identityBlock)
        r.headers.append(("Cache-Control", "no-store"))
        return r
    }

    /// Splits `Name: value\r\n` lines (as `BearerVerifier` makes them) into pairs.
    static func headers(_ block: [UInt8]) -> [(String, String)] {
        var out: [(String, String)] = []
        var start = 0
        var i = 0
        while i + 1 < block.count {
            if block[i] == 0x0D && block[i + 1] == 0x0A {
                let line = block[start..<i]
                if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                    var v = colon + 1
                    while v < i, block[v] == 0x20 { v += 1 }
                    out.append(
                        (
                            String(decoding: block[start..<colon], as: UTF8.self),
                            String(decoding: block[v..<i], as: UTF8.self)
                        ))
                }
                start = i + 2
                i += 2
            } else {
                i += 1
            }
        }
        return out
    }

    static func describe(_ p: ForwardAuthTarget.Problem) -> String {
        switch p {
        case .missingURI: return "The forwarded request URI is missing (X-Forwarded-Uri or X-Original-URI)"
        case .invalidURI: return "The forwarded request URI is not a valid origin-form path"
        case .invalidMethod: return "The forwarded request method is not a valid method"
        case .invalidHost: return "The forwarded request host is not a valid host"
        case .conflicting: return "The forwarded request headers disagree (several URI, method or host fields)"
        }
    }
}
