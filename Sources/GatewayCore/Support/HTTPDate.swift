import Glibc

/// IMF-fixdate (RFC 9110 §5.6.7) for the `Date` header, formatted once per second.
struct HTTPDateCache {
    private(set) var value: [UInt8] = []
    private var second: Int = -1

    mutating func refresh() {
        var t = time(nil)
        guard Int(t) != second else { return }
        second = Int(t)
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let s =
            "\(days[Int(tm.tm_wday)]), \(two(tm.tm_mday)) \(months[Int(tm.tm_mon)]) \(tm.tm_year + 1900) "
            + "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)) GMT"
        value = Array(s.utf8)
    }
}
