import Glibc

/// The standard `process_*` metrics every Prometheus user expects from a server, read from
/// /proc at scrape time (the admin path), never on the request path.
struct ProcessMetrics: Equatable {
    var cpuSeconds: Double
    var residentBytes: Int
    var virtualBytes: Int
    var startTimeSeconds: Double
    var openFDs: Int
    var maxFDs: Int

    /// The fields of /proc/self/stat the metrics need (proc(5): utime, stime, starttime,
    /// vsize, rss). Clock-tick and page counts, as the kernel gives them.
    struct Stat: Equatable {
        var utimeTicks: Int
        var stimeTicks: Int
        var startTicks: Int
        var virtualBytes: Int
        var residentPages: Int
    }

    /// Parses /proc/self/stat. The command name (field 2) is in parentheses and may itself
    /// contain spaces and parentheses, so fields are counted from the last `)`.
    static func parseStat(_ bytes: [UInt8]) -> Stat? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // Fields after the name, numbered as in proc(5): 3 is the state.
        var fields: [Int: Int] = [:]
        var number = 3
        var i = close + 1
        while i < bytes.count && number <= 24 {
            while i < bytes.count && bytes[i] == UInt8(ascii: " ") { i += 1 }
            var value = 0
            var digits = 0
            var negative = false
            if i < bytes.count && bytes[i] == UInt8(ascii: "-") {
                negative = true
                i += 1
            }
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
                value = value &* 10 &+ Int(bytes[i] - UInt8(ascii: "0"))
                digits += 1
                i += 1
            }
            while i < bytes.count && bytes[i] != UInt8(ascii: " ") && bytes[i] != UInt8(ascii: "\n") { i += 1 }
            if digits > 0 { fields[number] = negative ? -value : value }
            number += 1
        }
        guard let utime = fields[14], let stime = fields[15], let start = fields[22], let vsize = fields[23],
            let rss = fields[24]
        else { return nil }
        return Stat(utimeTicks: utime, stimeTicks: stime, startTicks: start, virtualBytes: vsize, residentPages: rss)
    }

    /// The boot time (`btime`, seconds since the epoch) from /proc/stat.
    static func parseBootTime(_ bytes: [UInt8]) -> Int? {
        let key = Array("btime ".utf8)
        var lineStart = 0
        while lineStart < bytes.count {
            let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            if lineEnd - lineStart > key.count && Array(bytes[lineStart..<lineStart + key.count]) == key {
                var value = 0
                var digits = 0
                for b in bytes[(lineStart + key.count)..<lineEnd] {
                    guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else { break }
                    value = value &* 10 &+ Int(b - UInt8(ascii: "0"))
                    digits += 1
                }
                return digits > 0 ? value : nil
            }
            lineStart = lineEnd + 1
        }
        return nil
    }

    /// This process's values now, or nil when /proc is not readable (then the metrics are
    /// left out rather than reported as zero).
    static func current() -> ProcessMetrics? {
        guard let statBytes = try? FileIO.read("/proc/self/stat", limit: 1 << 16),
            let stat = parseStat(statBytes),
            let boot = bootTime
        else { return nil }
        let ticks = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
        let page = max(1, sysconf(Int32(_SC_PAGESIZE)))
        var limit = rlimit()
        let maxFDs =
            getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(clamping: limit.rlim_cur) : -1
        return ProcessMetrics(
            cpuSeconds: Double(stat.utimeTicks + stat.stimeTicks) / ticks,
            residentBytes: stat.residentPages * page,
            virtualBytes: stat.virtualBytes,
            startTimeSeconds: Double(boot) + Double(stat.startTicks) / ticks,
            openFDs: countOpenFDs(),
            maxFDs: maxFDs)
    }

    /// Read on the first scrape only: the boot time does not change.
    private static let bootTime: Int? = (try? FileIO.read("/proc/stat", limit: 1 << 22)).flatMap(parseBootTime)

    /// Entries of /proc/self/fd, less the one the listing itself holds open.
    private static func countOpenFDs() -> Int {
        guard let dir = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(dir) }
        var n = 0
        while let entry = readdir(dir) {
            if entry.pointee.d_name.0 != UInt8(ascii: ".") { n += 1 }
        }
        return n - 1
    }

    /// The exposition lines (text format 0.0.4).
    func append(to out: inout String) {
        out += "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
        out += "# TYPE process_cpu_seconds_total counter\n"
        out += "process_cpu_seconds_total \(cpuSeconds)\n"
        Self.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", "\(residentBytes)", &out)
        Self.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", "\(virtualBytes)", &out)
        Self.gauge(
            "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
            "\(startTimeSeconds)", &out)
        if openFDs >= 0 { Self.gauge("process_open_fds", "Number of open file descriptors.", "\(openFDs)", &out) }
        if maxFDs >= 0 {
            Self.gauge("process_max_fds", "Maximum number of open file descriptors.", "\(maxFDs)", &out)
        }
    }

    private static func gauge(_ name: String, _ help: String, _ value: String, _ out: inout String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(value)\n"
    }
}
