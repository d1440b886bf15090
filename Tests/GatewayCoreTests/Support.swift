import Glibc
import JOSE
import Testing

@testable import GatewayCore

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// A fresh directory under /tmp, removed (with its files) by `remove()`.
final class TempDir {
    let path: String
    private var files: [String] = []

    init() {
        var template = Array("/tmp/gwcore-test-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(p != nil, "mkdtemp failed")
        path = String(cString: p!)
    }

    /// Writes `contents` to `name` in this directory and returns the full path.
    @discardableResult
    func write(_ name: String, _ contents: [UInt8]) throws -> String {
        let full = path + "/" + name
        try FileIO.writeAtomically(full, contents)
        files.append(full)
        return full
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String { try write(name, bytes(text)) }

    func remove() {
        for f in files { unlink(f) }
        rmdir(path)
    }
}

// MARK: Configuration

/// A route that needs no tokens.
let publicRoute = #"{"path":"/public","upstream":"http://127.0.0.1:9001","auth":"none"}"#

let tokensJSON = #"""
    {"issuer":"https://auth.example.com","audience":"api",
     "keys":[{"kid":"k1","alg":"HS256","secret_env":"GW_TEST_SECRET"}]}
    """#

func parseConfig(_ json: String, environment: [String: String] = [:]) throws(ConfigError) -> GatewayConfig {
    try GatewayConfig.parse(bytes(json), baseDirectory: "/etc/gateway", environment: environment)
}

/// The issues a configuration is refused with (records a failure if it is accepted).
func configIssues(
    _ json: String, environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
) -> [ConfigError.Issue] {
    do {
        _ = try parseConfig(json, environment: environment)
        Issue.record("configuration was accepted", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.issues
    }
}

/// Whether `issues` holds one at exactly `path` whose message contains `text`.
func has(_ issues: [ConfigError.Issue], _ path: String, _ text: String = "") -> Bool {
    issues.contains { $0.path == path && (text.isEmpty || $0.message.contains(text)) }
}

// MARK: Tokens and claims

let testSecret = [UInt8](repeating: 0x61, count: 32)
let testKey = try! JWSKey.hmac(secret: testSecret, algorithm: .hs256, kid: "test")

/// Claims as the gateway sees them after verification: `payload` signed and verified.
func claims(_ payload: String) throws -> Claims {
    let set = try JWSKeySet(verificationKeys: [testKey], signingKey: testKey)
    let token = try set.sign(payload: bytes(payload))
    return try set.verify(token: token, allowedAlgorithms: [.hs256]).claims
}

/// Wall-clock Unix milliseconds.
func nowMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

func tokenSettings(
    keys: [KeySource], algorithms: [String] = [], signingKey: String? = nil, audience: [String] = ["api"],
    accessTTL: Int64 = 900_000
) -> TokenSettings {
    TokenSettings(
        issuer: "https://auth.example.com", audience: audience, accessTTL: accessTTL, refreshTTL: 14 * 86_400_000,
        leeway: 30_000, refreshReuseGrace: 10_000, requireBoundAccessToken: false, algorithms: algorithms,
        signingKey: signingKey, keys: keys)
}

func envKey(_ kid: String, _ variable: String, alg: String = "HS256", index: Int = 0) -> KeySource {
    KeySource(kid: kid, alg: alg, material: .secretEnv(variable), path: "tokens.keys[\(index)]")
}

func headerValue(_ response: LocalResponse, _ name: String) -> String? {
    response.headers.first { $0.0.lowercased() == name.lowercased() }?.1
}

func bodyText(_ response: LocalResponse) -> String { String(decoding: response.body, as: UTF8.self) }
