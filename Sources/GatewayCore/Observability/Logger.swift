import Glibc

/// Lifecycle and error messages, one JSON object per line on stderr. Messages are built
/// only if their level is enabled (`@autoclosure`). Never pass a token, password or key:
/// log `jti`, `sid` and `sub` only.
public struct Logger: Sendable {
    public var level: LogSettings.Level

    public init(level: LogSettings.Level) {
        self.level = level
    }

    public func debug(_ message: @autoclosure () -> String) { log(.debug, message) }
    public func info(_ message: @autoclosure () -> String) { log(.info, message) }
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message) }
    public func error(_ message: @autoclosure () -> String) { log(.error, message) }

    private func log(_ l: LogSettings.Level, _ message: () -> String) {
        guard l >= level else { return }
        var line: [UInt8] = []
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        HeadWriterShim.append(
            "{\"time\":\(ts.tv_sec).\(String(ts.tv_nsec / 1_000_000).leftPad(3)),\"level\":\"\(l.rawValue)\",\"msg\":",
            to: &line)
        JSONWriter.appendString(message(), to: &line)
        HeadWriterShim.append("}\n", to: &line)
        line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }
}

enum HeadWriterShim {
    static func append(_ s: String, to out: inout [UInt8]) { out.append(contentsOf: s.utf8) }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
