import Testing

@testable import GatewayCore

/// A handler told apart by its body limit.
private struct Tagged: LocalHandler {
    let maxBodyBytes: Int
    func handle(_ request: LocalRequest, respond: LocalResponder) {}
}

@Suite("Local route table")
struct LocalRouteTableTests {
    let table = LocalRouteTable([
        (Array("/auth/login".utf8), Tagged(maxBodyBytes: 1)),
        (Array("/auth/refresh".utf8), Tagged(maxBodyBytes: 2)),
        (Array("/auth/logout".utf8), Tagged(maxBodyBytes: 3)),
        (Array("/.well-known/jwks.json".utf8), Tagged(maxBodyBytes: 4)),
    ])

    func find(_ path: String) -> Int? {
        Array(path.utf8).withUnsafeBytes { table.handler(for: $0)?.maxBodyBytes }
    }

    @Test func exactPathsOnly() {
        #expect(find("/auth/login") == 1)
        #expect(find("/auth/refresh") == 2)
        #expect(find("/auth/logout") == 3)
        #expect(find("/.well-known/jwks.json") == 4)
        // Same length as /auth/login, one byte apart; a prefix; a longer path; case.
        #expect(find("/auth/logix") == nil)
        #expect(find("/auth/logi") == nil)
        #expect(find("/auth/login/") == nil)
        #expect(find("/auth/loginx") == nil)
        #expect(find("/AUTH/login") == nil)
        #expect(find("/") == nil)
    }

    @Test func emptyTableFindsNothing() {
        let empty = LocalRouteTable()
        #expect(empty.isEmpty)
        #expect(!table.isEmpty)
        #expect(Array("/auth/login".utf8).withUnsafeBytes { empty.handler(for: $0) } == nil)
    }
}
