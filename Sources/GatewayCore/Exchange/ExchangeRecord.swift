/// What the access log and the metrics keep of one exchange, proxied or answered locally.
struct ExchangeRecord {
    /// The upstream the request went to (health bookkeeping).
    var target: UpstreamURL?
    var status = 0
    /// When the request was handed to the upstream, and how long its response head took (ms).
    var upstreamStart: Int64 = 0
    var upstreamMillis: Int64?
}
