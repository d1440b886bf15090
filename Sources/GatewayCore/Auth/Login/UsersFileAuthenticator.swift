import JOSE

/// Users from a JSON file (loaded at start-up and on reload):
///
/// ```json
/// {"users": [{"username": "alice", "password_hash": "$scrypt$ln=17,r=8,p=1$...",
///             "scope": "read write", "roles": ["admin"], "claims": {"email": "a@example.com"}}]}
/// ```
///
/// Hashes come from `gateway hash-password`. Usernames are matched in their normalised form
/// (`Username.normalize`), so the file is loaded under normalised names and two entries
/// that normalise alike are a load error. An unknown username costs as much as the slowest
/// known one (`DecoyScheme`): a password is hashed either way.
struct UsersFileAuthenticator: Authenticator {
    struct User: Sendable {
        var passwordHash: String
        var identity: LoginIdentity
    }

    let users: [String: User]
    /// The slowest scheme of the file, so an unknown user costs what the slowest known one costs.
    let decoy: PasswordHash.Scheme

    init(path: String) throws(ConfigError) {
        let where_ = "auth.authenticator.path"
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path, limit: 64 << 20)
        } catch {
            throw ConfigError(where_, "cannot read the users file: \(error)")
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw ConfigError(where_, "\(path): \(error)")
        }
        guard case .array(let list)? = root["users"] else {
            throw ConfigError(where_, "\(path): needs {\"users\": [...]}")
        }
        var users: [String: User] = [:]
        var firstEntry: [String: Int] = [:]
        var schemes: Set<PasswordHash.Scheme> = []
        var issues: [ConfigError.Issue] = []
        for (i, item) in list.enumerated() {
            let at = "\(path): users[\(i)]"
            guard case .string(let written)? = item["username"], case .string(let hash)? = item["password_hash"],
                case let name = Username.normalize(written), !name.isEmpty
            else {
                issues.append(.init(path: at, message: "needs a username and a password_hash"))
                continue
            }
            do {
                schemes.insert(try PasswordHash.scheme(of: hash))
            } catch {
                issues.append(.init(path: at, message: "\(error)"))
                continue
            }
            if let first = firstEntry[name] {
                issues.append(
                    .init(path: at, message: "duplicate username: \"\(name)\" is also users[\(first)] once normalised"))
                continue
            }
            firstEntry[name] = i
            var scope: String?
            if case .string(let s)? = item["scope"] { scope = s }
            var roles: [String] = []
            if case .array(let r)? = item["roles"] {
                roles = r.compactMap { if case .string(let s) = $0 { s } else { nil } }
            }
            var extra: [(String, JSONValue)] = []
            if case .object(let members)? = item["claims"] { extra = members }
            let subject: String
            if case .string(let s)? = item["sub"] { subject = s } else { subject = written }
            users[name] = User(
                passwordHash: hash,
                identity: LoginIdentity(subject: subject, scope: scope, roles: roles, extra: extra))
        }
        guard issues.isEmpty else { throw ConfigError(issues: issues) }
        self.users = users
        decoy = DecoyScheme.slowest(of: schemes)
    }

    /// `username` is already normalised (`AuthFlows.login`).
    func authenticate(username: String, password: [UInt8]) -> AuthenticationResult {
        guard let user = users[username] else {
            PasswordHash.burnTime(password: password, scheme: decoy)
            return .rejected
        }
        return PasswordHash.verify(password: password, against: user.passwordHash) ? .success(user.identity) : .rejected
    }
}
