"""Issue 3, done-means 2: JOSE interop with PyJWT for every algorithm of SPEC §2.

Tokens the gateway signs verify in PyJWT, tokens PyJWT signs verify in the gateway (and a
wrong key is refused), and the gateway's JWKS loads in PyJWT's PyJWKClient."""
import json
import os
import subprocess
import time
import uuid

import jwt
import pytest
import requests
from jwt import PyJWK, PyJWKClient

from authkit import AUDIENCE, ISSUER, PASSWORD, call, login, token_config, upstream_headers
from conftest import BINARY

HMAC = ["HS256", "HS384", "HS512"]
ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
ALL = HMAC + ASYMMETRIC
HMAC_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def keygen(directory, alg, kid):
    """`gateway keygen`: the private key file (PKCS#8 PEM) and the public JWK it printed."""
    out = os.path.join(directory, "%s.pem" % kid)
    r = subprocess.run([BINARY, "keygen", "--alg", alg, "--kid", kid, "--out", out],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    jwk = json.loads(r.stdout.decode().strip().splitlines()[0])
    return out, jwk


def hmac_secret(directory, alg, kid):
    """Random binary secret of the hash length (no trailing CR/LF, which the loader trims)."""
    while True:
        secret = os.urandom(HMAC_BYTES[alg])
        if secret[-1:] not in (b"\n", b"\r"):
            break
    path = os.path.join(directory, "%s.secret" % kid)
    with open(path, "wb") as f:
        f.write(secret)
    return path, secret


class Material:
    """Keys for one algorithm: what the gateway is configured with, and what PyJWT signs with."""

    def __init__(self, directory, alg):
        self.alg = alg
        self.kid = "kid-%s" % alg.lower()
        if alg in HMAC:
            path, secret = hmac_secret(directory, alg, self.kid)
            self.key_entry = {"kid": self.kid, "alg": alg, "secret_file": path}
            self.sign_key = secret
            self.verify_key = secret
            self.jwk = None
            _, self.wrong_key = hmac_secret(directory, alg, self.kid + "-wrong")
        else:
            path, self.jwk = keygen(directory, alg, self.kid)
            self.key_entry = {"kid": self.kid, "alg": alg, "private_key_file": path}
            with open(path, "rb") as f:
                self.sign_key = f.read()
            self.verify_key = PyJWK(self.jwk, algorithm=alg).key
            wrong_path, _ = keygen(directory, alg, self.kid + "-wrong")
            with open(wrong_path, "rb") as f:
                self.wrong_key = f.read()


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("interop-keys"))
    return {alg: Material(d, alg) for alg in ALL}


def gateway_for(gateway_factory, upstream, tmp_path, materials, signing=None):
    cfg = token_config(str(tmp_path), upstream.port, tokens={
        "keys": [m.key_entry for m in materials],
        "algorithms": sorted({m.alg for m in materials}),
        "signing_key": (signing or materials[0]).kid,
    })
    return gateway_factory(cfg)


def pyjwt_token(m, key=None, kid=None, **claims):
    now = int(time.time())
    c = {"iss": ISSUER, "aud": AUDIENCE, "sub": "pyjwt-user-" + m.alg, "iat": now, "nbf": now,
         "exp": now + 300, "jti": str(uuid.uuid4()), "scope": "read"}
    c.update(claims)
    return jwt.encode(c, key if key is not None else m.sign_key, algorithm=m.alg,
                      headers={"kid": kid or m.kid, "typ": "at+jwt"})


