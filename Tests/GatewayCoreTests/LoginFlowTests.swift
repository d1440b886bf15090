import Dispatch
import Glibc
import JOSE
import Synchronization
import Testing
import TokenStore

@testable import GatewayCore

@Suite("Username normalisation")
struct UsernameTests {
    @Test(
        "spellings of one account normalise alike",
        arguments: [
            ("Carol", "carol"), ("CAROL", "carol"), ("carol ", "carol"), (" \tcarol\n", "carol"),
            ("C\u{E9}line", "c\u{E9}line"), ("Ce\u{301}line", "c\u{E9}line"), ("CE\u{301}LINE", "c\u{E9}line"),
            ("\u{212A}elvin", "kelvin"), ("Jean Paul", "jean paul"), ("", ""), ("   ", ""),
        ])
    func normalises(raw: String, expected: String) {
        let n = Username.normalize(raw)
        // Compared as bytes: String's == would call NFD and NFC equal anyway.
        #expect(Array(n.utf8) == Array(expected.utf8))
    }

    @Test("different names stay different")
    func distinct() {
        #expect(Username.normalize("carol") != Username.normalize("caro1"))
        #expect(Username.normalize("straße") != Username.normalize("STRASSE"))
    }
}

@Suite("Users file: normalised names and the decoy")
struct UsersFileTests {
    private func usersFile(_ users: [(String, String)]) -> String {
        let path = "/tmp/gw-users-\(UInt64.random(in: 0 ... .max)).json"
        let entries = users.map { #"{"username": \#(JSONWriter.quoted($0.0)), "password_hash": "\#($0.1)"}"# }
        let text = #"{"users": ["# + entries.joined(separator: ",") + "]}"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
        return path
    }

    private func hash(_ password: String, _ scheme: PasswordHash.Scheme = .scrypt(ln: 4, r: 8, p: 1)) -> String {
        try! PasswordHash.hash(password: password, scheme: scheme)
    }

    @Test("looked up by the normalised name; sub keeps the file's spelling")
    func lookup() throws {
        let path = usersFile([("Carol", hash("pw")), ("C\u{E9}line", hash("pw2"))])
        defer { unlink(path) }
        let users = try UsersFileAuthenticator(path: path)
        guard case .success(let id) = users.authenticate(username: "carol", password: Array("pw".utf8)) else {
            Issue.record("carol not found under her normalised name")
            return
        }
        #expect(id.subject == "Carol")
        let decomposed = Username.normalize("CE\u{301}LINE")
        guard case .success = users.authenticate(username: decomposed, password: Array("pw2".utf8)) else {
            Issue.record("a decomposed é does not find the user")
            return
        }
        guard case .rejected = users.authenticate(username: "Carol", password: Array("pw".utf8)) else {
            Issue.record("the raw spelling must not be a second key")
            return
        }
    }

    @Test("two entries that normalise alike are a load error naming both")
    func duplicates() {
        let path = usersFile([("alice", hash("a")), ("bob", hash("b")), (" ALICE", hash("c"))])
        defer { unlink(path) }
        do {
            _ = try UsersFileAuthenticator(path: path)
            Issue.record("duplicate accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("users[2]") && text.contains("users[0]") && text.contains("\"alice\""))
        }
    }

    @Test("the decoy is the slowest configured scheme")
    func decoy() throws {
        let path = usersFile([
            ("cheap", hash("a", .scrypt(ln: 4, r: 8, p: 1))), ("dear", hash("b", .scrypt(ln: 12, r: 8, p: 1))),
        ])
        defer { unlink(path) }
        #expect(try UsersFileAuthenticator(path: path).decoy == .scrypt(ln: 12, r: 8, p: 1))
        #expect(
            DecoyScheme.slowest(of: [.scrypt(ln: 10, r: 8, p: 1), .scrypt(ln: 9, r: 8, p: 4)])
                == .scrypt(ln: 9, r: 8, p: 4))
        #expect(
            DecoyScheme.slowest(of: [.pbkdf2SHA256(iterations: 1000), .pbkdf2SHA256(iterations: 5000)])
                == .pbkdf2SHA256(iterations: 5000))
        // Mixed families: timed, and scrypt ln=14 (16 MiB, tens of ms) is far slower than 1,000 PBKDF2 rounds.
        #expect(
            DecoyScheme.slowest(of: [.pbkdf2SHA256(iterations: 1000), .scrypt(ln: 14, r: 8, p: 1)])
                == .scrypt(ln: 14, r: 8, p: 1))
        #expect(
            DecoyScheme.slowest(of: [.scrypt(ln: 1, r: 1, p: 1), .pbkdf2SHA256(iterations: 2_000_000)])
                == .pbkdf2SHA256(iterations: 2_000_000))
    }
}

/// An authenticator that takes `delay` per check (like a slow hash) and records what it was asked.
final class SlowAuthenticator: Authenticator {
    let delay: useconds_t
    let answer: @Sendable (String, [UInt8]) -> AuthenticationResult
    private let seen = Mutex<[String]>([])

    init(delay: useconds_t = 50_000, answer: @escaping @Sendable (String, [UInt8]) -> AuthenticationResult) {
        self.delay = delay
        self.answer = answer
    }

    var usernames: [String] { seen.withLock { $0 } }

    func authenticate(username: String, password: [UInt8]) -> AuthenticationResult {
        seen.withLock { $0.append(username) }
        usleep(delay)
        return answer(username, password)
    }
}

@Suite("Login flow: throttle reservation and logout bound")
struct LoginFlowTests {
    static let identity = LoginIdentity(subject: "carol", scope: nil, roles: [], extra: [])

