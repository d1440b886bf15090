import EventLoop
import HTTP1

/// Who the current request comes from, as login throttling, the access log and
/// `X-Forwarded-For` see it. Kept per connection and updated once per request head.
///
/// `peer` is the connection's peer: the TCP peer, or the source a trusted proxy gave in a
/// PROXY protocol header. When that peer is a trusted proxy, the client is found by the
/// right-most-untrusted walk over `X-Forwarded-For` / `Forwarded` (`ForwardedClient`).
struct ClientAddress {
    /// The client's address as text (`192.0.2.7`, `2001:db8::1`), "unknown" without one.
    private(set) var text = "unknown"
    /// The connection's peer as text: what the gateway appends to `X-Forwarded-For`.
    private(set) var peerText = "unknown"
    /// The peer is a trusted proxy: its `X-Forwarded-*` and forward-auth headers count.
    private(set) var trustedPeer = false
    private var peerKnown = false

    init() {}

    /// Before the first head is read (an unreadable first request is logged with the peer).
    init(peer: SocketAddress?) {
        peerText = peer?.hostText ?? "unknown"
        text = peerText
        peerKnown = true
    }

    /// Called for every request head; costs nothing beyond a flag test when nobody is trusted.
    /// `head` is `inout` only so that the driver's stored head is not copied for the call.
    mutating func update(head: inout RequestHead, peer: SocketAddress?, trusted: TrustedProxies) {
        if !peerKnown {
            peerKnown = true
            peerText = peer?.hostText ?? "unknown"
        }
        // Trust is checked per request: a reload may change `trusted_proxies` under a kept-alive connection.
        guard let peer, trusted.contains(peer) else {
            trustedPeer = false
            text = peerText
            return
        }
        trustedPeer = true
        let ip = ForwardedClient.resolve(head, peer: peer.mappedIP, trusted: trusted)
        text = SocketAddress(mappedIP: ip, port: 0).hostText
    }
}
