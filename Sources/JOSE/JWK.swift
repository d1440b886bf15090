/// JSON Web Keys (RFC 7517) and JWK Sets, read with the strict scanner and written by hand.
enum JWK {
    static let maxDocumentBytes = 1 << 20

    /// Reads one JWK object (RFC 7517 §4) into a key.
    static func key(json: UnsafeRawBufferPointer, algorithm: JWSAlgorithm?, kid: String?) throws(JOSEError) -> JWSKey {
        try entry(json: json, algorithm: algorithm, kid: kid).key
    }

    /// One JWK and whether it named its own `kid` (a set allows one kid-less key per algorithm).
    private static func entry(
        json: UnsafeRawBufferPointer,
        algorithm: JWSAlgorithm?,
        kid: String?
    ) throws(JOSEError) -> (key: JWSKey, hadKid: Bool) {
        var members = [JSONMember]()
        try JSONScanner.scanObject(json, maxDepth: 4, members: &members)
        let p = json.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var strings = [String: String]()
        var keyOps: [String]?
        for m in members {
            let name = JSONScanner.string(p, Int(m.nameStart), Int(m.nameEnd), escaped: m.nameEscaped)
            if name == "oth" { throw .invalidKey("multi-prime RSA keys are not supported") }
            if name == "key_ops" {
                guard m.kind == .array else { throw .invalidKey("JWK member key_ops must be an array of strings") }
                var ops = [String]()
                try JSONScanner.forEachElement(p, Int(m.valueStart), Int(m.valueEnd)) {
                    (kind, s, e, escaped) throws(JOSEError) in
                    guard kind == .string else { throw .invalidKey("JWK member key_ops must be an array of strings") }
                    ops.append(JSONScanner.string(p, s + 1, e - 1, escaped: escaped))
                }
                keyOps = ops
            } else if m.kind == .string {
                strings[name] = JSONScanner.string(
                    p,
                    Int(m.valueStart) + 1,
                    Int(m.valueEnd) - 1,
                    escaped: m.valueEscaped
                )
            } else if ["kty", "kid", "alg", "use", "crv", "n", "e", "x", "y", "d", "k", "p", "q", "dp", "dq", "qi"]
                .contains(name)
            {
                throw .invalidKey("JWK member \(name) must be a string")
            }
        }
        if let keyOps {
            let label = (kid ?? strings["kid"]).map { "JWK kid \(JSONWriter.quoted($0))" } ?? "JWK without kid"
            try KeyOperations.check(keyOps, isPrivate: strings["d"] != nil, key: label)
        }
        return (try key(strings, algorithm: algorithm, kid: kid), kid != nil || strings["kid"] != nil)
    }

    /// Reads a JWK Set (RFC 7517 §5) into keys. `algorithm`, if given, is the algorithm of
    /// every entry: entries without `alg` get it, entries with another `alg` are refused.
    ///
    /// Refused as ambiguous: two different keys under one `kid`, and two entries without a
    /// `kid` for one algorithm (a token without `kid` could not choose; with one, it would
    /// have to carry the RFC 7638 thumbprint these keys are given).
    static func keys(json: UnsafeRawBufferPointer, algorithm: JWSAlgorithm? = nil) throws(JOSEError) -> [JWSKey] {
        guard json.count <= maxDocumentBytes else { throw .tooLarge("JWK set") }
        var members = [JSONMember]()
        try JSONScanner.scanObject(json, maxDepth: 4, members: &members)
        let p = json.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard
            let keysMember = members.first(where: {
                JSONScanner.string(p, Int($0.nameStart), Int($0.nameEnd), escaped: $0.nameEscaped) == "keys"
            }), keysMember.kind == .array
        else { throw .invalidKey("JWK set without a keys array") }
        var out = [JWSKey]()
        var kidless = JWSAlgorithmSet()
        try JSONScanner.forEachElement(p, Int(keysMember.valueStart), Int(keysMember.valueEnd)) {
            (kind, s, e, _) throws(JOSEError) in
            let index = out.count
            guard kind == .object else { throw .invalidKey("JWK set entry \(index) is not an object") }
            let (k, hadKid): (JWSKey, Bool)
            do throws(JOSEError) {
                (k, hadKid) = try entry(
                    json: UnsafeRawBufferPointer(start: p + s, count: e - s),
                    algorithm: algorithm,
                    kid: nil
                )
            } catch {
                guard case .invalidKey(let reason) = error else { throw error }
                throw .invalidKey("JWK set entry \(index): \(reason)")
            }
            if !hadKid {
                guard !kidless.contains(k.algorithm) else {
                    throw .invalidKey("JWK set entry \(index): a second key without kid for \(k.algorithm): ambiguous")
                }
                kidless.insert(k.algorithm)
            }
            if let other = out.first(where: { $0.kid == k.kid }), !other.isSameKey(as: k) {
                throw .invalidKey(
                    "JWK set entry \(index): two different keys have kid \(JSONWriter.quoted(k.kid)): ambiguous")
            }
            out.append(k)
        }
        return out
    }

