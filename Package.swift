// swift-tools-version:6.0
import PackageDescription

// Layers, lowest first. The compiler holds the walls: `HTTP1` and `JOSE` know nothing of
// each other or of sockets, `EventLoop` knows no HTTP, `TokenStore` knows no routes, and
// only `GatewayCore` (proxy, auth policy and flows, config, observability) sees them all.
//
// Release builds of the request-path modules skip the dynamic exclusivity checks: every
// `swift_beginAccess` costs a thread-local lookup and an access-set insert, and they were
// about 12 % of the instructions of a TLS keep-alive request (callgrind, docs/benchmarks.md).
// Debug builds, which `swift test` and the fuzzers use, keep them, so a violation still traps
// in tests; static exclusivity (the compiler's) holds everywhere.
let requestPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "auth-gateway",
    products: [
        .executable(name: "gateway", targets: ["gateway"])
    ],
    targets: [
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // libssl for TLS, apart from JOSE's libcrypto use: TLS is a transport, not JOSE.
        .systemLibrary(name: "CTLS", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLinux"),
        // io_uring sends in C: the kernel's headers stay out of every Swift-visible module.
        .target(name: "CURing"),
        .target(name: "HTTP1", swiftSettings: requestPath),
        .target(name: "JOSE", dependencies: ["COpenSSL"], swiftSettings: requestPath),
        .target(name: "EventLoop", dependencies: ["CLinux", "CURing"], swiftSettings: requestPath),
        // TLS transports over libssl: the only importer of CTLS.
        .target(name: "TLS", dependencies: ["CTLS", "EventLoop"], swiftSettings: requestPath),
        .target(name: "TokenStore", dependencies: ["EventLoop"], swiftSettings: requestPath),
        // The gateway's own outgoing HTTP/1.1 client (JWKS, discovery, the authenticator): on a loop, over transports.
        .target(name: "HTTPClient", dependencies: ["HTTP1", "EventLoop", "TLS"]),
        // The shared store for replicas: the gateway's own RESP client (TCP or TLS), Lua rotation, pub/sub.
        .target(name: "RedisStore", dependencies: ["TokenStore", "EventLoop", "TLS"], swiftSettings: requestPath),
        .target(
            name: "GatewayCore",
            dependencies: ["HTTP1", "JOSE", "EventLoop", "TLS", "TokenStore", "RedisStore", "HTTPClient"],
            swiftSettings: requestPath
        ),
        .executableTarget(name: "gateway", dependencies: ["GatewayCore"]),
        // Release-mode micro-benchmark of the JOSE layer (scripts/bench-jose).
        .executableTarget(name: "jose-bench", dependencies: ["JOSE"], path: "Benchmarks/JOSEBench"),

        // Helpers several test targets share (child processes, a throw-away PKI); not shipped.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1"]),
        .testTarget(name: "JOSETests", dependencies: ["JOSE"], resources: [.copy("Vectors")]),
        .testTarget(name: "EventLoopTests", dependencies: ["EventLoop"]),
        .testTarget(name: "TLSTests", dependencies: ["TLS", "EventLoop", "TestSupport"]),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "EventLoop", "HTTP1"]),
        .testTarget(name: "TokenStoreTests", dependencies: ["TokenStore"]),
        .testTarget(name: "RedisStoreTests", dependencies: ["RedisStore", "TokenStore", "TestSupport"]),
        .testTarget(name: "GatewayCoreTests", dependencies: ["GatewayCore", "RedisStore", "TLS"]),
    ]
)
