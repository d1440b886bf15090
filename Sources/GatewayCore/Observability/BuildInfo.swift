/// What the binary was built from, for `gateway_build_info`. The version is the one
/// `gateway --version` prints. The commit is "unknown" in the source, so a clean checkout
/// builds without git; the Dockerfile stamps it from its `GATEWAY_COMMIT` build argument
/// (docs/deploy.md), which must stay the only string literal on the `commit` line.
enum BuildInfo {
    static let version = Gateway.version
    static let commit = "unknown"

    /// `gateway_build_info{version,commit} 1`.
    static func append(to out: inout String) {
        out += "# HELP gateway_build_info The gateway's version and source commit; the value is always 1.\n"
        out += "# TYPE gateway_build_info gauge\n"
        out += "gateway_build_info{version=\"\(Metrics.escape(version))\",commit=\"\(Metrics.escape(commit))\"} 1\n"
    }
}
