#!/usr/bin/env python3
"""Writes the committed seed inputs of Fuzz/corpus/<target>/ (run from anywhere).

    make_seeds.py               # every target
    make_seeds.py resp journal  # only these (the ES256 jws seeds change on every run)

Each file is one libFuzzer input: byte 0 is the harness's control byte (mode, split seed),
the rest the bytes under test; see the comment at the top of each Fuzz/<Target>/*.swift.
The ES256 seeds are signed with the P-256 fixture key of the JOSE tests through the `openssl` CLI.
"""
import base64
import hashlib
import hmac
import json
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HS_SECRET = b"fuzz-only-hs256-secret-0123456789abcdef"
# The P-256 fixture of the JOSE key-loading tests (the harness loads the same file).
ES_KEY = os.path.join(HERE, "..", "..", "Tests", "JOSETests", "Vectors", "keys", "ec_sec1.pem")


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def der_to_raw(der, n=32):
    # SEQUENCE { INTEGER r, INTEGER s }
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 3
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        ln = der[i + 1]
        v = der[i + 2 : i + 2 + ln].lstrip(b"\x00")
        out += v.rjust(n, b"\x00")
        i += 2 + ln
    return out


def es256(signing_input):
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", ES_KEY], input=signing_input,
                         capture_output=True, check=True).stdout
    return der_to_raw(der)


def es_public_xy():
    der = subprocess.run(["openssl", "pkey", "-in", ES_KEY, "-pubout", "-outform", "DER"],
                         capture_output=True, check=True).stdout
    point = der[-65:]
    assert point[0] == 4
    return b64(point[1:33]).decode(), b64(point[33:]).decode()


def token(header, claims, alg="HS256"):
    h = b64(json.dumps(header, separators=(",", ":")).encode())
    p = b64(json.dumps(claims, separators=(",", ":")).encode())
    si = h + b"." + p
    sig = hmac.new(HS_SECRET, si, hashlib.sha256).digest() if alg == "HS256" else es256(si)
    return si + b"." + b64(sig)


def request_head():
    t = "request_head"
    reqs = {
        "get": b"GET /api/v1/items?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n",
        "post_cl": b"POST /login HTTP/1.1\r\nHost: a:8080\r\nContent-Length: 12\r\nContent-Type: application/json\r\n\r\n",
        "chunked": b"PUT /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
        "absolute": b"GET http://example.com:80/a/../b/%2e/c%41?q HTTP/1.1\r\nHost: example.com\r\nExpect: 100-continue\r\n\r\n",
        "http10": b"\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\nAuthorization: Bearer abc.def.ghi\r\n\r\n",
        "pipelined": b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\nX-Request-Id: 123\r\n\r\n",
        "bad_both": b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "bad_fold": b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
        "bad_lf": b"GET / HTTP/1.1\nHost: h\n\n",
        "bad_cl": b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\n",
        "bad_path": b"GET /a/%2F/../../x HTTP/1.1\r\nHost: [::1]:99\r\n\r\n",
    }
    for i, (name, body) in enumerate(reqs.items()):
        write(t, "req_" + name, bytes([(i * 6) & 0xFE]) + body)
    resps = {
        "ok": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
        "chunked": b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n",
        "continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 204 \r\n\r\n",
        "bad": b"HTTP/1.1 20 OK\r\nContent-Length: x\r\n\r\n",
    }
    for i, (name, body) in enumerate(resps.items()):
        write(t, "resp_" + name, bytes([(i * 10) | 1]) + body)


def chunked():
    t = "chunked"
    bodies = {
        "simple": b"5\r\nhello\r\n0\r\n\r\n",
        "multi": b"3\r\nabc\r\nA;name=value\r\n0123456789\r\n0\r\n\r\nNEXT",
        "trailers": b"4\r\ndata\r\n0\r\nX-Trailer: v\r\nY: z\r\n\r\n",
        "ext_bws": b"1 ;ext\r\nz\r\n00\r\n\r\n",
        "bad_lf": b"5\nhello\r\n0\r\n\r\n",
        "bad_size": b"zz\r\n",
        "bad_framing": b"2\r\nabc\r\n0\r\n\r\n",
        "huge": b"ffffffffffffffffff\r\n",
        "fold_trailer": b"0\r\n folded\r\n\r\n",
    }
    for i, (name, body) in enumerate(bodies.items()):
        write(t, name, bytes([i * 29 & 0xFF]) + body)
    write(t, "small_limits", bytes([0x80]) + b"1001\r\n" + b"x" * 16 + b"\r\n0\r\n\r\n")
    write(t, "bytewise", bytes([0x40]) + b"2;a=b\r\nok\r\n0\r\nT: 1\r\n\r\n")


