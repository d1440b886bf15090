import JOSE
import Testing

@testable import GatewayCore

/// Items 11 and 12 at the configuration layer: how key sources get their one algorithm, and
/// how refused JWKs are reported (with the key object's path and the JWK's kid).
@Suite("Token keys: one algorithm per key source")
struct TokenKeysBindingTests {
    private func issues(_ settings: TokenSettings) -> [ConfigError.Issue] {
        do {
            _ = try TokenKeys(settings: settings, environment: [:])
            Issue.record("keys were accepted")
            return []
        } catch {
            return error.issues
        }
    }

    private func claims() -> [UInt8] {
        let now = nowMillis() / 1000
        return Array(
            #"{"iss":"https://auth.example.com","aud":"api","sub":"x","exp":\#(now + 60),"iat":\#(now)}"#.utf8)
    }

    @Test("a PEM key configured for PS512 signs PS512 and its verifier refuses RS256 by the same key")
    func pemKey() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let generated = try JWSKey.generate(algorithm: .rs256, kid: "g")
        let path = try dir.write("rsa.pem", try generated.privateKeyPEM())
        let keys = try TokenKeys(
            settings: tokenSettings(
                keys: [KeySource(kid: "r", alg: "PS512", material: .privateKeyFile(path), path: "tokens.keys[0]")],
                algorithms: ["RS256", "PS512"]),
            environment: [:])
        #expect(keys.keySet.signingKey?.algorithm == .ps512)
        let now = Double(nowMillis() / 1000)
        _ = try keys.verifier.verify(token: try keys.keySet.sign(payload: claims()), now: now)
        let rs256 = try JWSKey.pem(try generated.privateKeyPEM(), algorithm: .rs256, kid: "r")
        let forged = try JWSKeySet(verificationKeys: [], signingKey: rs256).sign(payload: claims())
        do {
            _ = try keys.verifier.verify(token: forged, now: now)
            Issue.record("RS256 accepted by a PS512 key")
        } catch {
            #expect(error == .keyAlgorithmMismatch)
        }
    }

    @Test("jwks_file: the configured alg applies to entries without alg; a bad entry names path and kid")
    func jwksFile() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let key = try JWSKey.generate(algorithm: .rs256, kid: "idp")
        let jwk = String(decoding: try #require(key.publicJWK()), as: UTF8.self)
            .replacingOccurrences(of: #""alg":"RS256","#, with: "")
        let path = try dir.write("jwks.json", #"{"keys":[\#(jwk)]}"#)
        let keys = try TokenKeys(
            settings: tokenSettings(keys: [
                KeySource(kid: nil, alg: "PS256", material: .jwksFile(path), path: "tokens.keys[0]")
            ]),
            environment: [:])
        #expect(keys.keySet.keys.map(\.algorithm) == [.ps256])

        let encrypt = jwk.replacingOccurrences(of: #""use":"sig","#, with: #""key_ops":["encrypt"],"#)
        let bad = try dir.write("bad.json", #"{"keys":[\#(encrypt)]}"#)
        let found = issues(
            tokenSettings(keys: [KeySource(kid: nil, alg: nil, material: .jwksFile(bad), path: "tokens.keys[0]")]))
        #expect(has(found, "tokens.keys[0]", #"JWK kid "idp": key_ops allows encrypt"#), "\(found)")
    }
}
