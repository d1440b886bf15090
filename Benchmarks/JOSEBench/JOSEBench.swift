import JOSE

#if canImport(Glibc)
import Glibc
#endif

/// Release-mode micro-benchmark of the JOSE layer: operations per second on one thread.
///
/// Output: one `RESULT <name> <ops/s>` line per case (median of `--rounds` runs of
/// `--seconds` each), read by `scripts/bench-jose`. `--only a,b` selects cases.
enum JOSEBench {
    nonisolated(unsafe) static var sink: Double = 0

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Runs `body` in batches for `seconds`; returns operations per second.
    static func measure(seconds: Double, batch: Int, _ body: () -> Void) -> Double {
        for _ in 0..<batch { body() }  // warm-up
        var ops = 0
        let start = now()
        var elapsed = 0.0
        repeat {
            for _ in 0..<batch { body() }
            ops += batch
            elapsed = now() - start
        } while elapsed < seconds
        return Double(ops) / elapsed
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// A typical access token's claims (RFC 9068 profile); the HS256 token is ~400 bytes.
    static func claims(_ i: Int = 0) -> [UInt8] {
        Array(
            ("{\"iss\":\"https://auth.example.com\",\"sub\":\"user-4711\",\"aud\":\"api\",\"exp\":4102444800,"
                + "\"iat\":1700000000,\"nbf\":1700000000,\"jti\":\"01HF8Z3Q7X9K\(i)\",\"sid\":\"fam-4f9c2a7e\","
                + "\"scope\":\"read write\",\"roles\":[\"admin\"],\"tenant\":\"acme\"}").utf8
        )
    }

    static func run(arguments: [String]) {
        var seconds = 1.0
        var rounds = 3
        var only: Set<String>?
        var i = 1
        while i < arguments.count {
            switch arguments[i] {
            case "--seconds": seconds = Double(arguments[i + 1]) ?? seconds; i += 1
            case "--rounds": rounds = Int(arguments[i + 1]) ?? rounds; i += 1
            case "--only": only = Set(arguments[i + 1].split(separator: ",").map(String.init)); i += 1
            default: break
            }
            i += 1
        }
        do {
            try runCases(seconds: seconds, rounds: rounds, only: only)
        } catch {
            print("bench failed: \(error)")
            exit(1)
        }
    }

    static func runCases(seconds: Double, rounds: Int, only: Set<String>?) throws {
        // Each case builds its state only when selected: (name, batch size, setup returning the operation).
        var cases: [(String, Int, () throws -> () -> Void)] = []
        let payload = claims()
        let hs256 = try JWSKey.hmac(secret: JWSKey.generateHMACSecret(for: .hs256), algorithm: .hs256, kid: "hs-2026")
        let hsKeys = try JWSKeySet(verificationKeys: [], signingKey: hs256)

        func verifyCase(_ name: String, _ makeKey: @escaping () throws -> JWSKey, batch: Int) {
            cases.append(
                (
                    name, batch,
                    {
                        let key = try makeKey()
                        let keys = try JWSKeySet(verificationKeys: [], signingKey: key)
                        let token = try keys.sign(payload: payload)
                        let allowed: JWSAlgorithmSet = [key.algorithm]
                        if name == "HS256-verify" { print("INFO HS256 token bytes: \(token.count)") }
                        return {
                            let v = token.withUnsafeBytes { try? keys.verify(token: $0, allowedAlgorithms: allowed) }
                            sink += v?.claims.exp ?? -1
                        }
                    }
                )
            )
        }

        verifyCase("HS256-verify", { hs256 }, batch: 1000)
        verifyCase("RS256-verify", { try JWSKey.generate(algorithm: .rs256, kid: "rs-2026") }, batch: 100)
        verifyCase("PS256-verify", { try JWSKey.generate(algorithm: .ps256, kid: "ps-2026") }, batch: 100)
        verifyCase("ES256-verify", { try JWSKey.generate(algorithm: .es256, kid: "es-2026") }, batch: 50)
        verifyCase("EdDSA-verify", { try JWSKey.generate(algorithm: .edDSA, kid: "ed-2026") }, batch: 50)

        // Signing (login/refresh path).
        cases.append(("HS256-sign", 1000, { { sink += Double((try? hsKeys.sign(payload: payload))?.count ?? 0) } }))
        cases.append(
            (
                "ES256-sign", 100,
                {
                    let esKeys = try JWSKeySet(
                        verificationKeys: [],
                        signingKey: JWSKey.generate(algorithm: .es256, kid: "es")
                    )
                    return { sink += Double((try? esKeys.sign(payload: payload))?.count ?? 0) }
                }
            )
        )

        // Full access-token check: signature + claim rules.
        cases.append(
            (
                "HS256-verify+claims", 1000,
                {
                    let verifier = AccessTokenVerifier(
                        keys: hsKeys,
                        allowedAlgorithms: [.hs256],
                        rules: ClaimRules(
                            issuer: "https://auth.example.com",
                            audience: "api",
                            requireAccessTokenType: true
                        )
                    )
                    let hsToken = try hsKeys.sign(payload: payload)
                    return {
                        let v = hsToken.withUnsafeBytes { try? verifier.verify(token: $0, now: 1_700_000_100) }
                        sink += v?.claims.exp ?? -1
                    }
                }
            )
        )

        // Pieces.
        cases.append(("claims-scan", 1000, { { sink += (try? ClaimsScanner.scan(payload))?.exp ?? -1 } }))
        cases.append(
            (
                "base64url-decode", 1000,
                {
                    let segment = Base64URL.encode(payload)
                    return { sink += Double((try? Base64URL.decode(segment))?.count ?? 0) }
                }
            )
        )

        // Verified-token cache: 1024 distinct tokens, looked up round-robin.
        cases.append(
            (
                "cache-hit", 1000,
                {
                    let cache = VerifiedTokenCache(capacity: 4096)
                    var tokens = [[UInt8]]()
                    for n in 0..<1024 {
                        let t = try hsKeys.sign(payload: claims(n))
                        cache.insert(t, try hsKeys.verify(token: t, allowedAlgorithms: [.hs256]), now: 1_700_000_100)
                        tokens.append(t)
                    }
                    var k = 0
                    return {
                        let v = tokens[k].withUnsafeBytes { cache.lookup($0, now: 1_700_000_100) }
                        k = (k + 1) & 1023
                        sink += v?.claims.exp ?? -1
                    }
                }
            )
        )

        for (name, batch, setup) in cases where only == nil || only!.contains(name) {
            let body = try setup()
            var results = [Double]()
            for _ in 0..<rounds { results.append(measure(seconds: seconds, batch: batch, body)) }
            let m = median(results)
            print("RESULT \(name) \(Int(m.rounded())) min=\(Int(results.min()!)) max=\(Int(results.max()!))")
        }
        if sink == 0.123 { print(sink) }
    }
}
