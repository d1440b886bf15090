/// The parameters of an auth request body: a JSON object (`application/json`) or a form
/// (`application/x-www-form-urlencoded`, RFC 6749 §3.2: a parameter sent twice is refused).
struct RequestParameters: Sendable {
    private(set) var values: [String: String] = [:]
    /// JSON `true` members (`{"all": true}`).
    private(set) var flags: Set<String> = []

    enum Failure: Error {
        case unsupportedMediaType
        case malformed(String)
    }

    subscript(name: String) -> String? { values[name] }

    static func parse(body: [UInt8], contentType: String?) throws(Failure) -> RequestParameters {
        var p = RequestParameters()
        if body.isEmpty { return p }
        let type = contentType.map { String($0.split(separator: ";", maxSplits: 1)[0]).trimmed.lowercased() } ?? ""
        switch type {
        case "application/json":
            let root: JSONValue
            do {
                root = try JSONParser.parse(body, maxDepth: 4)
            } catch {
                throw .malformed("The body is not valid JSON: \(error)")
            }
            guard case .object(let members) = root else { throw .malformed("The body must be a JSON object") }
            for (name, value) in members {
                switch value {
                case .string(let s): p.values[name] = s
                case .bool(true): p.flags.insert(name)
                case .bool(false), .null: break
                default: throw .malformed("\(name) must be a string")
                }
            }
        case "application/x-www-form-urlencoded":
            for pair in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
                let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = decode(Array(parts[0])), let value = decode(parts.count > 1 ? Array(parts[1]) : [])
                else {
                    throw .malformed("The form is not validly encoded")
                }
                if p.values[name] != nil { throw .malformed("\(name) is given more than once") }
                p.values[name] = value
            }
        default:
            throw .unsupportedMediaType
        }
        return p
    }

    /// A query string as parameters (`?all=true`).
    static func query(_ q: String?) -> [String: String] {
        var out: [String: String] = [:]
        for pair in (q ?? "").utf8.split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            if let n = decode(Array(parts[0])), let v = decode(parts.count > 1 ? Array(parts[1]) : []) { out[n] = v }
        }
        return out
    }

    func flag(_ name: String) -> Bool {
        flags.contains(name) || values[name] == "true" || values[name] == "1"
    }

    /// Percent-decoding with `+` as space; nil for bad escapes or invalid UTF-8.
    static func decode<C: Collection>(_ s: C) -> String? where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = s.startIndex
        while i != s.endIndex {
            let c = s[i]
            if c == UInt8(ascii: "+") {
                out.append(0x20)
            } else if c == UInt8(ascii: "%") {
                let h = s.index(after: i)
                guard h != s.endIndex, s.index(after: h) != s.endIndex, let hi = hex(s[h]),
                    let lo = hex(s[s.index(after: h)])
                else { return nil }
                out.append(hi << 4 | lo)
                i = s.index(after: h)
            } else {
                out.append(c)
            }
            i = s.index(after: i)
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - 48
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - 87
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - 55
        default: return nil
        }
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

extension LocalRequest {
    /// A cookie's value from the `Cookie` fields (RFC 6265 §5.4).
    func cookie(_ name: String) -> String? {
        for field in headers("cookie") {
            for pair in field.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if kv.count == 2, String(kv[0]).trimmed == name { return String(kv[1]).trimmed }
            }
        }
        return nil
    }

    /// The bearer token of the `Authorization` field, if it is one.
    var bearerToken: String? {
        let fields = headers("authorization")
        guard fields.count == 1 else { return nil }
        let v = fields[0]
        guard v.count > 7, v.prefix(7).lowercased() == "bearer " else { return nil }
        return String(v.dropFirst(7)).trimmed
    }
}
