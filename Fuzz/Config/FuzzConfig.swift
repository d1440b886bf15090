// libFuzzer target: the configuration loader (GatewayCore), from bytes.
//
// Entry points (internal, reached with `@testable import`; the fuzz build compiles the
// modules with `-enable-testing`, the shipped build does not):
//  - `JSONParser.parse(_:)`, the strict JSON parser under `gateway.json`, login bodies and
//    authenticator answers. Checked: what it accepts serialises (`JSONWriter.serialize`) to
//    JSON that parses back to the same value.
//  - `GatewayConfig.parse(_:baseDirectory:environment:)`, what `GatewayConfig.load(path:)`
//    calls after reading the file: decoding and validation of every section. It reads no
//    files (key and user files are only resolved to paths here).
//
// Byte 0 picks the environment: bit 0 sets `GATEWAY_LISTEN`, bit 1 `GATEWAY_ADMIN_LISTEN`
// (to valid or invalid values by bit 2), as an operator's container would.
@testable import GatewayCore

#if canImport(Glibc)
import Glibc
#endif

/// `FUZZ_DEBUG=1` prints whether each input was accepted, and why not.
private let debug = getenv("FUZZ_DEBUG") != nil

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let control = data[0]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))

    if let value = try? JSONParser.parse(bytes) {
        var out = [UInt8]()
        JSONWriter.serialize(value, to: &out)
        let again: JSONValue
        do {
            again = try JSONParser.parse(out)
        } catch {
            preconditionFailure("serialised JSON does not parse: \(error): \(String(decoding: out, as: UTF8.self))")
        }
        precondition(again == value, "round trip changed the value: \(String(decoding: out, as: UTF8.self))")
    }

    var environment = [String: String]()
    let valid = control & 4 == 0
    if control & 1 != 0 { environment["GATEWAY_LISTEN"] = valid ? "0.0.0.0:8080" : "localhost" }
    if control & 2 != 0 { environment["GATEWAY_ADMIN_LISTEN"] = valid ? "[::1]:9090" : "9090" }
    do {
        let config = try GatewayConfig.parse(bytes, baseDirectory: "/nonexistent/fuzz", environment: environment)
        if debug { print("accepted: \(config.routes.count) routes") }
        precondition(!config.routes.isEmpty, "a config without routes was accepted")
        for r in config.routes {
            precondition(r.path.hasPrefix("/"), "route path \(r.path) is not absolute")
        }
    } catch {
        if debug { print("refused:\n\(error)") }
        precondition(!error.issues.isEmpty, "a config was refused without saying why")
    }
    return 0
}