def jws():
    t = "jws"
    claims = {"iss": "https://issuer.test", "sub": "user-1", "aud": ["api", "other"], "exp": 1900000000,
              "nbf": 1700000000, "iat": 1700000000.5, "jti": "j1", "sid": "s1", "scope": "read write",
              "roles": ["admin"], "email": "a@b.test", "auth_time": 1}
    write(t, "hs256_valid", b"\x00" + token({"alg": "HS256", "typ": "at+jwt", "kid": "hs"}, claims))
    write(t, "es256_valid", b"\x01" + token({"alg": "ES256", "typ": "at+jwt", "kid": "es"}, claims, "ES256"))
    write(t, "es256_nokid", b"\x02" + token({"alg": "ES256", "typ": "JWT"}, {"sub": "x", "aud": "api"}, "ES256"))
    write(t, "alg_none", b"\x03" + b64(b'{"alg":"none"}') + b"." + b64(b'{"sub":"x"}') + b".")
    write(t, "hs_bad_sig", b"\x00" + token({"alg": "HS256", "kid": "hs"}, claims)[:-4] + b"AAAA")
    write(t, "crit", b"\x01" + token({"alg": "HS256", "kid": "hs", "crit": ["x"], "x": 1}, claims))
    write(t, "payload_claims", b"\x04" + json.dumps(claims).encode())
    write(t, "payload_escapes", b"\x05" + '{"sub":"\\u00e9\\ud83d\\ude00","aud":"api","n":[1,2,{"a":null}],"exp":1e10}'.encode())
    write(t, "payload_dup", b"\x04" + b'{"sub":"a","sub":"b"}')
    write(t, "payload_bad_exp", b"\x05" + b'{"exp":"1900000000"}')
    hdr = b'{"alg":"HS256","typ":"at+jwt","kid":"hs","jku":"https://x"}'
    write(t, "header_payload", b"\x06" + bytes([len(hdr)]) + hdr + b'{"sub":"u","exp":1900000000}')
    hdr2 = b'{"alg":"HS256","kid":"hs","kid":"es"}'
    write(t, "header_dup", b"\x06" + bytes([len(hdr2)]) + hdr2 + b'{}')
    x, y = es_public_xy()
    jwks = {"keys": [
        {"kty": "EC", "crv": "P-256", "kid": "es", "use": "sig", "alg": "ES256",
         "x": x, "y": y},
        {"kty": "oct", "kid": "o", "k": b64(HS_SECRET).decode(), "alg": "HS256"},
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
    ]}
    write(t, "jwks", b"\x07" + json.dumps(jwks).encode())
    write(t, "jwks_bad", b"\x07" + b'{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}')


