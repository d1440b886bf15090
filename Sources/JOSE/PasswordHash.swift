/// Salted slow password hashes in self-describing strings (PHC string format style):
///
///     $scrypt$ln=17,r=8,p=1$<salt>$<hash>          scrypt, N = 2^ln (RFC 7914)
///     $pbkdf2-sha256$i=600000$<salt>$<hash>       PBKDF2-HMAC-SHA256 (RFC 8018 §5.2)
///
/// Salt and hash are standard base64 without padding (passlib's scrypt format; passlib's
/// `$pbkdf2-sha256$<rounds>$...` with its `.`-for-`+` alphabet is also read). Verification
/// compares in constant time. ``burnTime(password:scheme:)`` spends the cost of one
/// verification for an unknown user, so that timing does not reveal which users exist.
public enum PasswordHash {
    /// Algorithm and cost parameters.
    public enum Scheme: Sendable, Hashable {
        /// scrypt with N = 2^ln, block size r, parallelism p. Memory use is 128·r·N bytes.
        case scrypt(ln: Int, r: Int, p: Int)
        /// PBKDF2-HMAC-SHA256 with the given iteration count.
        case pbkdf2SHA256(iterations: Int)
    }

    /// scrypt ln=17, r=8, p=1 (128 MiB, the OWASP Password Storage Cheat Sheet's first choice).
    public static let defaultScheme = Scheme.scrypt(ln: 17, r: 8, p: 1)
    /// PBKDF2-HMAC-SHA256 at 600,000 iterations (OWASP 2023 minimum).
    public static let defaultPBKDF2 = Scheme.pbkdf2SHA256(iterations: 600_000)
    /// Iterations below this are refused when hashing (not when verifying stored hashes).
    public static let minimumPBKDF2Iterations = 600_000

    static let saltLength = 16
    static let hashLength = 32

    /// Hashes `password` with a fresh 16-byte random salt.
    public static func hash(password: [UInt8], scheme: Scheme = defaultScheme) throws(JOSEError) -> String {
        try checkBounds(scheme, hashing: true)
        let salt = SecureRandom.bytes(count: saltLength)
        var derived = try derive(password, salt: salt, scheme: scheme, length: hashLength)
        defer { ConstantTime.wipe(&derived) }
        return encode(scheme) + "$" + Base64.encode(salt) + "$" + Base64.encode(derived)
    }

    /// Hashes the UTF-8 bytes of `password`.
    public static func hash(password: String, scheme: Scheme = defaultScheme) throws(JOSEError) -> String {
        try hash(password: Array(password.utf8), scheme: scheme)
    }

    /// True if `password` matches `encoded`. An unreadable `encoded` gives false after
    /// burning the default cost, so a broken entry does not answer faster than a good one.
    public static func verify(password: [UInt8], against encoded: String) -> Bool {
        guard let parsed = try? parse(encoded) else {
            burnTime(password: password)
            return false
        }
        guard var derived = try? derive(password, salt: parsed.salt, scheme: parsed.scheme, length: parsed.hash.count)
        else { return false }
        defer { ConstantTime.wipe(&derived) }
        return ConstantTime.equals(derived, parsed.hash)
    }

    /// True if the UTF-8 bytes of `password` match `encoded`.
    public static func verify(password: String, against encoded: String) -> Bool {
        verify(password: Array(password.utf8), against: encoded)
    }

    /// Spends as long as verifying against a hash with `scheme` (for an unknown user).
    public static func burnTime(password: [UInt8], scheme: Scheme = defaultScheme) {
        var derived =
            (try? derive(
                password,
                salt: [UInt8](repeating: 0x5A, count: saltLength),
                scheme: scheme,
                length: hashLength
            )) ?? []
        ConstantTime.wipe(&derived)
    }

    /// Spends as long as verifying against `encoded` would (falls back to the default scheme).
    public static func burnTime(password: [UInt8], like encoded: String) {
        burnTime(password: password, scheme: (try? parse(encoded))?.scheme ?? defaultScheme)
    }

    /// Checks that `encoded` is a hash string this module can verify (for configuration checks).
    public static func validate(_ encoded: String) throws(JOSEError) { _ = try parse(encoded) }

    /// The scheme of a stored hash string.
    public static func scheme(of encoded: String) throws(JOSEError) -> Scheme { try parse(encoded).scheme }

    // MARK: Internals

