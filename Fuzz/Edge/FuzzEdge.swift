// libFuzzer target: what the gateway reads from load balancers (GatewayCore, issue 13).
//
// Entry points (internal, reached with `@testable import`; the fuzz build compiles the
// modules with `-enable-testing`):
//  - `ProxyProtocolParser.parse(_:)`, the PROXY v1/v2 header. Checked: a header's length is
//    within the input, and every shorter prefix of it is `.needMore` (the reader peeks as
//    bytes arrive: a prefix must never be refused, or a slow proxy would be), and the whole
//    input gives the same answer as its header bytes alone.
//  - `ForwardedClient.resolve` over the input as `X-Forwarded-For` and as `Forwarded`, from
//    a trusted peer: the client's text form reads back as the same address.
//  - `CIDRBlock(parsing:)` over the input as text.
@testable import GatewayCore
import EventLoop
import HTTP1

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEdge(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let whole = parse(bytes)
    if case .success(.header(_, let n)) = whole {
        precondition(n > 0 && n <= bytes.count, "header length \(n) outside the input (\(bytes.count))")
        for k in 0..<n {
            guard case .success(.needMore) = parse(Array(bytes[..<k])) else {
                preconditionFailure("a \(k)-byte prefix of a \(n)-byte header was not needMore")
            }
        }
        precondition(parse(Array(bytes[..<n])) == whole, "the header alone parses differently")
    }

    let text = String(decoding: bytes, as: UTF8.self)
    _ = CIDRBlock(parsing: text)
    let trusted = TrustedProxies(["10.0.0.0/8", "::1"].map { CIDRBlock(parsing: $0)! })
    let peer = SocketAddress(numericHost: "10.0.0.2", port: 1)!
    for name in ["X-Forwarded-For", "Forwarded"] {
        let request = Array("GET / HTTP/1.1\r\nHost: h\r\n\(name): ".utf8) + bytes + Array("\r\n\r\n".utf8)
        var head = RequestHead()
        let ok: Bool = request.withUnsafeBytes { b in
            do throws(HTTPParseError) {
                try RequestHeadParser.parse(b, into: &head)
                return true
            } catch {
                return false
            }
        }
        guard ok else { continue }
        let ip = ForwardedClient.resolve(head, peer: peer.mappedIP, trusted: trusted)
        // The client's text (what throttling and the access log use) reads back as the same address.
        let text = SocketAddress(mappedIP: ip, port: 0).hostText
        guard let back = IPText.parse(text) else { preconditionFailure("client text \(text) does not parse") }
        precondition(back == ip, "client text \(text) reads back as another address")
    }
    return 0
}

private func parse(_ b: [UInt8]) -> Result<ProxyProtocolParser.Result, ProxyProtocolError> {
    b.withUnsafeBytes { p in
        do throws(ProxyProtocolError) {
            return .success(try ProxyProtocolParser.parse(p))
        } catch {
            return .failure(error)
        }
    }
}
