import Dispatch
import Glibc
import Synchronization

/// Notices when files change on disk (certificates and keys), including Kubernetes' swap of
/// a mounted secret's `..data` symlink: `stat` follows links, so a new target is a new inode.
/// A change is reported once it has been stable for one tick, so a certificate and its key
/// written one after the other are taken together. Runs on a Dispatch timer, off the loops.
/// (`@unchecked`: the timer is set up once in `init`; all state is behind the Mutex.)
final class FileWatcher: @unchecked Sendable {
    /// What identifies one version of a file.
    struct Stamp: Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var changed: Int64

        static let missing = Stamp(device: 0, inode: 0, size: -1, modified: 0, changed: 0)

        init(device: UInt64, inode: UInt64, size: Int64, modified: Int64, changed: Int64) {
            self.device = device
            self.inode = inode
            self.size = size
            self.modified = modified
            self.changed = changed
        }

        init(path: String) {
            var st = stat()
            guard stat(path, &st) == 0 else {
                self = .missing
                return
            }
            self.init(
                device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                modified: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                changed: Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec))
        }
    }

    /// Pure: the watcher's memory and what one tick decides.
    struct State: Equatable, Sendable {
        var accepted: [String: Stamp] = [:]
        var pending: [String: Stamp]?

        /// Starts over from `stamps` (after a reload or a new list of files).
        mutating func reset(_ stamps: [String: Stamp]) {
            accepted = stamps
            pending = nil
        }

        /// True when a change seen on the previous tick is still the same now: report it.
        mutating func tick(_ stamps: [String: Stamp]) -> Bool {
            if stamps == accepted {
                pending = nil
                return false
            }
            if stamps == pending {
                accepted = stamps
                pending = nil
                return true
            }
            pending = stamps
            return false
        }
    }

    private let state = Mutex<(paths: [String], state: State)>(([], State()))
    private let timer: DispatchSourceTimer

    /// `onChange` runs on the watcher's queue.
    init(intervalMillis: Int, onChange: @escaping @Sendable () -> Void) {
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "gateway.file-watcher"))
        let interval = DispatchTimeInterval.milliseconds(intervalMillis)
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(intervalMillis / 4))
        timer.setEventHandler { [weak self] in
            guard let self else { return }
            if self.tick() { onChange() }
        }
        timer.resume()
    }

    deinit { timer.cancel() }

    /// Watches `paths` from now on, taking their current versions as the accepted ones.
    func watch(_ paths: [String]) {
        let stamps = Self.stamps(paths)
        state.withLock {
            $0.paths = paths
            $0.state.reset(stamps)
        }
    }

    private func tick() -> Bool {
        let paths = state.withLock { $0.paths }
        guard !paths.isEmpty else { return false }
        let stamps = Self.stamps(paths)
        return state.withLock { s in s.paths == paths ? s.state.tick(stamps) : false }
    }

    static func stamps(_ paths: [String]) -> [String: Stamp] {
        var out: [String: Stamp] = [:]
        for p in paths { out[p] = Stamp(path: p) }
        return out
    }
}
