import JOSE

/// `gateway hash-client-secret`: makes a client secret and its hash for the clients file.
enum ClientCommands {
    /// Prints `{"client_secret": ..., "secret_hash": ...}`: a new 256-bit secret (base64url)
    /// and its self-describing hash. A secret chosen elsewhere is hashed by `hash-password`.
    static func hashClientSecret(options: [String: String]) -> Int32 {
        let scheme: PasswordHash.Scheme
        switch options["scheme"] ?? "scrypt" {
        case "scrypt": scheme = PasswordHash.defaultScheme
        case "pbkdf2": scheme = PasswordHash.defaultPBKDF2
        case let other:
            Gateway.printError("unknown scheme \(other) (scrypt or pbkdf2)")
            return 2
        }
        var raw = SecureRandom.bytes(count: 32)
        defer { ConstantTime.wipe(&raw) }
        let secret = Base64URL.encodeToString(raw)
        do {
            let hash = try PasswordHash.hash(password: Array(secret.utf8), scheme: scheme)
            var out: [UInt8] = []
            JSONWriter.serialize(
                .object([("client_secret", .string(secret)), ("secret_hash", .string(hash))]), to: &out)
            print(String(decoding: out, as: UTF8.self))
            Gateway.printError(
                "put secret_hash in the clients file; give client_secret to the client (it is shown once)")
            return 0
        } catch {
            Gateway.printError("cannot hash: \(error)")
            return 1
        }
    }
}