def config():
    t = "config"
    minimal = {"listen": "127.0.0.1:8080",
               "routes": [{"name": "r", "path": "/", "upstream": "http://127.0.0.1:9000", "auth": "none"}]}
    write(t, "minimal", b"\x00" + json.dumps(minimal).encode())
    full = {
        "listen": "0.0.0.0:8080", "admin_listen": "127.0.0.1:9090", "workers": 2,
        "limits": {"max_connections": 1000, "max_connections_per_client": 64, "max_body_bytes": 1048576,
                   "client_header_timeout": "5s", "client_body_timeout": 30, "idle_timeout": "75s",
                   "upstream_connect_timeout": "500ms", "shutdown_grace": "10s"},
        "identity_headers": {"subject": "X-User", "claims": {"email": "X-Email"}},
        "cors": {"origins": ["https://app.example.com"], "allow_credentials": True, "max_age": "10m"},
        "tokens": {"issuer": "https://gw.test", "audience": ["api"], "access_ttl": "15m", "refresh_ttl": "30d",
                   "algorithms": ["ES256", "HS256"], "signing_key": "k1",
                   "keys": [{"kid": "k1", "alg": "ES256", "private_key_file": "keys/k1.pem"},
                            {"kid": "h", "alg": "HS256", "secret_env": "GW_SECRET"},
                            {"jwks_file": "/etc/gateway/partner.jwks"}]},
        "auth": {"realm": "api", "login_path": "/auth/login", "jwks_path": None,
                 "authenticator": {"kind": "upstream", "url": "http://127.0.0.1:7000/check", "timeout": "2s"},
                 "refresh_cookie": {"name": "rt"}, "throttle": {"max_failures_per_user": 3, "window": "5m"}},
        "store": {"kind": "redis", "url": "redis://redis:6379/0", "password_env": "REDIS_PASSWORD", "key_prefix": "gw:"},
        "log": {"level": "info", "access_log": True},
        "routes": [{"name": "api", "path": "/api", "upstream": "http://10.0.0.1:8000/base", "auth": "required",
                    "scopes": ["read"], "roles": ["user"], "strip_prefix": True, "methods": ["GET", "POST"],
                    "timeout": "20s", "max_body_bytes": 65536},
                   {"name": "ws", "path": "/ws", "host": "*.example.com", "upstream": ["http://[::1]:81", "http://127.0.0.2"],
                    "auth": "optional", "websocket": True, "preserve_host": False,
                    "request_headers": {"set": {"X-A": "1"}, "remove": ["X-B"]},
                    "response_headers": {"set": {"X-C": "2"}}},
                   {"name": "public", "path": "/public", "upstream": "http://127.0.0.3:8000", "auth": "none"}],
    }
    write(t, "full", b"\x00" + json.dumps(full, indent=1).encode())
    write(t, "env_listen", b"\x03" + json.dumps(minimal).encode())
    named = dict(minimal, routes=[dict(minimal["routes"][0], upstream="http://upstream.internal:8000")])
    write(t, "upstream_name", b"\x00" + json.dumps(named).encode())
    write(t, "env_bad", b"\x07" + json.dumps(minimal).encode())
    write(t, "no_routes", b"\x00" + b'{"listen":"127.0.0.1:1","routes":[]}')
    embedded = dict(minimal, store={"kind": "embedded", "path": "/var/lib/gateway", "fsync": False,
                                   "compact_bytes": 1 << 20}, routes=[dict(minimal["routes"][0], auth="none")])
    write(t, "embedded_store", b"\x02" + json.dumps(embedded).encode())
    write(t, "unknown_field", b"\x00" + b'{"routes":[{"name":"r","path":"/a/../b","upstream":"ftp://x"}],"lsiten":1}')
    write(t, "json_numbers", b"\x00" + b'[0,-0,1e308,-1.5e-300,123456789012345678,0.1,[[[{"a":"\\u0000\\ud83d\\ude00\\n"}]]]]')
    write(t, "json_bad", b"\x00" + b'{"a":1,"a":2}')
    write(t, "json_deep", b"\x00" + b"[" * 40 + b"]" * 40)


