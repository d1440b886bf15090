import JOSE

/// Parsing of what an identity provider publishes: its JWK Set, its discovery metadata
/// and the freshness of both. No I/O here.
enum IssuerDocuments {
    enum Failure: Error, Equatable, CustomStringConvertible {
        case notJSON(String)
        case noKeys
        case secretKey(String)
        case badKeySet(String)
        case badDiscovery(String)

        var description: String {
            switch self {
            case .notJSON(let r): return "not a JSON object: \(r)"
            case .noKeys: return "the JWK Set holds no signature key"
            case .secretKey(let kid): return "the JWK Set publishes a symmetric (oct) key \(kid): refused"
            case .badKeySet(let r): return "bad JWK Set: \(r)"
            case .badDiscovery(let r): return "bad discovery document: \(r)"
            }
        }
    }

    /// The signature keys of a JWK Set (RFC 7517 §5), strictly checked by JOSE: entries
    /// meant for encryption (`use: enc`, or a JWE `alg` such as RSA-OAEP) are skipped, as
    /// Keycloak publishes one; a symmetric key or any bad signature entry refuses the set.
    static func keys(_ body: [UInt8]) throws(Failure) -> JWSKeySet {
        let doc: JSONValue
        do {
            doc = try JSONParser.parse(body, maxDepth: 8)
        } catch {
            throw .notJSON("\(error)")
        }
        guard case .object(let members) = doc, case .array(let entries)? = doc["keys"] else {
            throw .badKeySet("no \"keys\" array")
        }
        var kept: [JSONValue] = []
        for e in entries {
            guard case .object = e else { throw .badKeySet("an entry is not an object") }
            if case .string(let use)? = e["use"], use != "sig" { continue }
            if case .string(let alg)? = e["alg"], (try? JWSAlgorithm(name: alg)) == nil { continue }
            if case .string("oct")? = e["kty"] {
                let kid: String
                if case .string(let k)? = e["kid"] { kid = JSONWriter.quoted(k) } else { kid = "without kid" }
                throw .secretKey(kid)
            }
            kept.append(e)
        }
        guard !kept.isEmpty else { throw .noKeys }
        var filtered = members.filter { $0.0 != "keys" }
        filtered.append(("keys", .array(kept)))
        var bytes: [UInt8] = []
        JSONWriter.serialize(.object(filtered), to: &bytes)
        do {
            return try JWSKeySet(verificationKeys: try JWSKey.jwks(bytes))
        } catch {
            throw .badKeySet("\(error)")
        }
    }

    /// The `jwks_uri` of OIDC discovery or RFC 8414 metadata, whose `issuer` must be exactly
    /// the configured one (OIDC Discovery §4.3, RFC 8414 §3.3: otherwise it is another IdP's).
    static func jwksURI(discovery body: [UInt8], issuer: String) throws(Failure) -> String {
        let doc: JSONValue
        do {
            doc = try JSONParser.parse(body, maxDepth: 16)
        } catch {
            throw .notJSON("\(error)")
        }
        guard case .object = doc else { throw .notJSON("not an object") }
        guard case .string(let iss)? = doc["issuer"], iss == issuer else {
            throw .badDiscovery("its issuer is not \(JSONWriter.quoted(issuer))")
        }
        guard case .string(let uri)? = doc["jwks_uri"] else { throw .badDiscovery("no jwks_uri") }
        guard GatewayConfig.validFetchURL(uri) else {
            throw .badDiscovery("jwks_uri is not an https:// URL")
        }
        return uri
    }

    /// `max-age` of a Cache-Control value, in ms (RFC 9111 §5.2.2.1); `no-store` / `no-cache` give 0.
    static func maxAge(cacheControl: String?) -> Int64? {
        guard let value = cacheControl else { return nil }
        var result: Int64?
        for part in value.split(separator: ",") {
            let d = part.trimmingCharacters(in: " \t").lowercased()
            if d == "no-store" || d == "no-cache" { return 0 }
            if d.hasPrefix("max-age=") {
                var digits = d.dropFirst(8)
                if digits.hasPrefix("\""), digits.hasSuffix("\""), digits.count >= 2 {
                    digits = digits.dropFirst().dropLast()
                }
                guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { continue }
                let seconds = digits.count > 10 ? Int64.max : Int64(digits) ?? Int64.max
                result = min(seconds, 100 * 365 * 86_400) * 1000
            }
        }
        return result
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return s
    }
}
