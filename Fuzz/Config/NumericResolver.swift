// Keeps the config harness off the network.
//
// `GatewayConfig.parse` resolves each upstream host with a blocking `getaddrinfo` (start-up and
// reload only). Fuzzed configs name random hosts, and every one would become a DNS query. This
// definition is linked into the fuzz binary beside the GatewayCore objects, so their calls bind
// to it at link time: numeric addresses go to the C library's resolver with `AI_NUMERICHOST`
// (no lookup leaves the process), and every name is answered `EAI_NONAME`, as an unknown name
// would be. Only the fuzz binary carries it.
#if canImport(Glibc)
import Glibc

private typealias GetAddrInfo = @convention(c) (
    UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<addrinfo>?,
    UnsafeMutablePointer<UnsafeMutablePointer<addrinfo>?>?
) -> CInt

private let realGetAddrInfo: GetAddrInfo = {
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: -1), "getaddrinfo") else {  // RTLD_NEXT
        fatalError("dlsym(RTLD_NEXT, getaddrinfo) failed")
    }
    return unsafeBitCast(sym, to: GetAddrInfo.self)
}()

@_cdecl("getaddrinfo")
public func numericOnlyGetAddrInfo(
    _ node: UnsafePointer<CChar>?, _ service: UnsafePointer<CChar>?, _ hints: UnsafePointer<addrinfo>?,
    _ res: UnsafeMutablePointer<UnsafeMutablePointer<addrinfo>?>?
) -> CInt {
    var h = hints?.pointee ?? addrinfo()
    h.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV
    return withUnsafePointer(to: &h) { realGetAddrInfo(node, service, $0, res) }
}
#endif