    private static func b64(_ s: [String: String], _ name: String) throws(JOSEError) -> [UInt8] {
        guard let v = s[name] else { throw .invalidKey("JWK lacks \(name)") }
        do {
            return try Base64URL.decode(v)
        } catch {
            throw .invalidKey("JWK member \(name) is not base64url")
        }
    }

    private static func key(_ s: [String: String], algorithm: JWSAlgorithm?, kid: String?) throws(JOSEError) -> JWSKey {
        if let use = s["use"], use != "sig" { throw .invalidKey("JWK use is not sig") }
        var alg = algorithm
        if let name = s["alg"] {
            let a: JWSAlgorithm
            do {
                a = try JWSAlgorithm(name: name)
            } catch {
                throw .invalidKey("JWK alg not supported")
            }
            if let algorithm, algorithm != a { throw .invalidKey("JWK alg differs from the configured one") }
            alg = a
        }
        let id = kid ?? s["kid"]
        guard let kty = s["kty"] else { throw .invalidKey("JWK lacks kty") }
        let isPrivate = s["d"] != nil
        switch kty {
        case "oct":
            guard let id else { throw .invalidKey("HMAC JWK needs a kid") }
            var k = try b64(s, "k")
            defer { ConstantTime.wipe(&k) }
            return try JWSKey.hmac(secret: k, algorithm: alg ?? .hs256, kid: id)
        case "RSA":
            let n = try b64(s, "n"), e = try b64(s, "e")
            var der: [UInt8]
            if isPrivate {
                der = DER.rsaPrivateKey(
                    n,
                    e,
                    try b64(s, "d"),
                    try b64(s, "p"),
                    try b64(s, "q"),
                    try b64(s, "dp"),
                    try b64(s, "dq"),
                    try b64(s, "qi")
                )
            } else {
                der = DER.rsaPublicKey(n: n, e: e)
            }
            defer { ConstantTime.wipe(&der) }
            return try load(der, isPrivate: isPrivate, alg: alg, kid: id)
        case "EC":
            guard let crv = s["crv"], let curve = ECCurve(jwkName: crv) else { throw .invalidKey("unsupported crv") }
            let x = try b64(s, "x"), y = try b64(s, "y")
            // RFC 7518 §6.2.1.2–3: coordinates are full-length, never trimmed.
            guard x.count == curve.coordinateLength, y.count == curve.coordinateLength else {
                throw .invalidKey("EC coordinate length")
            }
            var der: [UInt8]
            if isPrivate {
                let d = try b64(s, "d")
                guard d.count == curve.coordinateLength else { throw .invalidKey("EC private key length") }
                der = DER.ecPrivateKey(curve: curve, d: d, x: x, y: y)
            } else {
                der = DER.ecPublicKey(curve: curve, x: x, y: y)
            }
            defer { ConstantTime.wipe(&der) }
            return try load(der, isPrivate: isPrivate, alg: alg, kid: id)
        case "OKP":
            guard s["crv"] == "Ed25519" else { throw .invalidKey("unsupported OKP curve") }
            let x = try b64(s, "x")
            let k: EVPKey
            if isPrivate {
                var d = try b64(s, "d")
                defer { ConstantTime.wipe(&d) }
                k = try EVPKey.ed25519(privateKey: d)
                guard k.publicParameters().first?.1 == x else { throw .invalidKey("JWK x does not match d") }
            } else {
                k = try EVPKey.ed25519(publicKey: x)
            }
            return try JWSKey.asymmetric(k, algorithm: alg, kid: id)
        default:
            throw .invalidKey("unsupported kty")
        }
    }

    private static func load(
        _ der: [UInt8],
        isPrivate: Bool,
        alg: JWSAlgorithm?,
        kid: String?
    ) throws(JOSEError) -> JWSKey {
        let k = try der.withBytes { (b) throws(JOSEError) in try EVPKey.decode(b, pem: false) }
        if isPrivate {
            guard k.isPrivate, k.pairwiseCheck() else { throw .invalidKey("JWK private and public parts disagree") }
        }
        return try JWSKey.asymmetric(k, algorithm: alg, kid: kid)
    }

