import Testing
import TokenStore

@testable import RedisStore

@Suite("Store codecs")
struct StoreCodecTests {
    @Test func revocationMessageRoundTrip() throws {
        for r in [
            Revocation(target: .family(sid: "sid|with|bars"), expiresAt: 1_700_000_000_000),
            Revocation(target: .token(jti: "j"), expiresAt: -5),
        ] {
            let decoded = try #require(RevocationMessage.decode(RevocationMessage.encode(instance: "abc", r)))
            #expect(decoded.instance == "abc")
            #expect(decoded.revocation == r)
        }
    }

    @Test(arguments: ["", "v1|a|f|1|", "v2|a|f|1|s", "v1|a|x|1|s", "v1|a|f|one|s", "v1|a|f|1"])
    func malformedMessagesAreIgnored(_ text: String) {
        #expect(RevocationMessage.decode(Array(text.utf8)) == nil)
    }

    static func bulk(_ s: String) -> RESPValue { .bulkString(Array(s.utf8)) }

    @Test func rotationReplies() {
        let snapshot = FamilySnapshot(sid: "s", subject: "alice", claims: Array("{}".utf8), refreshExpiresAt: 99)
        #expect(
            StoreReply.rotation(
                .array([Self.bulk("rotated"), Self.bulk("s"), Self.bulk("alice"), Self.bulk("{}"), .integer(99)])
            )
                == .rotated(snapshot)
        )
        #expect(
            StoreReply.rotation(
                .array([
                    Self.bulk("grace"), Self.bulk("s"), Self.bulk("alice"), Self.bulk("{}"), .integer(99),
                    Self.bulk("blob"),
                    Self.bulk("jti"),
                ])
            ) == .graceReplay(snapshot, graceBlob: Array("blob".utf8), accessJti: "jti")
        )
        #expect(
            StoreReply.rotation(.array([Self.bulk("reuse"), Self.bulk("s"), .integer(7)]))
                == .reuseDetected(Revocation(target: .family(sid: "s"), expiresAt: 7))
        )
        #expect(
            StoreReply.rotation(.array([Self.bulk("mismatch"), Self.bulk("s"), .integer(7)]))
                == .bindingMismatch(Revocation(target: .family(sid: "s"), expiresAt: 7))
        )
        for reason in ["unknown", "expired", "revoked", "foreignSubject", "bindingMissing"] {
            #expect(
                StoreReply.rotation(.array([Self.bulk("rejected"), Self.bulk(reason)]))
                    == .rejected(RotationRejection(rawValue: reason)!)
            )
        }
    }

    @Test func unexpectedShapesAreRefused() {
        #expect(StoreReply.rotation(.integer(1)) == nil)
        #expect(StoreReply.rotation(.array([Self.bulk("rotated"), Self.bulk("s")])) == nil)
        #expect(StoreReply.rotation(.array([Self.bulk("rejected"), Self.bulk("bogus")])) == nil)
        #expect(StoreReply.revocationList(.array([Self.bulk("list"), Self.bulk("x:1"), .integer(1)])) == nil)
        #expect(StoreReply.familyList(.array([Self.bulk("list"), Self.bulk("s")])) == nil)
        #expect(StoreReply.optionalFamilyRevocation(.array([Self.bulk("revoked")])) == nil)
    }

    @Test func revocationLists() {
        let reply = RESPValue.array([
            Self.bulk("list"), Self.bulk("f:s1"), .integer(5), Self.bulk("t:j:1"), .integer(6),
        ])
        #expect(
            StoreReply.revocationList(reply) == [
                Revocation(target: .family(sid: "s1"), expiresAt: 5),
                Revocation(target: .token(jti: "j:1"), expiresAt: 6),
            ]
        )
        #expect(StoreReply.optionalFamilyRevocation(.array([Self.bulk("none")])) == .some(nil))
    }

    @Test func digestHex() {
        let d = Digest32(bytes: (0..<32).map { UInt8($0 * 8) })!
        #expect(d.hex == "0008101820283038404850586068707880889098a0a8b0b8c0c8d0d8e0e8f0f8")
    }

    @Test func timesAreClampedForLua() {
        #expect(arg(Int64.max) == Array(String(Int64(1) << 51).utf8))
        #expect(arg(Int64.min) == Array(String(-(Int64(1) << 51)).utf8))
        #expect(arg(Int64(1_700_000_000_000)) == Array("1700000000000".utf8))
    }
}