def resp():
    t = "resp"

    def bulk(b):
        return b"$%d\r\n%s\r\n" % (len(b), b)

    def arr(*items):
        return b"*%d\r\n" % len(items) + b"".join(items)

    # Byte 0 control (0x80 small limits, 0x40 also byte by byte), bytes 1-2 the split point.
    replies = {
        "simple": b"+OK\r\n+PONG\r\n+QUEUED\r\n",
        "errors": b"-ERR unknown command 'FOO'\r\n-NOSCRIPT No matching script. Please use EVAL.\r\n"
                  b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        "integers": b":0\r\n:1\r\n:-1\r\n:9223372036854775807\r\n:-9223372036854775808\r\n",
        "bulk": bulk(b"hello") + b"$0\r\n\r\n$-1\r\n" + bulk(b"a\r\n*:1\x00\xff"),
        "nested": arr(b":1\r\n", arr(bulk(b"x"), b"+y\r\n"), b"$-1\r\n", b"*-1\r\n", b"*0\r\n"),
        "hello_auth": b"+OK\r\n" + arr(bulk(b"server"), bulk(b"redis"), bulk(b"version"), bulk(b"7.0.15"),
                                       bulk(b"proto"), b":2\r\n"),
        "eval_rotated": arr(bulk(b"rotated"), bulk(b"sid-1"), bulk(b"alice"), bulk(b'{"scope":"read"}'),
                            b":1900000000000\r\n"),
        "eval_grace": arr(bulk(b"grace"), bulk(b"sid-1"), bulk(b"alice"), bulk(b"{}"), b":1900000000000\r\n",
                          bulk(bytes(range(48))), bulk(b"jti-2")),
        "eval_reuse": arr(bulk(b"reuse"), bulk(b"sid-1"), b":1900000600000\r\n")
                      + arr(bulk(b"mismatch"), bulk(b"sid-2"), b":1900000600000\r\n")
                      + arr(bulk(b"rejected"), bulk(b"expired")),
        "eval_lists": arr(bulk(b"list"), bulk(b"f:sid-1"), b":1900000000000\r\n", bulk(b"t:jti-9"),
                          bulk(b"1900000000001")) + arr(bulk(b"none")) + arr(bulk(b"revoked"), bulk(b"s"), b":5\r\n"),
        "pubsub": arr(bulk(b"subscribe"), bulk(b"gw:revocations"), b":1\r\n")
                  + arr(bulk(b"message"), bulk(b"gw:revocations"), bulk(b"v1|inst-a|f|1900000000000|sid-1"))
                  + arr(bulk(b"message"), bulk(b"gw:revocations"), bulk(b"v1|inst-b|t|1900000000000|jti|with|bars")),
        "bad_type": b"+OK\r\n!3\r\nfoo\r\n",
        "bad_integer": b":12a\r\n",
        "bad_length": b"$-2\r\n",
        "bad_bulk_end": b"$3\r\nfooXY",
        "bare_lf": b"+OK\n",
        "incomplete": arr(bulk(b"a"), bulk(b"b"))[:-2],
    }
    for i, (name, body) in enumerate(replies.items()):
        write(t, name, bytes([(i * 37) & 0x3F]) + struct.pack(">H", (i * 7919) % (len(body) + 1)) + body)
    write(t, "small_limits", b"\x80\x00\x05" + arr(arr(b"*0\r\n")) + bulk(b"x" * 16) + b"+" + b"y" * 24 + b"\r\n")
    write(t, "small_too_long", b"\xc0\x00\x03" + bulk(b"x" * 17))
    write(t, "bytewise", b"\x40\x00\x00" + replies["eval_grace"])


# ---- journal: the embedded store's on-disk format (Sources/TokenStore/Journal/JournalFormat.swift)

def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def j_str(s):
    b = s.encode()
    return struct.pack("<H", len(b)) + b


def j_blob(b):
    return struct.pack("<I", len(b)) + b


def j_digest(n):
    return hashlib.sha256(b"digest-%d" % n).digest()


def j_i64(v):
    return struct.pack("<q", v)


T0 = 1_900_000_000_000


def journal_records():
    """(type, payload) of real records: the four log changes and the three snapshot records."""
    claims = b'{"scope":"read write","roles":["admin"]}'
    created = j_str("sid-1") + j_str("alice") + j_blob(claims) + j_digest(1) + j_digest(2) + j_str("jti-1") \
        + j_i64(T0) + j_i64(T0 + 86_400_000)
    rotated = j_str("sid-1") + j_digest(3) + j_str("jti-2") + j_blob(bytes(range(40))) + j_i64(T0 + 1000) \
        + j_i64(T0 + 86_401_000)
    fam_revoked = j_str("sid-1") + j_i64(T0 + 2000) + j_i64(T0 + 3_600_000)
    tok_revoked = j_str("jti-7") + j_i64(T0 + 3000) + j_i64(T0 + 900_000)
    family = j_str("sid-2") + j_str("bob") + j_blob(b"{}") + j_digest(4) + j_digest(5) + j_str("jti-5") \
        + b"\x01" + j_digest(6) + j_str("jti-4") + j_i64(T0) + j_blob(b"grace") \
        + struct.pack("<Q", 3) + j_i64(T0 + 86_400_000) + b"\x01" + j_i64(T0 + 10) + j_i64(T0 + 3_600_000) \
        + bytes([7]) + b"".join(j_digest(10 + i) for i in range(7))
    family_old = j_str("sid-3") + j_str("carol") + j_blob(b"") + j_digest(8) + j_digest(9) + j_str("j") \
        + b"\x00" + struct.pack("<Q", 0) + j_i64(T0 + 5) + b"\x00"
    revocation = b"\x00" + j_str("sid-1") + j_i64(T0 + 3_600_000)
    revocation_t = b"\x01" + j_str("jti-7") + j_i64(T0 + 900_000)
    end = struct.pack("<QQ", 2, 2) + j_i64(T0 + 3000)
    return {
        "created": (1, created), "rotated": (2, rotated), "family_revoked": (3, fam_revoked),
        "token_revoked": (4, tok_revoked), "family": (16, family), "family_old": (16, family_old),
        "revocation": (17, revocation), "revocation_token": (17, revocation_t), "snapshot_end": (18, end),
    }


