import HTTP1

/// The request an ingress controller asks about in a forward-auth subrequest: the method,
/// the normalised path, the canonical host. Read from `X-Forwarded-Method` /
/// `X-Original-Method`, `X-Forwarded-Uri` / `X-Original-URI` / `X-Original-URL` and
/// `X-Forwarded-Host` (or `Host`), refusing spellings that disagree; or, Envoy `ext_authz` style, from the subrequest itself when its path is the
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
        /// Two spellings (or two fields) of the URI, method or host disagree: one of them
        /// came from the client through a proxy that set only the other.
        case conflicting
    }

    /// Reads the target of `head` into `path` (normalised, as for proxied requests).
    /// `suffix` is the part of the normalised request path after the verify path, if any.
    static func read(
        _ head: RequestHead, suffix: ArraySlice<UInt8>?, path: inout [UInt8]
    ) -> Result<ForwardAuthTarget, Problem> {
        do throws(Problem) {
            return .success(try parse(head, suffix: suffix, path: &path))
        } catch {
            return .failure(error)
        }
    }

    private static func parse(
        _ head: RequestHead, suffix: ArraySlice<UInt8>?, path: inout [UInt8]
    ) throws(Problem) -> ForwardAuthTarget {
        var method = head.method
        if let m = try agreed(head, ["x-forwarded-method", "x-original-method"]) {
            guard !m.isEmpty, m.utf8.count <= 32, m.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
                throw .invalidMethod
            }
            method = HTTPMethod(name: m)
        }
        var target = ForwardAuthTarget(method: method)
        // ingress-nginx sends the whole URL (`X-Original-URL: https://host/path?q`).
        var urlHost: String?
        var urlPath: String?
        if let url = try agreed(head, ["x-original-url"]) {
            guard let split = splitURL(url) else { throw .invalidURI }
            (urlHost, urlPath) = split
        }
        var hostText = try agreed(head, ["x-forwarded-host"]).map { firstElement($0) }
        if let urlHost {
            guard hostText == nil || hostText == urlHost else { throw .conflicting }
            hostText = urlHost
        }
        if let h = hostText ?? head.host, !h.isEmpty {
            let bytes = Array(h.utf8)
            let ok: Bool = bytes.withUnsafeBytes { b in
                (try? HostCanonicalizer.canonicalize(b, 0, b.count, into: &target.host)) != nil
            }
            guard ok else { throw .invalidHost }
        }
        var uri = try agreed(head, ["x-forwarded-uri", "x-original-uri"])
        if let urlPath {
            guard uri == nil || uri == urlPath else { throw .conflicting }
            uri = urlPath
        }
        if let uri {
            let bytes = Array(uri.utf8)
            guard bytes.first == UInt8(ascii: "/") else { throw .invalidURI }
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
            guard ok else { throw .invalidURI }
            return target
        }
        guard let suffix, suffix.first == UInt8(ascii: "/") else { throw .missingURI }
        // Already normalised with the request path: the route sees exactly what a proxied request would.
        path.removeAll(keepingCapacity: true)
        path.append(contentsOf: suffix)
        return target
    }

    /// The one value the fields named `names` (lower-case) carry between them; nil when
    /// none is present. Several fields, or spellings that disagree, are refused.
    static func agreed(_ head: RequestHead, _ names: [String]) throws(Problem) -> String? {
        var value: String?
        for f in head.fields where f.known == .other || f.known == .xForwardedHost {
            let n = head.name(f).lowercased()
            guard names.contains(n) else { continue }
            let v = head.value(f)
            if let value, value != v { throw .conflicting }
            if value != nil && names.count == 1 { throw .conflicting }
            value = v
        }
        return value
    }

    /// `http(s)://authority/path?query` → (authority, `/path?query`).
    static func splitURL(_ url: String) -> (String, String)? {
        let rest: Substring
        if url.hasPrefix("https://") {
            rest = url.dropFirst(8)
        } else if url.hasPrefix("http://") {
            rest = url.dropFirst(7)
        } else {
            return nil
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = String(rest[..<slash])
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
        return (authority, path)
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
