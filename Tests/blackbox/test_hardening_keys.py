"""Hardening issue, items 11-13 (the JOSE layer), through the real binary.

11. One key, one algorithm (RFC 8725 §3.1): a key configured (or published in a JWK Set) for
    one algorithm refuses tokens correctly signed with the same key material under any other
    algorithm of its family, even when the allow-list admits that algorithm.
12. JWK key_ops without verify, and ambiguous JWK Sets, are refused at load, naming the key.
13. Weak RSA keys (ROCA fingerprint, implausible public exponents) are refused at load with
    the reason.
"""
import base64
import json
import os
import random
import subprocess
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import roca
from authkit import AUDIENCE, ISSUER, call, token_config
from conftest import BINARY, free_port

RSA_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
HMAC_ALGS = ["HS256", "HS384", "HS512"]


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_b64u(n):
    return b64u(n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big"))


def token(key, alg, kid, **claims):
    now = int(time.time())
    c = {"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "iat": now, "nbf": now, "exp": now + 300,
         "jti": str(uuid.uuid4()), "scope": "read"}
    c.update(claims)
    return jwt.encode(c, key, algorithm=alg, headers={"kid": kid, "typ": "at+jwt"})


def rsa_private_pem(path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    with open(path, "wb") as f:
        f.write(pem)
    return key, pem


def public_jwk(public_key, **members):
    n = public_key.public_numbers()
    if isinstance(public_key, rsa.RSAPublicKey):
        jwk = {"kty": "RSA", "n": int_b64u(n.n), "e": int_b64u(n.e)}
    else:
        size = (public_key.curve.key_size + 7) // 8
        jwk = {"kty": "EC", "crv": "P-256", "x": b64u(n.x.to_bytes(size, "big")),
               "y": b64u(n.y.to_bytes(size, "big"))}
    jwk.update(members)
    return jwk


def write_json(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f)
    return str(path)


def check(tmp_path, upstream_port, keys, **tokens):
    """`gateway check` on a config whose token keys are `keys`: (returncode, output)."""
    t = {"keys": keys}
    t.update(tokens)
    cfg = token_config(str(tmp_path), upstream_port, tokens=t)
    cfg["listen"] = "127.0.0.1:1"
    path = write_json(tmp_path / "gateway.json", cfg)
    r = subprocess.run([BINARY, "check", "--config", path], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, GW_SECRET="x" * 32))
    return r.returncode, r.stdout + r.stderr


def run_refused(tmp_path, upstream_port, keys, **tokens):
    """`gateway run` must exit non-zero within 10 s instead of serving: its output."""
    t = {"keys": keys}
    t.update(tokens)
    cfg = token_config(str(tmp_path), upstream_port, tokens=t)
    cfg["listen"] = "127.0.0.1:%d" % free_port()
    path = write_json(tmp_path / "gateway-run.json", cfg)
    proc = subprocess.Popen([BINARY, "run", "--config", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=dict(os.environ, GW_SECRET="x" * 32))
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError("gateway run started with a refused key: " + out)
    assert proc.returncode != 0, "gateway run exited 0 with a refused key: " + out
    return out


# 11. One key, one algorithm.

def test_rsa_key_for_ps512_refuses_every_other_rsa_alg(gateway_factory, upstream, tmp_path):
    key, pem = rsa_private_pem(tmp_path / "rsa.pem")
    cfg = token_config(str(tmp_path), upstream.port, tokens={
        "keys": [{"kid": "rsa", "alg": "PS512", "private_key_file": str(tmp_path / "rsa.pem")}],
        "algorithms": RSA_ALGS,   # the allow-list admits them all: only the key binding refuses
        "signing_key": "rsa",
    })
    gw = gateway_factory(cfg)
    r = call(gw, "/api/echo", token(pem, "PS512", "rsa"))
    assert r.status_code == 200, r.text
    for alg in RSA_ALGS[:-1]:
        t = token(pem, alg, "rsa")
        # The signature is genuine for alg with this key: PyJWT verifies it with the public key.
        jwt.decode(t, key.public_key(), algorithms=[alg], audience=AUDIENCE)
        r = call(gw, "/api/echo", t)
        assert r.status_code == 401, "%s token accepted by a PS512 key: %d" % (alg, r.status_code)
        assert 'error="invalid_token"' in r.headers.get("WWW-Authenticate", "")
    assert len(upstream.hits()) == 1


def test_jwks_key_without_alg_verifies_only_rs256(gateway_factory, upstream, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    jwks = write_json(tmp_path / "jwks.json", {"keys": [public_jwk(key.public_key(), kid="idp-1", use="sig")]})
    secret_keys = [{"kid": "hs1", "alg": "HS256", "secret_env": "GW_SECRET"}]
    cfg = token_config(str(tmp_path), upstream.port, tokens={
        "keys": secret_keys + [{"jwks_file": jwks}], "algorithms": ["HS256"] + RSA_ALGS, "signing_key": "hs1"})
    gw = gateway_factory(cfg, env={"GW_SECRET": "s" * 32})
    assert call(gw, "/api/echo", token(pem, "RS256", "idp-1")).status_code == 200
    for alg in RSA_ALGS[1:]:
        r = call(gw, "/api/echo", token(pem, alg, "idp-1"))
        assert r.status_code == 401, "%s token accepted by an alg-less JWKS key: %d" % (alg, r.status_code)


def test_hs256_secret_of_64_bytes_refuses_hs384_and_hs512(gateway_factory, upstream, tmp_path):
    secret = "k" * 64
    cfg = token_config(str(tmp_path), upstream.port, tokens={"algorithms": HMAC_ALGS})
    gw = gateway_factory(cfg, env={"GW_SECRET": secret})
    assert call(gw, "/api/echo", token(secret, "HS256", "hs1")).status_code == 200
    for alg in ["HS384", "HS512"]:
        r = call(gw, "/api/echo", token(secret, alg, "hs1"))
        assert r.status_code == 401, "%s token accepted by an HS256 key: %d" % (alg, r.status_code)
        assert 'error="invalid_token"' in r.headers.get("WWW-Authenticate", "")


def test_one_rsa_key_configured_for_two_algorithms_is_refused(tmp_path, upstream):
    rsa_private_pem(tmp_path / "rsa.pem")
    rc, out = check(tmp_path, upstream.port, [
        {"kid": "a", "alg": "RS256", "private_key_file": str(tmp_path / "rsa.pem")},
        {"kid": "b", "alg": "PS512", "public_key_file": str(tmp_path / "rsa.pem")},
    ], signing_key="a", algorithms=["RS256", "PS512"])
    assert rc != 0, "one RSA key for RS256 and PS512 loaded: " + out
    assert "one algorithm" in out and '"a"' in out and '"b"' in out, out


# 12. key_ops and ambiguous sets.

def test_jwk_with_key_ops_encrypt_is_refused_naming_the_key(tmp_path, upstream):
    key = ec.generate_private_key(ec.SECP256R1())
    jwks = write_json(tmp_path / "jwks.json", {"keys": [
        public_jwk(key.public_key(), kid="enc-only", alg="ES256", key_ops=["encrypt"])]})
    keys = [{"kid": "hs1", "alg": "HS256", "secret_env": "GW_SECRET"}, {"jwks_file": jwks}]
    rc, out = check(tmp_path, upstream.port, keys, signing_key="hs1")
    assert rc != 0, "a key_ops [encrypt] key loaded: " + out
    assert '"enc-only"' in out and "key_ops" in out, out
    assert '"enc-only"' in run_refused(tmp_path, upstream.port, keys, signing_key="hs1")
    # One JWK file: the same.
    jwk = write_json(tmp_path / "one.json", public_jwk(key.public_key(), kid="enc-1", alg="ES256",
                                                         key_ops=["encrypt"]))
    rc, out = check(tmp_path, upstream.port, [keys[0], {"kid": "enc-1", "jwk_file": jwk}], signing_key="hs1")
    assert rc != 0 and '"enc-1"' in out and "key_ops" in out, out
    # key_ops ["verify"] loads.
    ok = write_json(tmp_path / "ok.json", {"keys": [public_jwk(key.public_key(), kid="v", alg="ES256",
                                                               key_ops=["verify"])]})
    rc, out = check(tmp_path, upstream.port, [keys[0], {"jwks_file": ok}], signing_key="hs1")
    assert rc == 0, out


def test_jwks_with_two_keys_under_one_kid_is_refused_naming_it(tmp_path, upstream):
    a = ec.generate_private_key(ec.SECP256R1()).public_key()
    b = ec.generate_private_key(ec.SECP256R1()).public_key()
    jwks = write_json(tmp_path / "jwks.json", {"keys": [public_jwk(a, kid="dup-kid", alg="ES256"),
                                                        public_jwk(b, kid="dup-kid", alg="ES256")]})
    keys = [{"kid": "hs1", "alg": "HS256", "secret_env": "GW_SECRET"}, {"jwks_file": jwks}]
    rc, out = check(tmp_path, upstream.port, keys, signing_key="hs1")
    assert rc != 0, out
    assert '"dup-kid"' in out and "ambiguous" in out, out
    assert '"dup-kid"' in run_refused(tmp_path, upstream.port, keys, signing_key="hs1")


def test_jwks_with_two_kidless_keys_for_one_alg_is_refused(tmp_path, upstream):
    a = ec.generate_private_key(ec.SECP256R1()).public_key()
    b = ec.generate_private_key(ec.SECP256R1()).public_key()
    jwks = write_json(tmp_path / "jwks.json", {"keys": [public_jwk(a, alg="ES256"), public_jwk(b, alg="ES256")]})
    rc, out = check(tmp_path, upstream.port, [{"kid": "hs1", "alg": "HS256", "secret_env": "GW_SECRET"},
                                              {"jwks_file": jwks}], signing_key="hs1")
    assert rc != 0, "two kid-less ES256 keys loaded: " + out
    assert "without kid" in out and "ambiguous" in out, out


# 13. Weak RSA keys.

def test_roca_modulus_is_refused_with_the_reason(tmp_path, upstream):
    seed = random.randrange(1 << 30)
    n, p, q = roca.roca_modulus(seed=seed)      # primes k*M + (65537^a mod M), see roca.py
    assert n == p * q and n.bit_length() == 2048 and roca.has_fingerprint(n), seed
    with open(tmp_path / "roca.pem", "wb") as f:
        f.write(roca.public_pem(n))
    keys = [{"kid": "hs1", "alg": "HS256", "secret_env": "GW_SECRET"},
            {"kid": "roca", "alg": "RS256", "public_key_file": str(tmp_path / "roca.pem")}]
    rc, out = check(tmp_path, upstream.port, keys, signing_key="hs1")
    assert rc != 0, "ROCA key (seed %d) loaded: %s" % (seed, out)
    assert "ROCA" in out and "CVE-2017-15361" in out, out
    assert "ROCA" in run_refused(tmp_path, upstream.port, keys, signing_key="hs1")
    # An ordinary key of the same size loads (no false positive).
    rsa_private_pem(tmp_path / "ok.pem")
    rc, out = check(tmp_path, upstream.port, [keys[0], {"kid": "ok", "alg": "RS256",
                                                        "public_key_file": str(tmp_path / "ok.pem")}],
                    signing_key="hs1")
    assert rc == 0, out


def test_rsa_public_exponents_one_even_or_huge_are_refused(tmp_path, upstream):
    n = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_numbers().n
    cases = {1: "at least 3", 65536: "must be odd", 2: "at least 3", (1 << 40) + 1: "implausibly large"}
    for e, reason in cases.items():
        jwk = write_json(tmp_path / ("e%d.json" % e), {"kty": "RSA", "kid": "weak-e", "alg": "RS256",
                                                       "n": int_b64u(n), "e": int_b64u(e)})
        keys = [{"kid": "hs1", "alg": "HS256", "secret_env": "GW_SECRET"}, {"kid": "weak-e", "jwk_file": jwk}]
        rc, out = check(tmp_path, upstream.port, keys, signing_key="hs1")
        assert rc != 0, "RSA key with e=%d loaded: %s" % (e, out)
        assert "exponent" in out and reason in out, (e, out)
    assert "exponent" in run_refused(tmp_path, upstream.port, keys, signing_key="hs1")
