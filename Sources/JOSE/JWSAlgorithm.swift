/// A JWS signature algorithm (RFC 7518 §3.1, RFC 8037 §3.1).
///
/// There is deliberately no `none` case: parsing `"none"` in any casing throws
/// ``JOSEError/algorithmNone`` (RFC 8725 §3.1).
public enum JWSAlgorithm: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case hs256, hs384, hs512
    case rs256, rs384, rs512
    case ps256, ps384, ps512
    case es256, es384, es512
    /// EdDSA with Ed25519 (RFC 8037 §3.1); Ed448 is not supported.
    case edDSA

    /// The key families of RFC 7518 §6.1 (`kty`): a key verifies only within its own.
    public enum Family: Sendable, Hashable {
        case hmac, rsa, ec, okp
    }

    /// The `alg` header value, e.g. `"ES256"`.
    public var name: String {
        switch self {
        case .hs256: return "HS256"
        case .hs384: return "HS384"
        case .hs512: return "HS512"
        case .rs256: return "RS256"
        case .rs384: return "RS384"
        case .rs512: return "RS512"
        case .ps256: return "PS256"
        case .ps384: return "PS384"
        case .ps512: return "PS512"
        case .es256: return "ES256"
        case .es384: return "ES384"
        case .es512: return "ES512"
        case .edDSA: return "EdDSA"
        }
    }

    public var description: String { name }

    public var family: Family {
        switch self {
        case .hs256, .hs384, .hs512: return .hmac
        case .rs256, .rs384, .rs512, .ps256, .ps384, .ps512: return .rsa
        case .es256, .es384, .es512: return .ec
        case .edDSA: return .okp
        }
    }

    /// Output size of the SHA-2 hash in bytes (32, 48 or 64); EdDSA hashes internally (64).
    public var hashLength: Int {
        switch self {
        case .hs256, .rs256, .ps256, .es256: return 32
        case .hs384, .rs384, .ps384, .es384: return 48
        case .hs512, .rs512, .ps512, .es512, .edDSA: return 64
        }
    }

    /// For ES*: the curve it requires (RFC 7518 §3.4).
    public var curve: ECCurve? {
        switch self {
        case .es256: return .p256
        case .es384: return .p384
        case .es512: return .p521
        default: return nil
        }
    }

    /// Parses an `alg` value exactly (case-sensitive, RFC 7515 §4.1.1).
    ///
    /// - Throws: ``JOSEError/algorithmNone`` for `none` in any casing,
    ///   ``JOSEError/unsupportedAlgorithm`` for anything else unknown.
    public init(name: String) throws(JOSEError) {
        var s = name
        let r: JWSAlgorithm? = s.withUTF8 { JWSAlgorithm.match(UnsafeRawBufferPointer($0)) }
        if let r {
            self = r
            return
        }
        if JWSAlgorithm.isNone(Array(name.utf8)) { throw .algorithmNone }
        throw .unsupportedAlgorithm
    }

    /// Matches raw (unescaped) `alg` bytes.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(JOSEError) -> JWSAlgorithm {
        if let r = match(bytes) { return r }
        if isNone(bytes) { throw .algorithmNone }
        throw .unsupportedAlgorithm
    }

    static func match(_ b: UnsafeRawBufferPointer) -> JWSAlgorithm? {
        if b.count == 5 {
            let h = b[2], d = (b[3], b[4])
            let bits: Int
            switch (h, d.0, d.1) {
            case (0x32, 0x35, 0x36): bits = 256  // "256"
            case (0x33, 0x38, 0x34): bits = 384
            case (0x35, 0x31, 0x32): bits = 512
            default:
                // "EdDSA"
                if b[0] == 0x45, b[1] == 0x64, b[2] == 0x44, b[3] == 0x53, b[4] == 0x41 { return .edDSA }
                return nil
            }
            let i = bits == 256 ? 0 : bits == 384 ? 1 : 2
            switch (b[0], b[1]) {
            case (0x48, 0x53): return JWSAlgorithm(rawValue: UInt8(0 + i))  // HS
            case (0x52, 0x53): return JWSAlgorithm(rawValue: UInt8(3 + i))  // RS
            case (0x50, 0x53): return JWSAlgorithm(rawValue: UInt8(6 + i))  // PS
            case (0x45, 0x53): return JWSAlgorithm(rawValue: UInt8(9 + i))  // ES
            default: return nil
            }
        }
        return nil
    }

    static func isNone<C: Collection>(_ b: C) -> Bool where C.Element == UInt8 {
        guard b.count == 4 else { return false }
        var i = b.startIndex
        for expected in [UInt8(ascii: "n"), UInt8(ascii: "o"), UInt8(ascii: "n"), UInt8(ascii: "e")] {
            if b[i] | 0x20 != expected { return false }
            i = b.index(after: i)
        }
        return true
    }

    var bit: UInt16 { 1 &<< UInt16(rawValue) }
}

/// The NIST curves of RFC 7518 §6.2.1.1.
public enum ECCurve: Sendable, Hashable {
    case p256, p384, p521

    /// The JWK `crv` name.
    public var name: String {
        switch self {
        case .p256: return "P-256"
        case .p384: return "P-384"
        case .p521: return "P-521"
        }
    }

    /// Length of one coordinate, and of r or s in a JWS signature (RFC 7518 §3.4).
    public var coordinateLength: Int {
        switch self {
        case .p256: return 32
        case .p384: return 48
        case .p521: return 66
        }
    }

    /// The one ES algorithm this curve may be used with.
    public var algorithm: JWSAlgorithm {
        switch self {
        case .p256: return .es256
        case .p384: return .es384
        case .p521: return .es512
        }
    }

    init?(jwkName: String) {
        switch jwkName {
        case "P-256": self = .p256
        case "P-384": self = .p384
        case "P-521": self = .p521
        default: return nil
        }
    }
}

/// An allow-list of algorithms (RFC 8725 §3.1), a bit set so that a check costs nothing.
public struct JWSAlgorithmSet: Sendable, Hashable, ExpressibleByArrayLiteral, Sequence {
    var bits: UInt16

    public init(_ algorithms: some Sequence<JWSAlgorithm>) {
        bits = 0
        for a in algorithms { bits |= a.bit }
    }

    public init(arrayLiteral elements: JWSAlgorithm...) { self.init(elements) }

    /// Every algorithm of ``JWSAlgorithm``.
    public static var all: JWSAlgorithmSet { JWSAlgorithmSet(JWSAlgorithm.allCases) }

    public func contains(_ a: JWSAlgorithm) -> Bool { bits & a.bit != 0 }

    public mutating func insert(_ a: JWSAlgorithm) { bits |= a.bit }

    public var isEmpty: Bool { bits == 0 }

    public func makeIterator() -> some IteratorProtocol<JWSAlgorithm> {
        JWSAlgorithm.allCases.filter { contains($0) }.makeIterator()
    }
}
