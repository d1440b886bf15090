import Testing

@testable import RedisStore

@Suite("Redis URL")
struct RedisURLTests {
    @Test func hostOnly() throws {
        #expect(try RedisURL(parsing: "redis://cache") == RedisURL(host: "cache"))
    }

    @Test func fullForm() throws {
        let url = try RedisURL(parsing: "redis://gateway:p%40ss:w@10.0.0.5:6380/3")
        #expect(url == RedisURL(host: "10.0.0.5", port: 6380, database: 3, username: "gateway", password: "p@ss:w"))
    }

    @Test func passwordOnly() throws {
        let url = try RedisURL(parsing: "redis://:secret@localhost:6379/0")
        #expect(url.username == nil)
        #expect(url.password == "secret")
    }

    @Test func userOnlyTakesThePasswordElsewhere() throws {
        let url = try RedisURL(parsing: "redis://gateway@localhost")
        #expect(url.username == "gateway")
        #expect(url.password == nil)
        let options = try RedisOptions(url: "redis://gateway@localhost", password: "from-env")
        #expect(options.url.password == "from-env")
        #expect(options.url.username == "gateway")
    }

    @Test func passwordOverrideReplacesTheURLs() throws {
        let options = try RedisOptions(url: "redis://:old@localhost", password: "new")
        #expect(options.url.password == "new")
    }

    @Test func ipv6AndTrailingSlash() throws {
        #expect(try RedisURL(parsing: "redis://[::1]:7000/") == RedisURL(host: "::1", port: 7000))
        #expect(try RedisURL(parsing: "redis://[::1]") == RedisURL(host: "::1"))
        #expect(try RedisURL(parsing: "REDIS://h:1/2") == RedisURL(host: "h", port: 1, database: 2))
    }

    @Test func redissMeansTLS() throws {
        let url = try RedisURL(parsing: "rediss://:pw@cache.internal:6380/2")
        #expect(url == RedisURL(host: "cache.internal", port: 6380, database: 2, password: "pw", tls: true))
        #expect(url.description == "rediss://:***@cache.internal:6380/2")
        #expect(try RedisURL(parsing: "REDISS://h").tls)
        #expect(try RedisURL(parsing: "rediss://h").port == 6379)
        #expect(try !RedisURL(parsing: "redis://h").tls)
    }

    static let bad: [(String, RedisURLError)] = [
        ("localhost:6379", .notARedisURL),
        ("http://localhost", .unsupportedScheme("http")),
        ("redisss://localhost", .unsupportedScheme("redisss")),
        ("rediss//localhost", .notARedisURL),
        ("redis://", .badHost),
        ("redis://:6379", .badHost),
        ("redis://h:0", .badPort),
        ("redis://h:65536", .badPort),
        ("redis://h:x", .badPort),
        ("redis://h/-1", .badDatabase),
        ("redis://h/a", .badDatabase),
        ("redis://h/1?timeout=3", .queryNotSupported),
        ("redis://u:%zz@h", .badPercentEncoding),
        ("redis://u:%4@h", .badPercentEncoding),
        ("redis://[::1", .badHost),
    ]

    @Test(arguments: 0..<bad.count)
    func refused(_ i: Int) {
        let (text, error) = Self.bad[i]
        #expect(throws: error) { try RedisURL(parsing: text) }
    }

    @Test func descriptionHidesThePassword() throws {
        let url = try RedisURL(parsing: "redis://gateway:hunter2@cache:6379/1")
        #expect(url.description == "redis://gateway:***@cache:6379/1")
        #expect(!"\(try RedisOptions(url: "redis://:hunter2@cache"))".contains("hunter2"))
        #expect(try RedisURL(parsing: "redis://[::1]").description == "redis://[::1]:6379/0")
    }

    @Test func handshakeCommands() throws {
        #expect(RedisClient.handshake(try RedisURL(parsing: "redis://h")) == [])
        #expect(
            RedisClient.handshake(try RedisURL(parsing: "redis://:pw@h/2"))
                == [RedisCommand("AUTH", "pw"), RedisCommand("SELECT", 2)]
        )
        #expect(RedisClient.handshake(try RedisURL(parsing: "redis://u:pw@h")) == [RedisCommand("AUTH", "u", "pw")])
        // Over TLS a PING ends the handshake: ready means the server accepted the client
        // certificate (TLS 1.3 reports it refused only after the client's handshake is done).
        #expect(
            RedisClient.handshake(try RedisURL(parsing: "rediss://:pw@h"))
                == [RedisCommand("AUTH", "pw"), RedisCommand("PING")]
        )
    }
}