def j_frame(rtype, payload):
    body = bytes([rtype]) + payload
    length = struct.pack("<I", len(body))
    return length + struct.pack("<I", crc32c(body, crc32c(length))) + body


def j_header(magic, sequence):
    h = magic + struct.pack("<HHQI", 1, 0, sequence, 0)
    return h + struct.pack("<I", crc32c(h))


def j_unit(rtype, payload):
    """A unit of the harness's framing modes: type u8 | length u16 LE | payload."""
    return bytes([rtype]) + struct.pack("<H", len(payload)) + payload


def journal():
    t = "journal"
    recs = journal_records()
    # Mode 0: one record body (type, payload).
    for name, (rtype, payload) in recs.items():
        write(t, "body_" + name, b"\x00" + bytes([rtype]) + payload)
    write(t, "body_bad_kind", b"\x00\x11\x02" + j_str("x") + j_i64(1))
    write(t, "body_trailing", b"\x00\x04" + recs["token_revoked"][1] + b"\x00")
    write(t, "body_bad_utf8", b"\x00\x03\x02\x00\xc3\x28" + j_i64(1) + j_i64(2))
    log_order = ["created", "rotated", "rotated", "family_revoked", "token_revoked"]
    log_frames = b"".join(j_frame(*recs[n]) for n in log_order)
    snap_order = ["family", "family_old", "revocation", "revocation_token", "snapshot_end"]
    snap_frames = b"".join(j_frame(*recs[n]) for n in snap_order)
    # Mode 1: frames after a header, read with a small chunk (bits 3-7).
    write(t, "frames_log", bytes([0x01 | (3 << 3)]) + log_frames)
    write(t, "frames_torn", bytes([0x01 | (0 << 3)]) + log_frames[:-5])
    damaged = bytearray(snap_frames)
    damaged[20] ^= 1
    write(t, "frames_bad_crc", bytes([0x01 | (31 << 3)]) + bytes(damaged))
    write(t, "frames_unknown_type", b"\x09" + j_frame(99, b"x") + log_frames)
    # Modes 2 and 3, framed by the harness: units of type | length u16 | payload.
    write(t, "log_units", bytes([0x02 | (5 << 3)]) + b"".join(j_unit(*recs[n]) for n in log_order))
    write(t, "log_units_snapshot_record", b"\x02" + j_unit(*recs["created"]) + j_unit(*recs["family"]))
    write(t, "snapshot_units", bytes([0x03 | (7 << 3)]) + b"".join(j_unit(*recs[n]) for n in snap_order))
    write(t, "snapshot_units_bad_count", b"\x03" + j_unit(*recs["family"]) + j_unit(*recs["snapshot_end"]))
    # Raw files (bit 2): the whole file as it is on disk.
    write(t, "log_file", bytes([0x06 | (2 << 3)]) + j_header(b"TSJL", 1) + log_frames + log_frames[:11])
    write(t, "snapshot_file", bytes([0x07 | (9 << 3)]) + j_header(b"TSSN", 4) + snap_frames)
    write(t, "snapshot_file_extra", b"\x07" + j_header(b"TSSN", 4) + snap_frames + j_frame(*recs["revocation"]))
    write(t, "log_file_wrong_kind", b"\x06" + j_header(b"TSSN", 1) + log_frames)


if __name__ == "__main__":
    targets = {"request_head": request_head, "chunked": chunked, "jws": jws, "config": config,
               "resp": resp, "journal": journal}
    for name in sys.argv[1:] or list(targets):
        targets[name]()
