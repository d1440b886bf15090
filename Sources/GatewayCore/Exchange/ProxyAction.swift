import HTTP1

/// What the driver must do after an event of a `ProxyExchange`.
enum ProxyAction: Equatable {
    /// Nothing yet: read more from the upstream (or wait for the client to drain).
    case readMore
    /// The response ended (`responseEnd` was called): pool or close the upstream connection
    /// (`ProxyExchange.reuseRefusal`), then finish the exchange.
    case complete
    /// A 101 switch was accepted: the connection becomes a tunnel. The bytes after the 101
    /// head are the upstream's first tunnel bytes and were not consumed.
    case tunnel
    /// Close this upstream connection and send the request again on a fresh one.
    case retry
    /// Nothing of the response was sent: close the upstream connection and answer `failure`.
    case fail(ProxyFailure)
    /// The response head was sent already: the client can only learn of the failure by the
    /// connection closing, at once.
    case abort
}

/// Why a proxied request is answered by the gateway instead of the upstream.
enum ProxyFailure: Equatable {
    /// Connecting or writing to the upstream failed (504 for a connect timeout, else 502).
    case unavailable(UpstreamFailure)
    /// The response head is malformed or larger than the limits (502).
    case malformedResponse
    /// The upstream closed the connection before a complete head (502).
    case closedWithoutAnswer
    /// A 101 that was not asked for (502).
    case unaskedSwitch
    /// A 101 to a WebSocket upgrade that is not a valid handshake answer (502).
    case badSwitch
    /// No (complete) response head in time (504).
    case responseTimeout
    /// The client's body did not arrive in time (408, then close).
    case requestBodyTimeout
    /// The client's body broke its framing or went over the route's limit (the server
    /// state machine's answer: 400, 413).
    case requestBody(HTTPServerError)

    /// The status the client is answered with.
    var status: Int {
        switch self {
        case .unavailable(.connectTimedOut), .responseTimeout: return 504
        case .unavailable, .malformedResponse, .closedWithoutAnswer, .unaskedSwitch, .badSwitch: return 502
        case .requestBodyTimeout: return 408
        case .requestBody(let e): return e.status
        }
    }

    /// The `error_description` of the answer.
    var description: String {
        switch self {
        case .unavailable(.connectTimedOut): return "The upstream did not accept the connection in time"
        case .unavailable: return "The upstream is unavailable"
        case .malformedResponse: return "The upstream sent a malformed response"
        case .closedWithoutAnswer: return "The upstream closed the connection without answering"
        case .unaskedSwitch: return "The upstream switched protocols without being asked to"
        case .badSwitch: return "The upstream's 101 answer is not a WebSocket handshake answer"
        case .responseTimeout: return "The upstream did not answer in time"
        case .requestBodyTimeout: return "The request body was not received in time"
        case .requestBody(.bodyTooLarge): return "The request body is larger than this route accepts"
        case .requestBody: return "The request body is malformed"
        }
    }
}
