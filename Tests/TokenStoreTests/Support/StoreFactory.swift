import Testing

@testable import TokenStore

/// Opens a fresh, empty store of one backend for the contract suite. A new backend (Redis)
/// joins the suite by adding a factory to `all`.
struct StoreFactory: Sendable, CustomTestStringConvertible {
    let name: String
    let open: @Sendable () throws -> (store: any TokenStore, cleanup: @Sendable () -> Void)

    var testDescription: String { name }

    static let memory = StoreFactory(name: "memory") { (MemoryTokenStore(), {}) }

    static let journal = StoreFactory(name: "journal") {
        let dir = TempDirectory("contract")
        let store = try JournalTokenStore(options: JournalOptions(path: dir.data))
        return (
            store,
            {
                store.close(); dir.remove()
            }
        )
    }

    static let all: [StoreFactory] = [.memory, .journal]

    func with(_ body: (any TokenStore) async throws -> Void) async throws {
        let (store, cleanup) = try open()
        defer { cleanup() }
        try await body(store)
    }
}
