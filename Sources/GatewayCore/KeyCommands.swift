import Glibc
import JOSE

/// `gateway keygen` and `gateway hash-password`: the offline helpers of SPEC §6.
enum KeyCommands {
    /// Writes a new signing key to `out` (mode 0600) and prints its public JWK.
    static func keygen(options: [String: String]) -> Int32 {
        guard let algName = options["alg"], let kid = options["kid"], !kid.isEmpty else {
            Gateway.printError("keygen needs --alg ALG and --kid KID")
            return 2
        }
        let alg: JWSAlgorithm
        do {
            alg = try JWSAlgorithm(name: algName)
        } catch {
            Gateway.printError("unknown algorithm \(algName)")
            return 2
        }
        let out = options["out"] ?? (alg.family == .hmac ? "\(kid).secret" : "\(kid).pem")
        var material: [UInt8]
        do {
            if alg.family == .hmac {
                material = Base64URL.encode(JWSKey.generateHMACSecret(for: alg)) + [0x0A]
            } else {
                let bits = Int(options["bits"] ?? "") ?? 2048
                let key = try JWSKey.generate(algorithm: alg, kid: kid, rsaBits: bits)
                material = try key.privateKeyPEM()
                print(String(decoding: key.publicJWK() ?? [], as: UTF8.self))
            }
        } catch {
            Gateway.printError("cannot make the key: \(error)")
            return 1
        }
        defer { ConstantTime.wipe(&material) }
        do {
            try FileIO.writeAtomically(out, material, mode: 0o600)
        } catch {
            Gateway.printError("cannot write \(out): \(error)")
            return 1
        }
        if alg.family == .hmac {
            Gateway.printError(
                "wrote the \(alg.name) secret to \(out); use it as \"secret_file\" (secrets have no public JWK)")
        } else {
            Gateway.printError("wrote the private key to \(out) (PKCS#8 PEM); the public JWK is above")
        }
        return 0
    }

    /// Reads one password from standard input and prints its self-describing hash.
    static func hashPassword(options: [String: String]) -> Int32 {
        let scheme: PasswordHash.Scheme
        switch options["scheme"] ?? "scrypt" {
        case "scrypt": scheme = PasswordHash.defaultScheme
        case "pbkdf2": scheme = PasswordHash.defaultPBKDF2
        case let other:
            Gateway.printError("unknown scheme \(other) (scrypt or pbkdf2)")
            return 2
        }
        var input: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while input.count <= 4096 {
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            input += chunk[0..<n]
        }
        ConstantTime.wipe(&chunk)
        defer { ConstantTime.wipe(&input) }
        // One line: the trailing newline of `echo` or a terminal is not part of the password.
        if let nl = input.firstIndex(of: 0x0A) { input.removeSubrange(nl...) }
        if input.last == 0x0D { input.removeLast() }
        guard !input.isEmpty, input.count <= 1024 else {
            Gateway.printError("give the password (1 to 1024 bytes) on standard input")
            return 2
        }
        do {
            print(try PasswordHash.hash(password: input, scheme: scheme))
            return 0
        } catch {
            Gateway.printError("cannot hash: \(error)")
            return 1
        }
    }
}