@pytest.mark.parametrize("alg", ALL)
def test_interop_per_algorithm(gateway_factory, upstream, tmp_path, keys, alg):
    m = keys[alg]
    gw = gateway_for(gateway_factory, upstream, tmp_path, [m])

    # 1. The gateway signs; PyJWT verifies.
    r = login(gw)
    assert r.status_code == 200, r.text
    body = r.json()
    token = body["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == alg
    assert header["typ"] == "at+jwt"
    assert header["kid"] == m.kid
    claims = jwt.decode(token, m.verify_key, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER,
                        options={"require": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]})
    assert claims["sub"] == "alice"
    assert claims["scope"] == body["scope"] == "read write"
    assert claims["roles"] == ["admin"]
    assert claims["sid"] and claims["jti"]
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    # ... and the gateway accepts its own token.
    assert call(gw, "/api/echo", token).status_code == 200
    # A token of this algorithm does not verify with another key of the same family.
    with pytest.raises(jwt.InvalidSignatureError):
        wrong = m.wrong_key if alg in HMAC else jwt.algorithms.get_default_algorithms()[alg].prepare_key(m.wrong_key)
        if alg not in HMAC:
            wrong = wrong.public_key()
        jwt.decode(token, wrong, algorithms=[alg], audience=AUDIENCE)

    # 2. PyJWT signs; the gateway verifies and forwards identity headers.
    t = pyjwt_token(m, roles=["r1", "r2"])
    r = call(gw, "/api/echo", t)
    assert r.status_code == 200, (alg, r.status_code, r.text)
    h = upstream_headers(r)
    assert h["x-auth-subject"] == ["pyjwt-user-" + alg]
    assert h["x-auth-scopes"] == ["read"]
    assert h["x-auth-roles"] == ["r1,r2"]

    # 3. PyJWT signs with a wrong key (same alg, same kid): refused.
    r = call(gw, "/api/echo", pyjwt_token(m, key=m.wrong_key))
    assert r.status_code == 401, (alg, r.status_code, r.text)
    assert 'error="invalid_token"' in r.headers.get("WWW-Authenticate", "")
    # ... and a PyJWT token without typ at+jwt is refused too (RFC 9068).
    now = int(time.time())
    plain = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 300, "jti": "j", "scope": "read"},
                       m.sign_key, algorithm=alg, headers={"kid": m.kid, "typ": "JWT"})
    assert call(gw, "/api/echo", plain).status_code == 401

    # 4. JWKS: asymmetric key published (public members only), HMAC keys never.
    r = requests.get(gw.url + "/.well-known/jwks.json", timeout=10)
    assert r.status_code == 200
    published = r.json()["keys"]
    if alg in HMAC:
        assert published == []
    else:
        assert len(published) == 1
        jwk = published[0]
        assert jwk["kid"] == m.kid and jwk["alg"] == alg
        assert not PRIVATE_JWK_MEMBERS & set(jwk), jwk
        client = PyJWKClient(gw.url + "/.well-known/jwks.json", cache_keys=False, timeout=10)
        signing_key = client.get_signing_key_from_jwt(token)
        assert signing_key.key_id == m.kid
        assert jwt.decode(token, signing_key.key, algorithms=[alg], audience=AUDIENCE)["sub"] == "alice"


def test_jwks_with_every_asymmetric_key_loads_in_pyjwkclient(gateway_factory, upstream, tmp_path, keys):
    """One gateway holding all keys (one signs, the others verify, as during rotation)."""
    materials = [keys[a] for a in ALL]
    gw = gateway_for(gateway_factory, upstream, tmp_path, materials, signing=keys["ES256"])

    r = requests.get(gw.url + "/.well-known/jwks.json", timeout=10)
    assert r.status_code == 200
    assert "application/json" in r.headers.get("Content-Type", "") or "jwk-set+json" in r.headers.get("Content-Type", "")
    published = r.json()["keys"]
    assert sorted(k["kid"] for k in published) == sorted(keys[a].kid for a in ASYMMETRIC)
    for jwk in published:
        assert not PRIVATE_JWK_MEMBERS & set(jwk), jwk
        assert jwk["use"] == "sig"

    client = PyJWKClient(gw.url + "/.well-known/jwks.json", timeout=10)
    assert sorted(k.key_id for k in client.get_signing_keys()) == sorted(keys[a].kid for a in ASYMMETRIC)
    for alg in ASYMMETRIC:
        m = keys[alg]
        k = client.get_signing_key(m.kid)
        assert k.key_id == m.kid
        # The published key verifies what PyJWT signed with the private key file.
        t = pyjwt_token(m)
        assert jwt.decode(t, k.key, algorithms=[alg], audience=AUDIENCE)["sub"] == "pyjwt-user-" + alg
        # Same public key as keygen printed.
        for member in ("n", "e", "x", "y", "crv"):
            if member in m.jwk:
                assert k._jwk_data[member] == m.jwk[member], (alg, member)

    # Tokens the gateway signs (ES256 here) verify through PyJWKClient.
    token = login(gw).json()["access_token"]
    sk = client.get_signing_key_from_jwt(token)
    assert jwt.decode(token, sk.key, algorithms=["ES256"], audience=AUDIENCE, issuer=ISSUER)["sub"] == "alice"

    # Every verification key accepts PyJWT tokens; a kid/key mismatch is refused.
    for alg in ALL:
        m = keys[alg]
        r = call(gw, "/api/echo", pyjwt_token(m))
        assert r.status_code == 200, (alg, r.text)
        assert upstream_headers(r)["x-auth-subject"] == ["pyjwt-user-" + alg]
        assert call(gw, "/api/echo", pyjwt_token(m, key=m.wrong_key)).status_code == 401, alg


def test_algorithm_outside_allow_list_refused(gateway_factory, upstream, tmp_path, keys):
    """A configured key whose algorithm is not in the allow-list never verifies."""
    es, ed = keys["ES256"], keys["EdDSA"]
    cfg = token_config(str(tmp_path), upstream.port, tokens={
        "keys": [es.key_entry, ed.key_entry], "algorithms": ["ES256"], "signing_key": es.kid})
    gw = gateway_factory(cfg)
    assert call(gw, "/api/echo", pyjwt_token(es)).status_code == 200
    assert call(gw, "/api/echo", pyjwt_token(ed)).status_code == 401
