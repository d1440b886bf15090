/// Request method (RFC 9110 §9). Known methods are cases; others keep their bytes.
public enum HTTPMethod: Equatable, Hashable, Sendable {
    case get, head, post, put, delete, patch, options, trace, connect
    case other(String)

    /// Safe and idempotent methods may be retried on a fresh connection (RFC 9110 §9.2.2).
    public var isIdempotent: Bool {
        switch self {
        case .get, .head, .put, .delete, .options, .trace: return true
        default: return false
        }
    }

    public var name: String {
        switch self {
        case .get: return "GET"
        case .head: return "HEAD"
        case .post: return "POST"
        case .put: return "PUT"
        case .delete: return "DELETE"
        case .patch: return "PATCH"
        case .options: return "OPTIONS"
        case .trace: return "TRACE"
        case .connect: return "CONNECT"
        case .other(let s): return s
        }
    }

    /// Writes the method's name (no `String` for the known ones).
    public func write(into out: inout HeadBuffer) {
        switch self {
        case .get: out.append("GET")
        case .head: out.append("HEAD")
        case .post: out.append("POST")
        case .put: out.append("PUT")
        case .delete: out.append("DELETE")
        case .patch: out.append("PATCH")
        case .options: out.append("OPTIONS")
        case .trace: out.append("TRACE")
        case .connect: out.append("CONNECT")
        case .other(let s): out.append(s)
        }
    }

    public init(name: String) {
        switch name {
        case "GET": self = .get
        case "HEAD": self = .head
        case "POST": self = .post
        case "PUT": self = .put
        case "DELETE": self = .delete
        case "PATCH": self = .patch
        case "OPTIONS": self = .options
        case "TRACE": self = .trace
        case "CONNECT": self = .connect
        default: self = .other(name)
        }
    }

    /// Methods are case-sensitive (RFC 9110 §9.1): `get` is not `GET`.
    static func parse(_ buf: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> HTTPMethod {
        @inline(__always) func eq(_ s: StaticString) -> Bool {
            guard end - start == s.utf8CodeUnitCount else { return false }
            return memcmp(buf.baseAddress! + start, s.utf8Start, end - start) == 0
        }
        switch end - start {
        case 3: if eq("GET") { return .get }; if eq("PUT") { return .put }
        case 4: if eq("POST") { return .post }; if eq("HEAD") { return .head }
        case 5: if eq("PATCH") { return .patch }; if eq("TRACE") { return .trace }
        case 6: if eq("DELETE") { return .delete }
        case 7: if eq("OPTIONS") { return .options }; if eq("CONNECT") { return .connect }
        default: break
        }
        return .other(String(decoding: UnsafeRawBufferPointer(rebasing: buf[start..<end]), as: UTF8.self))
    }
}

#if canImport(Glibc)
import Glibc
#endif