    private func flows(
        _ authenticator: any Authenticator, perUser: Int = 5, perAddress: Int = 1000,
        throttle: any LoginThrottle = MemoryLoginThrottle()
    ) throws -> AuthFlows {
        let keys = try TokenKeys(
            settings: tokenSettings(keys: [envKey("k1", "SECRET")]),
            environment: ["SECRET": String(repeating: "s", count: 32)])
        var auth = AuthSettings()
        auth.throttle.maxFailuresPerUser = perUser
        auth.throttle.maxFailuresPerAddress = perAddress
        let services = TokenServices(
            store: MemoryTokenStore(), throttle: throttle, hub: RevocationHub(),
            pool: BlockingPool(threads: 4, maxQueued: 64), logger: Logger(level: .error))
        return AuthFlows(services: services, keys: keys, auth: auth, authenticator: authenticator)
    }

    enum Answer: Equatable { case ok, wrong, throttled, unavailable, badRequest, other }

    private func classify(_ r: Result<TokenPair, GrantFailure>) -> Answer {
        switch r {
        case .success: return .ok
        case .failure(.invalidGrant): return .wrong
        case .failure(.throttled): return .throttled
        case .failure(.unavailable): return .unavailable
        case .failure(.invalidRequest): return .badRequest
        case .failure: return .other
        }
    }

    /// Starts every login at once and waits (bounded) for all answers.
    private func logins(_ f: AuthFlows, _ attempts: [(String, String)], address: String = "10.0.0.1") -> [Answer] {
        let answers = Mutex([Answer?](repeating: nil, count: attempts.count))
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.concurrentPerform(iterations: attempts.count) { i in
            f.login(username: attempts[i].0, password: Array(attempts[i].1.utf8), clientAddress: address) { r in
                answers.withLock { $0[i] = classify(r) }
                done.signal()
            }
        }
        for _ in attempts { #expect(done.wait(timeout: .now() + 20) == .success) }
        return answers.withLock { $0.map { $0 ?? .other } }
    }

    @Test("40 concurrent guesses against a limit of 5: 5 are evaluated, the rest are 429 unhashed")
    func concurrentGuesses() throws {
        let auth = SlowAuthenticator { _, pw in pw == Array("right".utf8) ? .success(Self.identity) : .rejected }
        let f = try flows(auth)
        let attempts = (0..<40).map { i in ("carol", i == 39 ? "right" : "wrong-\(i)") }
        let answers = logins(f, attempts)
        #expect(auth.usernames.count == 5)
        #expect(answers.filter { $0 == .throttled }.count == 35)
        #expect(answers.filter { $0 == .wrong || $0 == .ok }.count == 5)
    }

    @Test("Carol, CAROL and ' carol ' share one budget, and the authenticator sees the normalised name")
    func spellingsShareABudget() throws {
        let auth = SlowAuthenticator(delay: 0) { _, _ in .rejected }
        let f = try flows(auth, perUser: 3)
        let answers =
            logins(f, [("Carol", "x")]) + logins(f, [("CAROL", "x")]) + logins(f, [(" carol ", "x")])
            + logins(f, [("carol", "x")])
        #expect(answers == [.wrong, .wrong, .wrong, .throttled])
        #expect(auth.usernames == ["carol", "carol", "carol"])
        #expect(logins(f, [("   ", "x")]) == [.badRequest])
    }

    @Test("an undecided login gives its slots back; a success clears the user's counter")
    func releaseAndReset() throws {
        let outcome = Mutex<AuthenticationResult>(.unavailable("down"))
        let auth = SlowAuthenticator(delay: 0) { _, _ in outcome.withLock { $0 } }
        let f = try flows(auth, perUser: 2, perAddress: 3)
        for _ in 0..<4 { #expect(logins(f, [("carol", "x")]) == [.unavailable]) }
        outcome.withLock { $0 = .rejected }
        #expect(logins(f, [("carol", "x")]) == [.wrong])
        outcome.withLock { $0 = .success(Self.identity) }
        #expect(logins(f, [("carol", "x")]) == [.ok])
        // The user's counter was cleared, the address kept only the failure: 2 more guesses.
        outcome.withLock { $0 = .rejected }
        #expect(logins(f, [("carol", "x")]) + logins(f, [("carol", "x")]) == [.wrong, .wrong])
        #expect(logins(f, [("carol", "x")]) == [.throttled])
    }

    @Test("logout everywhere by access token only until access_ttl after its exp")
    func logoutEverywhereBound() throws {
        let f = try flows(SlowAuthenticator(delay: 0) { _, _ in .rejected })
        let ttl = f.keys.settings.accessTTL
        let now = WallClock.millis()
        func claims(issuedAt: Int64) throws -> Claims {
            let token = try f.minter.accessToken(for: Self.identity, sid: "sid-1", jti: "jti-1", now: issuedAt)
            return try f.boundAccessToken(token).get().claims
        }
        #expect(f.mayLogOutEverywhere(try claims(issuedAt: now), now: now))
        // Expired a moment ago, and just inside the bound.
        #expect(f.mayLogOutEverywhere(try claims(issuedAt: now - ttl - 1_000), now: now))
        #expect(f.mayLogOutEverywhere(try claims(issuedAt: now - 2 * ttl + 5_000), now: now))
        #expect(!f.mayLogOutEverywhere(try claims(issuedAt: now - 2 * ttl - 5_000), now: now))
        let old = try claims(issuedAt: now - 10 * ttl)
        let answer = Mutex<Result<Void, GrantFailure>?>(nil)
        let done = DispatchSemaphore(value: 0)
        f.logout(access: old, refresh: nil, all: true) { r in
            answer.withLock { $0 = r }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 5) == .success)
        guard case .failure(.staleAccessToken)? = answer.withLock({ $0 }) else {
            Issue.record("an old access token logged out everywhere")
            return
        }
    }
}
