import HTTP1

/// The request an ingress controller asks about in a forward-auth subrequest: the method,
/// the normalised path, the canonical host. Read from `X-Forwarded-Method` /
/// `X-Original-Method`, `X-Forwarded-Uri` / `X-Original-URI` and `X-Forwarded-Host` (or
/// `Host`); or, Envoy `ext_authz` style, from the subrequest itself when its path is the
/// verify path plus the original path (`/_verify/api/x` asks about `/api/x`).
///
/// Only ever read from a trusted proxy's request: from anyone else these headers are forged.
struct ForwardAuthTarget {
    var method: HTTPMethod
    /// Canonical host without the port (`HostCanonicalizer`), empty when none was given.
    var host: [UInt8] = []

    enum Problem: Error, Equatable {
        case missingURI
        case invalidURI
        case invalidMethod
        case invalidHost
    }

    /// Reads the target of `head` into `path` (normalised, as for proxied requests).
    /// `suffix` is the part of the normalised request path after the verify path, if any.
    static func read(
        _ head: RequestHead, suffix: ArraySlice<UInt8>?, path: inout [UInt8]
    ) -> Result<ForwardAuthTarget, Problem> {
        var method = head.method
        if let m = head.value(named: "x-forwarded-method") ?? head.value(named: "x-original-method") {
            guard !m.isEmpty, m.utf8.count <= 32, m.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
                return .failure(.invalidMethod)
            }
            method = HTTPMethod(name: m)
        }
        var target = ForwardAuthTarget(method: method)
        let hostText = head.value(named: "x-forwarded-host").map { firstElement($0) } ?? head.host
        if let hostText, !hostText.isEmpty {
            var bytes = Array(hostText.utf8)
            let ok: Bool = bytes.withUnsafeBytes { b in
                (try? HostCanonicalizer.canonicalize(b, 0, b.count, into: &target.host)) != nil
            }
            bytes.removeAll()
            guard ok else { return .failure(.invalidHost) }
        }
        if let uri = head.value(named: "x-forwarded-uri") ?? head.value(named: "x-original-uri") {
            let bytes = Array(uri.utf8)
            guard bytes.first == UInt8(ascii: "/") else { return .failure(.invalidURI) }
            let q = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.count
            let ok: Bool = bytes.withUnsafeBytes { b in
                do throws(HTTPParseError) {
                    try PathNormalizer.normalize(UnsafeRawBufferPointer(rebasing: b[..<q]), into: &path)
                    if q < b.count { try PathNormalizer.validateQuery(UnsafeRawBufferPointer(rebasing: b[(q + 1)...])) }
                    return true
                } catch {
                    return false
                }
            }
            return ok ? .success(target) : .failure(.invalidURI)
        }
        guard let suffix, suffix.first == UInt8(ascii: "/") else { return .failure(.missingURI) }
        // Already normalised with the request path: the route sees exactly what a proxied request would.
        path.removeAll(keepingCapacity: true)
        path.append(contentsOf: suffix)
        return .success(target)
    }

    /// `a, b` → `a`: a chain of proxies lists the original host first.
    static func firstElement(_ s: String) -> String {
        guard let comma = s.firstIndex(of: ",") else { return s }
        return String(s[..<comma]).trimmingCharacters(in: " \t")
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