    // MARK: Output

    private static func members(_ k: EVPKey) -> (kty: String, crv: String?, params: [(String, [UInt8])]) {
        switch k.shape {
        case .rsa: return ("RSA", nil, k.publicParameters())
        case .ec(let c): return ("EC", c.name, k.publicParameters())
        case .ed25519: return ("OKP", "Ed25519", k.publicParameters())
        }
    }

    /// `{"kty":..,"kid":..,"use":"sig","alg":..,<public parameters>}`.
    static func publicObject(_ k: EVPKey, kid: String, algorithm: JWSAlgorithm, into w: inout JSONWriter) {
        let m = members(k)
        w.beginObject()
        w.member("kty", string: m.kty)
        w.member("kid", string: kid)
        w.member("use", string: "sig")
        w.member("alg", string: algorithm.name)
        if let crv = m.crv { w.member("crv", string: crv) }
        for (name, value) in m.params { w.member(name, string: Base64URL.encodeToString(value)) }
        w.endObject()
    }

    static func publicJSON(_ k: EVPKey, kid: String, algorithm: JWSAlgorithm) -> [UInt8] {
        var w = JSONWriter()
        publicObject(k, kid: kid, algorithm: algorithm, into: &w)
        return w.bytes
    }

    /// RFC 7638 §3: SHA-256 over the required members in lexicographic order, base64url.
    static func thumbprint(_ k: EVPKey) -> String {
        let m = members(k)
        var w = JSONWriter()
        w.beginObject()
        switch k.shape {
        case .rsa:
            w.member("e", string: Base64URL.encodeToString(m.params[1].1))
            w.member("kty", string: "RSA")
            w.member("n", string: Base64URL.encodeToString(m.params[0].1))
        case .ec:
            w.member("crv", string: m.crv!)
            w.member("kty", string: "EC")
            w.member("x", string: Base64URL.encodeToString(m.params[0].1))
            w.member("y", string: Base64URL.encodeToString(m.params[1].1))
        case .ed25519:
            w.member("crv", string: "Ed25519")
            w.member("kty", string: "OKP")
            w.member("x", string: Base64URL.encodeToString(m.params[0].1))
        }
        w.endObject()
        return Base64URL.encodeToString(SHA256.hash(w.bytes))
    }
}

extension JWSKey {
    /// A key from one JWK (RFC 7517 §4) in JSON: `kty` RSA, EC (P-256/384/521), OKP (Ed25519)
    /// or oct (HMAC). Private members (`d`, ...) make a signing key. `use`, if present, must be
    /// `sig`; `alg`, if present, must agree with `algorithm`; `key_ops`, if present, must be
    /// distinct registered operations (RFC 7517 §4.3) that include `verify` (and `sign` for a
    /// private key) and nothing but `sign` and `verify`.
    ///
    /// - Parameters:
    ///   - algorithm: overrides a missing `alg`. Without either the key gets exactly one
    ///     algorithm by type: RS256 for RSA, ES256/ES384/ES512 by curve, EdDSA for Ed25519,
    ///     HS256 for oct (never a family: RFC 8725 §3.1).
    ///   - kid: overrides the JWK's `kid`; without either, the RFC 7638 thumbprint (oct keys need one).
    public static func jwk(
        _ json: [UInt8],
        algorithm: JWSAlgorithm? = nil,
        kid: String? = nil
    ) throws(JOSEError) -> JWSKey {
        try json.withBytes { (b) throws(JOSEError) in try JWK.key(json: b, algorithm: algorithm, kid: kid) }
    }

    /// All keys of a JWK Set (RFC 7517 §5) in JSON, each checked as ``jwk(_:algorithm:kid:)``
    /// checks one.
    ///
    /// - Parameter algorithm: the algorithm of every entry (entries without `alg` get it,
    ///   entries with another are refused); without it, an entry without `alg` gets the
    ///   default of its key type.
    /// - Throws: ``JOSEError/invalidKey(_:)`` naming the entry (index and `kid`) for any bad
    ///   entry, two different keys under one `kid`, or two entries without `kid` for one algorithm.
    public static func jwks(_ json: [UInt8], algorithm: JWSAlgorithm? = nil) throws(JOSEError) -> [JWSKey] {
        try json.withBytes { (b) throws(JOSEError) in try JWK.keys(json: b, algorithm: algorithm) }
    }
}
