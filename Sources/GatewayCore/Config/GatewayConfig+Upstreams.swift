/// `upstream_health`: live upstreams (`docs/configuration.md`, "Live upstreams").
public struct UpstreamHealthSettings: Sendable, Equatable {
    /// How often upstream host names are resolved again in the background; 0: never
    /// (addresses found at start-up or reload stay).
    public var resolveInterval: Int64 = 30_000
    /// Consecutive connect failures or response timeouts that eject an address; 0: never.
    public var ejectAfter = 3
    /// How long an ejected address is skipped before it is tried again.
    public var ejectFor: Int64 = 10_000
    /// Active checks: `GET health_path` on every upstream address; nil: passive health only.
    public var healthPath: String?
    public var healthInterval: Int64 = 5_000
    public var healthTimeout: Int64 = 2_000

    public init() {}
}

extension GatewayConfig {
    static func readUpstreamHealth(_ root: inout ConfigReader) -> UpstreamHealthSettings {
        var h = UpstreamHealthSettings()
        guard var r = root.object("upstream_health") else { return h }
        h.resolveInterval = r.duration("resolve_interval", default: h.resolveInterval, range: 0...86_400_000)
        if h.resolveInterval > 0 && h.resolveInterval < 1000 {
            r.issues.add(r.child("resolve_interval"), "must be 0 (off) or at least 1s")
        }
        h.ejectAfter = r.int("eject_after", default: h.ejectAfter, range: 0...1000)
        h.ejectFor = r.duration("eject_for", default: h.ejectFor, range: 100...3_600_000)
        if let p = r.string("health_path") {
            if isNormalisedPath(p) && !p.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
                h.healthPath = p
            } else {
                r.issues.add(r.child("health_path"), "\(JSONWriter.quoted(p)) must be a normalised absolute path")
            }
        }
        h.healthInterval = r.duration("health_interval", default: h.healthInterval, range: 500...3_600_000)
        h.healthTimeout = r.duration("health_timeout", default: h.healthTimeout, range: 100...60_000)
        if h.healthTimeout >= h.healthInterval {
            r.issues.add(r.child("health_timeout"), "must be shorter than health_interval")
        }
        r.finish()
        return h
    }
}
