/// The JWK `key_ops` rule (RFC 7517 §4.3) for keys that sign and verify JWS.
enum KeyOperations {
    /// The registered values of RFC 7517 §4.3.
    static let registered: Set<String> = [
        "sign", "verify", "encrypt", "decrypt", "wrapKey", "unwrapKey", "deriveKey", "deriveBits",
    ]

    /// Refuses `ops` unless they are distinct registered values, only `sign` and `verify`
    /// (a signature key must not also be an encryption key: RFC 7517 §4.3 asks that unrelated
    /// operations not be combined, and `use: sig` contradicts any other), and include
    /// `verify`, and `sign` too for a private key (the gateway verifies with every key and
    /// may sign with a private one).
    ///
    /// - Parameter key: how the error names the key (for example `JWK kid "k1"`).
    static func check(_ ops: [String], isPrivate: Bool, key: String) throws(JOSEError) {
        var seen = Set<String>()
        for op in ops {
            guard registered.contains(op) else {
                throw .invalidKey("\(key): key_ops value \(JSONWriter.quoted(op)) is not registered (RFC 7517 §4.3)")
            }
            guard seen.insert(op).inserted else {
                throw .invalidKey("\(key): key_ops lists \(JSONWriter.quoted(op)) twice")
            }
            guard op == "sign" || op == "verify" else {
                throw .invalidKey("\(key): key_ops allows \(op); a signature key allows only sign and verify")
            }
        }
        guard seen.contains("verify") else { throw .invalidKey("\(key): key_ops does not allow verify") }
        if isPrivate, !seen.contains("sign") {
            throw .invalidKey("\(key): key_ops of a private key does not allow sign")
        }
    }
}
