// libFuzzer target: compact JWS verification and claims scanning (JOSE).
//
// Keys are fixed (an HS256 secret, and the P-256 fixture key of the JOSE key-loading tests),
// so a crash input replays exactly. Byte 0 picks the mode; the rest is:
//  - 0...3: a token, verified as the gateway verifies a bearer token (HS256 and ES256
//    allowed), then claim rules applied. Seeds hold valid tokens of both algorithms.
//  - 4, 5: a claims payload, signed with the HS256 key and verified, so that the claims
//    scanner runs behind a valid signature. Checked: verification succeeds exactly when
//    `ClaimsScanner.scan` accepts the payload, and returns it byte for byte.
//  - 6: header and payload (byte 1 is the header length), signed with the HS256 key over the
//    exact bytes and verified: the header parser behind a valid signature.
//  - 7: a JWK Set document (`JWSKey.jwks`), as fetched from an issuer.
import JOSE

#if canImport(Glibc)
import Glibc
#endif

/// `FUZZ_DEBUG=1` prints each verification outcome (to check that the seeds reach what they should).
private let debug = getenv("FUZZ_DEBUG") != nil

private let hsSecret = Array("fuzz-only-hs256-secret-0123456789abcdef".utf8)

/// The P-256 test fixture of the key-loading tests (no private key lives in Fuzz/); the seeds
/// in Fuzz/corpus/jws are signed with it by make_seeds.py. scripts/fuzz runs from the repo root.
private let esPEM: [UInt8] = {
    let path = getenv("FUZZ_ES_KEY").map { String(cString: $0) } ?? "Tests/JOSETests/Vectors/keys/ec_sec1.pem"
    guard let f = fopen(path, "rb") else { fatalError("fuzz-jws: cannot open \(path) (run from the repo root)") }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while case let n = fread(&chunk, 1, chunk.count, f), n > 0 { bytes += chunk[0..<n] }
    return bytes
}()

private let hsKey = try! JWSKey.hmac(secret: hsSecret, algorithm: .hs256, kid: "hs")
private let esKey = try! JWSKey.pem(esPEM, algorithm: .es256, kid: "es")
private let keySet = try! JWSKeySet(verificationKeys: [hsKey, esKey], signingKey: hsKey)
private let allowed: JWSAlgorithmSet = [.hs256, .es256]
private let limits = JWSLimits()
private let validator = ClaimValidator(rules: ClaimRules(issuer: "https://issuer.test", audience: "api"))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJWS(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let rest = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    switch data[0] % 8 {
    case 0...3: verifyToken(rest)
    case 4, 5: signedPayload(Array(rest))
    case 6: signedHeaderAndPayload(rest)
    default: _ = try? JWSKey.jwks(Array(rest))
    }
    return 0
}

private func verifyToken(_ token: UnsafeRawBufferPointer) {
    let v: VerifiedJWS
    do {
        v = try keySet.verify(token: token, allowedAlgorithms: allowed, limits: limits)
    } catch {
        if debug { print("token refused: \(error)") }
        return
    }
    if debug { print("token verified: kid \(v.keyID), alg \(v.header.algorithm)") }
    use(v)
}

private func signedPayload(_ payload: [UInt8]) {
    guard payload.count <= limits.maxPayloadBytes else { return }
    let scanned = Result { () throws(JOSEError) in try ClaimsScanner.scan(payload, maxDepth: limits.maxDepth) }
    let token: [UInt8]
    do {
        token = try keySet.sign(payload: payload)
    } catch {
        preconditionFailure("signing failed: \(error)")
    }
    let verified = Result { () throws(JOSEError) in
        try keySet.verify(token: token, allowedAlgorithms: allowed, limits: limits)
    }
    switch (scanned, verified) {
    case (.success(let c), .success(let v)):
        precondition(v.claims.json == payload, "verified payload differs from the signed one")
        precondition(c == v.claims)
        use(v)
    case (.failure, .failure):
        break
    case (.success, .failure(let e)):
        preconditionFailure("a token over valid claims failed: \(e)")
    case (.failure(let e), .success):
        preconditionFailure("claims refused by the scanner (\(e)) were verified")
    }
}

private func signedHeaderAndPayload(_ rest: UnsafeRawBufferPointer) {
    guard rest.count >= 1 else { return }
    let headerLength = min(Int(rest[0]), rest.count - 1)
    let header = Array(rest[1..<(1 + headerLength)])
    let payload = Array(rest[(1 + headerLength)...])
    var token = Base64URL.encode(header)
    token.append(UInt8(ascii: "."))
    token += Base64URL.encode(payload)
    guard let signature = try? hsKey.sign(token, algorithm: .hs256) else {
        preconditionFailure("HS256 signing failed")
    }
    token.append(UInt8(ascii: "."))
    token += Base64URL.encode(signature)
    if let v = try? keySet.verify(token: token, allowedAlgorithms: allowed, limits: limits) {
        precondition(v.header.algorithm == .hs256, "verified with \(v.header.algorithm) under an HS256 signature")
        precondition(v.claims.json == payload)
        use(v)
    }
}

private func use(_ v: VerifiedJWS) {
    do {
        try validator.validate(v, now: 1_800_000_000)
        if debug { print("claims valid") }
    } catch {
        if debug { print("claims refused: \(error)") }
    }
    let c = v.claims
    _ = (c.iss, c.sub, c.aud, c.exp, c.nbf, c.iat, c.jti, c.sid, c.roles, c.typ, c.scopes)
    for name in c.names {
        _ = c.kind(of: name)
        _ = c.rawValue(name)
        _ = c.textValue(name)
    }
    _ = c.string("email")
    _ = c.number("auth_time")
}
