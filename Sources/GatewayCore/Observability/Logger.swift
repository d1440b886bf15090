import Glibc
import HTTP1

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
        HeadWriter.append("{\"time\":", to: &line)
        WallClock.appendSeconds(WallClock.millis(), to: &line)
        HeadWriter.append(",\"level\":\"\(l.rawValue)\",\"msg\":", to: &line)
        JSONWriter.appendString(message(), to: &line)
        HeadWriter.append("}\n", to: &line)
        line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }
}
