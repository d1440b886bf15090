import Dispatch
import EventLoop

/// Host name resolution off the event loops: `getaddrinfo` blocks, so it runs on a
/// dispatch queue and the answer is handed back to the asking loop. Numeric hosts never
/// leave the loop.
public enum Resolver {
    private static let queue = DispatchQueue(label: "gateway.http-client.dns", attributes: .concurrent)

    /// Calls `completion` on `loop`'s thread with the addresses of `host`, or nil.
    public static func resolve(
        host: String, port: UInt16, on loop: EventLoop,
        _ completion: @escaping ([SocketAddress]?) -> Void
    ) {
        if let numeric = SocketAddress(numericHost: host, port: port) {
            completion([numeric])
            return
        }
        let box = LoopBound(completion)
        queue.async {
            let found = try? SocketAddress.resolve(host: host, port: port)
            loop.execute { box.value(found?.isEmpty == false ? found : nil) }
        }
    }
}

/// A value created on a loop and used only on that loop again, carried through another
/// thread that never touches it.
final class LoopBound<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
