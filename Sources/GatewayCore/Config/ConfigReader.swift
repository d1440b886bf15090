/// Reads one JSON object of the configuration, recording problems (with their paths)
/// instead of stopping at the first, and refusing unknown members: a misspelt field
/// silently ignored is how a route ends up unprotected.
struct ConfigReader {
    let path: String
    private let members: [(String, JSONValue)]
    let issues: IssueList
    private var known: Set<String> = []

    init?(_ value: JSONValue?, path: String, issues: IssueList) {
        guard let value else { return nil }
        guard case .object(let members) = value else {
            issues.add(path, "must be an object, not \(value.typeName)")
            return nil
        }
        self.path = path
        self.members = members
        self.issues = issues
    }

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func raw(_ key: String) -> JSONValue? {
        known.insert(key)
        return members.first { $0.0 == key }?.1
    }

    mutating func has(_ key: String) -> Bool {
        known.insert(key)
        return members.contains { $0.0 == key }
    }

    mutating func object(_ key: String) -> ConfigReader? {
        ConfigReader(raw(key), path: child(key), issues: issues)
    }

    mutating func string(_ key: String, required: Bool = false) -> String? {
        switch raw(key) {
        case .string(let s):
            return s
        case nil, .null?:
            if required { issues.add(child(key), "is required") }
            return nil
        case let other?:
            issues.add(child(key), "must be a string, not \(other.typeName)")
            return nil
        }
    }

    mutating func bool(_ key: String, default value: Bool) -> Bool {
        switch raw(key) {
        case .bool(let b)?: return b
        case nil, .null?: return value
        case let other?:
            issues.add(child(key), "must be true or false, not \(other.typeName)")
            return value
        }
    }

    mutating func int(_ key: String, default value: Int, range: ClosedRange<Int>) -> Int {
        switch raw(key) {
        case .number(let d)?:
            guard d == d.rounded(), let n = Int(exactly: d), range.contains(n) else {
                issues.add(child(key), "must be a whole number in \(range.lowerBound)...\(range.upperBound)")
                return value
            }
            return n
        case nil, .null?: return value
        case let other?:
            issues.add(child(key), "must be a number, not \(other.typeName)")
            return value
        }
    }

    /// A duration as `"500ms"`, `"10s"`, `"15m"`, `"2h"`, `"14d"` or a number of seconds;
    /// returned in milliseconds.
    mutating func duration(_ key: String, default value: Int64, range: ClosedRange<Int64>) -> Int64 {
        let v = raw(key)
        var ms: Int64?
        switch v {
        case nil, .null?: return value
        case .number(let d)?:
            if d >= 0, d <= 1e9 { ms = Int64((d * 1000).rounded()) }
        case .string(let s)?:
            ms = ConfigReader.parseDuration(s)
        case let other?:
            issues.add(child(key), "must be a duration like \"30s\", not \(other.typeName)")
            return value
        }
        guard let ms, range.contains(ms) else {
            issues.add(
                child(key),
                "must be a duration like \"30s\" between \(ConfigReader.format(range.lowerBound)) and \(ConfigReader.format(range.upperBound))"
            )
            return value
        }
        return ms
    }

    static func parseDuration(_ s: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            let number = s.dropLast(suffix.count)
            // "ms" must win over "s": "5ms" also ends in "s", so require the rest to be numeric.
            guard let n = Int64(number), n >= 0, n <= Int64.max / factor else { continue }
            return n * factor
        }
        return nil
    }

    static func format(_ ms: Int64) -> String {
        if ms % 86_400_000 == 0 && ms > 0 { return "\(ms / 86_400_000)d" }
        if ms % 3_600_000 == 0 && ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 && ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }

    /// A string, or an array of strings (`"a"` is read as `["a"]`).
    mutating func strings(_ key: String) -> [String]? {
        switch raw(key) {
        case nil, .null?: return nil
        case .string(let s)?: return [s]
        case .array(let items)?:
            var out: [String] = []
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item else {
                    issues.add("\(child(key))[\(i)]", "must be a string, not \(item.typeName)")
                    continue
                }
                out.append(s)
            }
            return out
        case let other?:
            issues.add(child(key), "must be a string or an array of strings, not \(other.typeName)")
            return nil
        }
    }

    /// An object whose values are all strings.
    mutating func stringMap(_ key: String) -> [(String, String)] {
        guard let v = raw(key) else { return [] }
        guard case .object(let members) = v else {
            if v != .null { issues.add(child(key), "must be an object of strings, not \(v.typeName)") }
            return []
        }
        var out: [(String, String)] = []
        for (name, value) in members {
            guard case .string(let s) = value else {
                issues.add("\(child(key)).\(name)", "must be a string, not \(value.typeName)")
                continue
            }
            out.append((name, s))
        }
        return out
    }

    /// Reports members that no reader asked for.
    func finish() {
        for (name, _) in members where !known.contains(name) {
            issues.add(child(name), "unknown field (check its spelling against docs/configuration.md)")
        }
    }
}
