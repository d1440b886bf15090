/// Everything wrong with a configuration, each problem with the JSON path of its field,
/// so that `gateway check` can name them all at once.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public struct Issue: Sendable, Equatable, CustomStringConvertible {
        /// JSON path, e.g. `routes[2].upstream`.
        public var path: String
        public var message: String
        public var description: String { path.isEmpty ? message : "\(path): \(message)" }
    }

    public var issues: [Issue]

    public init(issues: [Issue]) {
        self.issues = issues
    }

    public init(_ path: String, _ message: String) {
        self.issues = [Issue(path: path, message: message)]
    }

    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// Collects issues while a configuration is read.
final class IssueList {
    private(set) var issues: [ConfigError.Issue] = []
    func add(_ path: String, _ message: String) {
        issues.append(.init(path: path, message: message))
    }
}
