import Testing

@testable import JOSE

/// RFC 7515 Appendix A.1–A.4 and RFC 8037 Appendix A, with the exact values of the RFCs.
@Suite("RFC 7515 / RFC 8037 examples")
struct RFCVectorTests {
    /// RFC 7515 A.1–A.3 payload: JSON with CRLF line breaks.
    static let payload = "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}"
    static let payloadB64 =
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"

    @Test("A.1 HS256")
    func a1() throws {
        let jwk = bytes(
            #"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#
        )
        let key = try JWSKey.jwk(jwk, algorithm: .hs256, kid: "a1")
        let token =
            "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." + Self.payloadB64
            + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        #expect(Base64URL.encodeToString(bytes(Self.payload)) == Self.payloadB64)
        let keys = try JWSKeySet(verificationKeys: [key])
        let v = try keys.verify(token: token, allowedAlgorithms: [.hs256])
        #expect(v.header.algorithm == .hs256)
        #expect(v.header.typ == "JWT")
        #expect(v.header.kid == nil)
        #expect(v.payload == bytes(Self.payload))
        #expect(v.claims.iss == "joe")
        #expect(v.claims.exp == 1_300_819_380)
        #expect(v.claims.rawValue("http://example.com/is_root").map(Array.init) == bytes("true"))
        // HMAC is deterministic: signing the RFC's input gives the RFC's tag.
        let input = bytes(String(token.split(separator: ".").prefix(2).joined(separator: ".")))
        #expect(b64(try key.sign(input)) == "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    }

    static let a2Key = #"""
        {"kty":"RSA",
         "n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
         "e":"AQAB",
         "d":"Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
         "p":"4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
         "q":"uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
         "dp":"BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
         "dq":"h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
         "qi":"IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U"
        }
        """#
    static let a2Signature =
        "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"

    @Test("A.2 RS256: verify, and signing reproduces the RFC signature")
    func a2() throws {
        let priv = try JWSKey.jwk(bytes(Self.a2Key), algorithm: .rs256, kid: "a2")
        #expect(priv.canSign)
        #expect(priv.rsaBits == 2048)
        let pub = try JWSKey.der(try #require(priv.publicKeyDER()), algorithm: .rs256, kid: "a2")
        #expect(!pub.canSign)
        let input = "eyJhbGciOiJSUzI1NiJ9." + Self.payloadB64
        let keys = try JWSKeySet(verificationKeys: [pub])
        let v = try keys.verify(token: input + "." + Self.a2Signature, allowedAlgorithms: [.rs256])
        #expect(v.claims.iss == "joe")
        #expect(v.keyID == "a2")
        // RSASSA-PKCS1-v1_5 is deterministic.
        #expect(b64(try priv.sign(bytes(input))) == Self.a2Signature)
    }

    static let a3Key = #"""
        {"kty":"EC","crv":"P-256",
         "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
         "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
         "d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}
        """#

    @Test("A.3 ES256")
    func a3() throws {
        let priv = try JWSKey.jwk(bytes(Self.a3Key), kid: "a3")
        #expect(priv.algorithm == .es256)
        let keys = try JWSKeySet(verificationKeys: [priv])
        let token =
            "eyJhbGciOiJFUzI1NiJ9." + Self.payloadB64
            + ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
        let v = try keys.verify(token: token, allowedAlgorithms: [.es256])
        #expect(v.claims.exp == 1_300_819_380)
        // ECDSA is randomised: a fresh signature differs but verifies.
        let input = bytes("eyJhbGciOiJFUzI1NiJ9." + Self.payloadB64)
        let sig = try priv.sign(input)
        #expect(sig.count == 64)
        #expect(priv.verifySignature(sig, input: input, algorithm: .es256))
    }

    @Test("A.4 ES512 (payload is not JSON: verified at the JWS level)")
    func a4() throws {
        let jwk = #"""
            {"kty":"EC","crv":"P-521",
             "x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk",
             "y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2",
             "d":"AY5pb7A0UFiB3RELSD64fTLOSV_jazdF7fLYyuTw8lOfRhWg6Y6rUrPAxerEzgdRhajnu0ferB0d53vM9mE15j2C"}
            """#
        let key = try JWSKey.jwk(bytes(jwk), kid: "a4")
        #expect(key.algorithm == .es512)
        let token =
            "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA."
            + "AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn"
        let keys = try JWSKeySet(verificationKeys: [key])
        let (header, payload) = try keys.verifyJWS(token: bytes(token), allowedAlgorithms: [.es512])
        #expect(header.algorithm == .es512)
        #expect(payload == bytes("Payload"))
        // As a JWT it is refused: the payload is not a JSON object.
        expectError(.malformed("JSON object expected")) { () throws(JOSEError) in
            try keys.verify(token: token, allowedAlgorithms: [.es512])
        }
    }

    static let ed25519Private =
        #"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
    static let ed25519Public = #"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
    static let ed25519Input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    static let ed25519Signature =
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"

    @Test("RFC 8037 A.3 thumbprint, A.4 signing, A.5 validation")
    func rfc8037() throws {
        let priv = try JWSKey.jwk(bytes(Self.ed25519Private))
        // A.3: the RFC 7638 thumbprint is the default kid.
        #expect(priv.kid == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
        #expect(priv.algorithm == .edDSA)
        #expect(b64(bytes(#"{"alg":"EdDSA"}"#)) + "." + b64(bytes("Example of Ed25519 signing")) == Self.ed25519Input)
        // A.4: Ed25519 is deterministic.
        #expect(b64(try priv.sign(bytes(Self.ed25519Input))) == Self.ed25519Signature)
        // A.5: validation with the public key alone.
        let pub = try JWSKey.jwk(bytes(Self.ed25519Public))
        let keys = try JWSKeySet(verificationKeys: [pub])
        let (_, payload) = try keys.verifyJWS(
            token: bytes(Self.ed25519Input + "." + Self.ed25519Signature),
            allowedAlgorithms: [.edDSA]
        )
        #expect(payload == bytes("Example of Ed25519 signing"))
        // One flipped bit fails.
        var sig = try Base64URL.decode(Self.ed25519Signature)
        sig[7] ^= 1
        #expect(!pub.verifySignature(sig, input: bytes(Self.ed25519Input), algorithm: .edDSA))
    }
}
