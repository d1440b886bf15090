#if canImport(Glibc)
import Glibc
#endif

/// A system call that failed: what, on which file, and errno. Carries no file content.
public struct JournalIOError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var code: Int32

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(code))) (errno \(code))"
    }
}

/// The journal's only door to the file system: each call retries EINTR and turns -1 into a
/// `JournalIOError` that names the operation and the file.
enum FileSystem {
    @discardableResult
    static func call<T: BinaryInteger>(_ operation: String, _ path: String, _ body: () -> T) throws(JournalIOError) -> T
    {
        while true {
            let r = body()
            if r != -1 { return r }
            let e = errno
            if e == EINTR { continue }
            throw JournalIOError(operation: operation, path: path, code: e)
        }
    }

    static func join(_ dir: String, _ name: String) -> String { dir.hasSuffix("/") ? dir + name : dir + "/" + name }

    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws(JournalIOError) -> FileDescriptor {
        FileDescriptor(try call("open", path) { Glibc.open(path, flags | O_CLOEXEC, mode) }, path: path)
    }

    /// Creates `path` as a directory unless it exists already, durably (the parent's entry
    /// is synced too: a new data directory must not vanish with the first records in it).
    static func makeDirectory(_ path: String) throws(JournalIOError) {
        if mkdir(path, 0o700) == 0 {
            try syncDirectory(parent(of: path))
            return
        }
        let e = errno
        guard e == EEXIST else { throw JournalIOError(operation: "mkdir", path: path, code: e) }
        var st = stat()
        try call("stat", path) { stat(path, &st) }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw JournalIOError(operation: "mkdir", path: path, code: ENOTDIR)
        }
    }

    /// The directory holding `path` ("." for a bare name).
    static func parent(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "." }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    /// Makes the directory's entries (creations, renames, unlinks) durable.
    static func syncDirectory(_ path: String) throws(JournalIOError) {
        let dir = try open(path, O_RDONLY | O_DIRECTORY)
        try call("fsync", path) { fsync(dir.fd) }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Removes `path`; true if it existed.
    @discardableResult
    static func remove(_ path: String) throws(JournalIOError) -> Bool {
        if unlink(path) == 0 { return true }
        let e = errno
        if e == ENOENT { return false }
        throw JournalIOError(operation: "unlink", path: path, code: e)
    }

    static func rename(_ from: String, to: String) throws(JournalIOError) {
        try call("rename", from) { Glibc.rename(from, to) }
    }

    /// The names in `path` (without "." and ".."), at most `limit` of them.
    static func list(_ path: String, limit: Int = 100_000) throws(JournalIOError) -> [String] {
        guard let dir = opendir(path) else { throw JournalIOError(operation: "opendir", path: path, code: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while names.count < limit, let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

/// An open file, closed when the last reference goes.
final class FileDescriptor: @unchecked Sendable {  // an fd number and a path, both immutable
    let fd: Int32
    let path: String

    init(_ fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { Glibc.close(fd) }

    var size: Int {
        get throws(JournalIOError) {
            var st = stat()
            try FileSystem.call("fstat", path) { fstat(fd, &st) }
            return Int(st.st_size)
        }
    }

    /// Writes every byte, at the current offset (the end, for a file opened O_APPEND).
    func writeAll(_ bytes: [UInt8]) throws(JournalIOError) {
        var done = 0
        while done < bytes.count {
            let n = try FileSystem.call("write", path) {
                bytes.withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress! + done, raw.count - done) }
            }
            if n == 0 { throw JournalIOError(operation: "write", path: path, code: EIO) }
            done += n
        }
    }

    /// Reads up to `count` bytes at `offset`, appending them to `buffer`; returns how many (0 at the end).
    func read(into buffer: inout [UInt8], count: Int, at offset: Int) throws(JournalIOError) -> Int {
        var failure: Int32 = 0
        // Uninitialised capacity: no zero-filling of a chunk that pread overwrites anyway.
        let chunk = [UInt8](unsafeUninitializedCapacity: count) { raw, initialized in
            while true {
                let n = pread(fd, raw.baseAddress!, count, off_t(offset))
                if n >= 0 {
                    initialized = n
                    return
                }
                if errno != EINTR {
                    failure = errno
                    initialized = 0
                    return
                }
            }
        }
        if failure != 0 { throw JournalIOError(operation: "pread", path: path, code: failure) }
        buffer.append(contentsOf: chunk)
        return chunk.count
    }

    /// Flushes the data (and the size) to stable storage.
    func syncData() throws(JournalIOError) {
        try FileSystem.call("fdatasync", path) { fdatasync(fd) }
    }

    func sync() throws(JournalIOError) {
        try FileSystem.call("fsync", path) { fsync(fd) }
    }

    func truncate(to size: Int) throws(JournalIOError) {
        try FileSystem.call("ftruncate", path) { ftruncate(fd, off_t(size)) }
    }

    /// Drops this open file description's advisory lock, in every process sharing it.
    func unlock() {
        _ = flock(fd, LOCK_UN)
    }

    /// Takes an exclusive advisory lock without waiting; false if another open file holds it.
    func tryLock() throws(JournalIOError) -> Bool {
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
        let e = errno
        if e == EWOULDBLOCK { return false }
        throw JournalIOError(operation: "flock", path: path, code: e)
    }
}