    static func derive(_ password: [UInt8], salt: [UInt8], scheme: Scheme, length: Int) throws(JOSEError) -> [UInt8] {
        try password.withBytes { (pw) throws(JOSEError) -> [UInt8] in
            switch scheme {
            case .scrypt(let ln, let r, let p):
                return try KDF.scrypt(password: pw, salt: salt, ln: ln, r: r, p: p, length: length)
            case .pbkdf2SHA256(let iterations):
                return try KDF.pbkdf2(password: pw, salt: salt, iterations: iterations, hash: .sha256, length: length)
            }
        }
    }

    static func encode(_ scheme: Scheme) -> String {
        switch scheme {
        case .scrypt(let ln, let r, let p): return "$scrypt$ln=\(ln),r=\(r),p=\(p)"
        case .pbkdf2SHA256(let i): return "$pbkdf2-sha256$i=\(i)"
        }
    }

    static func checkBounds(_ scheme: Scheme, hashing: Bool) throws(JOSEError) {
        switch scheme {
        case .scrypt(let ln, let r, let p):
            guard (1...22).contains(ln), (1...32).contains(r), (1...16).contains(p) else {
                throw .invalidPasswordHash("scrypt parameters out of range")
            }
            guard 128 * r << ln <= 1 << 30 else { throw .invalidPasswordHash("scrypt needs more than 1 GiB") }
        case .pbkdf2SHA256(let i):
            guard i >= (hashing ? minimumPBKDF2Iterations : 1000), i <= 20_000_000 else {
                throw .invalidPasswordHash("PBKDF2 iterations out of range")
            }
        }
    }

    static func parse(_ encoded: String) throws(JOSEError) -> (scheme: Scheme, salt: [UInt8], hash: [UInt8]) {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty else { throw .invalidPasswordHash("expected $alg$params$salt$hash") }
        let scheme: Scheme
        var passlibAlphabet = false
        switch parts[1] {
        case "scrypt":
            var ln: Int?, r: Int?, p: Int?
            for kv in parts[2].split(separator: ",") {
                let pair = kv.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, let v = Int(pair[1]) else { throw .invalidPasswordHash("scrypt parameters") }
                switch pair[0] {
                case "ln": ln = v
                case "r": r = v
                case "p": p = v
                default: throw .invalidPasswordHash("scrypt parameters")
                }
            }
            guard let ln, let r, let p else { throw .invalidPasswordHash("scrypt parameters") }
            scheme = .scrypt(ln: ln, r: r, p: p)
        case "pbkdf2-sha256":
            let param = parts[2]
            if param.hasPrefix("i="), let i = Int(param.dropFirst(2)) {
                scheme = .pbkdf2SHA256(iterations: i)
            } else if let i = Int(param) {
                scheme = .pbkdf2SHA256(iterations: i)
                passlibAlphabet = true
            } else {
                throw .invalidPasswordHash("PBKDF2 iterations")
            }
        default:
            throw .invalidPasswordHash("unknown algorithm")
        }
        try checkBounds(scheme, hashing: false)
        guard let salt = Base64.decode(parts[3], dotForPlus: passlibAlphabet),
            let hash = Base64.decode(parts[4], dotForPlus: passlibAlphabet)
        else { throw .invalidPasswordHash("base64") }
        guard (8...64).contains(salt.count) else { throw .invalidPasswordHash("salt length") }
        guard (16...64).contains(hash.count) else { throw .invalidPasswordHash("hash length") }
        return (scheme, salt, hash)
    }
}

/// Standard base64 (RFC 4648 §4), unpadded on output, padding optional on input.
public enum Base64 {
    /// Decodes standard base64 (HTTP Basic credentials, RFC 7617); nil if invalid.
    public static func decodeStandard(_ text: String) -> [UInt8]? { decode(Substring(text), dotForPlus: false) }

    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out = Base64URL.encode(bytes)
        for k in out.indices {
            if out[k] == UInt8(ascii: "-") { out[k] = UInt8(ascii: "+") }
            if out[k] == UInt8(ascii: "_") { out[k] = UInt8(ascii: "/") }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: Substring, dotForPlus: Bool) -> [UInt8]? {
        var chars = Array(text.utf8)
        while chars.last == UInt8(ascii: "=") { chars.removeLast() }
        for k in chars.indices {
            switch chars[k] {
            case UInt8(ascii: "+"): chars[k] = UInt8(ascii: "-")
            case UInt8(ascii: "/"): chars[k] = UInt8(ascii: "_")
            case UInt8(ascii: "."): if dotForPlus { chars[k] = UInt8(ascii: "-") } else { return nil }
            case UInt8(ascii: "-"), UInt8(ascii: "_"): return nil
            default: break
            }
        }
        return try? Base64URL.decode(chars)
    }
}
