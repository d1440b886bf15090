import Glibc
import HTTP1

/// Unix wall-clock time: token `exp`, revocation expiry and log timestamps are all
/// wall-clock (timeouts use the loops' monotonic clock instead).
enum WallClock {
    /// Unix time in milliseconds.
    static func millis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Appends `millis` as Unix seconds with three decimals (`1795657951.681`), without
    /// building a String.
    static func appendSeconds(_ millis: Int64, to out: inout [UInt8]) {
        HeadWriter.appendDecimal(millis / 1000, to: &out)
        let ms = millis % 1000
        out.append(UInt8(ascii: "."))
        out.append(UInt8(ascii: "0") + UInt8(ms / 100))
        out.append(UInt8(ascii: "0") + UInt8(ms / 10 % 10))
        out.append(UInt8(ascii: "0") + UInt8(ms % 10))
    }
}
