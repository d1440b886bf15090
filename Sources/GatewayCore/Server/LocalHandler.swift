import EventLoop
import HTTP1

/// A request the gateway answers itself (login, refresh, logout, JWKS, preflight), with
/// its body already read (bounded by `LocalHandler.maxBodyBytes`).
struct LocalRequest: Sendable {
    var method: HTTPMethod
    /// The normalised path.
    var path: String
    var query: String?
    /// Header names lower-cased, in order.
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var clientAddress: String
    var requestID: String

    func header(_ lowercasedName: String) -> String? {
        headers.first { $0.name == lowercasedName }?.value
    }

    func headers(_ lowercasedName: String) -> [String] {
        headers.filter { $0.name == lowercasedName }.map(\.value)
    }
}

/// A response made by the gateway.
struct LocalResponse: Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    /// Close the connection after this response.
    var close = false

    /// A JSON error body `{"error": ..., "error_description": ...}` (SPEC §3).
    static func error(
        _ status: Int, _ code: String, _ description: String,
        headers: [(String, String)] = [], close: Bool = false
    ) -> LocalResponse {
        var body: [UInt8] = []
        HeadWriter.append("{\"error\":", to: &body)
        JSONWriter.appendString(code, to: &body)
        HeadWriter.append(",\"error_description\":", to: &body)
        JSONWriter.appendString(description, to: &body)
        HeadWriter.append("}", to: &body)
        return LocalResponse(
            status: status, headers: [("Content-Type", "application/json")] + headers, body: body, close: close)
    }

    static func json(_ status: Int, _ body: [UInt8], headers: [(String, String)] = []) -> LocalResponse {
        LocalResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: body)
    }
}

/// Answers requests on one of the gateway's own paths. Called on the connection's event
/// loop; `respond` may be called from any thread, once.
protocol LocalHandler: Sendable {
    /// Largest body accepted (413 above it).
    var maxBodyBytes: Int { get }
    func handle(_ request: LocalRequest, respond: LocalResponder)
}

/// Delivers a local response to its connection, hopping to the connection's loop.
struct LocalResponder: @unchecked Sendable {
    // Only touched on `loop`'s thread (enforced by `respond`).
    private let connection: ClientConnection
    private let loop: EventLoop
    private let generation: Int

    init(connection: ClientConnection, loop: EventLoop, generation: Int) {
        self.connection = connection
        self.loop = loop
        self.generation = generation
    }

    func respond(_ response: LocalResponse) {
        if loop.inEventLoop {
            connection.finishLocal(response, generation: generation)
        } else {
            let c = self
            loop.execute { c.connection.finishLocal(response, generation: c.generation) }
        }
    }
}
