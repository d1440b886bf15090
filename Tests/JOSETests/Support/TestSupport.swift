import Foundation
import Testing

@testable import JOSE

/// Hex to bytes (test data only).
func hex(_ s: String) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(s.count / 2)
    var it = s.utf8.makeIterator()
    while let a = it.next(), let b = it.next() {
        out.append(UInt8(JSONScanner.hexValue(a)! << 4 | JSONScanner.hexValue(b)!))
    }
    return out
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

func b64(_ s: String) -> [UInt8] { Base64URL.encode(Array(s.utf8)) }

func b64(_ b: [UInt8]) -> String { Base64URL.encodeToString(b) }

/// Files under the `Vectors` resource folder.
enum Resources {
    static func url(_ path: String) throws -> URL {
        let base = try #require(Bundle.module.url(forResource: "Vectors", withExtension: nil))
        return base.appendingPathComponent(path)
    }

    static func data(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(path))) }
}

/// Expects `body` to throw exactly `expected`.
func expectError<T>(
    _ expected: JOSEError,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws(JOSEError) -> T
) {
    do {
        _ = try body()
        Issue.record("expected \(expected), got success", sourceLocation: sourceLocation)
    } catch {
        #expect(error == expected, sourceLocation: sourceLocation)
    }
}

/// Expects `body` to throw a `JOSEError` with the given `code` (any reason text).
func expectError<T>(
    code: String,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws(JOSEError) -> T
) {
    do {
        _ = try body()
        Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    }
}

/// Keys generated once per test process, one per algorithm family member.
enum TestKeys {
    static let rsa = try! JWSKey.generate(algorithm: .rs256, kid: "rsa-1")
    static let p256 = try! JWSKey.generate(algorithm: .es256, kid: "p256-1")
    static let p384 = try! JWSKey.generate(algorithm: .es384, kid: "p384-1")
    static let p521 = try! JWSKey.generate(algorithm: .es512, kid: "p521-1")
    static let ed25519 = try! JWSKey.generate(algorithm: .edDSA, kid: "ed-1")
    static let hmacSecret = [UInt8](repeating: 0x42, count: 64)
    static let hs256 = try! JWSKey.hmac(secret: Array(hmacSecret.prefix(32)), algorithm: .hs256, kid: "hs256-1")
    static let hs384 = try! JWSKey.hmac(secret: Array(hmacSecret.prefix(48)), algorithm: .hs384, kid: "hs384-1")
    static let hs512 = try! JWSKey.hmac(secret: hmacSecret, algorithm: .hs512, kid: "hs512-1")

    /// A signing key for `alg` (RSA keys re-labelled for RS384…PS512).
    static func signing(_ alg: JWSAlgorithm) -> JWSKey {
        switch alg {
        case .hs256: return hs256
        case .hs384: return hs384
        case .hs512: return hs512
        case .rs256, .rs384, .rs512, .ps256, .ps384, .ps512:
            return try! JWSKey.pem(rsa.privateKeyPEM(), algorithm: alg, kid: "rsa-\(alg.name)")
        case .es256: return p256
        case .es384: return p384
        case .es512: return p521
        case .edDSA: return ed25519
        }
    }
}

/// Builds a compact token from raw parts (for attack tests), signing with `key` if given.
func compact(
    header: String,
    payload: String,
    sign key: JWSKey? = nil,
    algorithm: JWSAlgorithm? = nil,
    signature: [UInt8]? = nil
) throws -> [UInt8] {
    var input = b64(header)
    input.append(UInt8(ascii: "."))
    input += b64(payload)
    let sig = try signature ?? key!.sign(input, algorithm: algorithm)
    return input + [UInt8(ascii: ".")] + Base64URL.encode(sig)
}

/// A typical access-token claims JSON (about 300 bytes).
func accessClaims(now: Double = 1_700_000_000, exp: Double? = nil, extra: String = "") -> String {
    let e = Int64(exp ?? now + 900)
    return """
        {"iss":"https://auth.example.com","sub":"user-1234567890","aud":["api","billing"],"exp":\(e),\
        "iat":\(Int64(now)),"nbf":\(Int64(now)),"jti":"01HF8Z3Q7X9K2M4N6P8R0T2V4W","sid":"fam-4f9c2a7e1b3d",\
        "scope":"read write admin:users","roles":["admin","ops"],"tenant":"acme"\(extra)}
        """
}
