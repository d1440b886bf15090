"""SPEC §2 and §3: bearer enforcement, identity headers, login, refresh rotation, reuse
detection, binding, logout, the OAuth token endpoint, CORS. Real binary, real upstream."""
import base64
import json
import time

import jwt
import pytest
import requests

from authkit import (AUDIENCE, ENV, ISSUER, PASSWORD, SECRET, call, login, refresh, token_config,
                     tokens_for, upstream_headers)
from conftest import raw_exchange, status_of


@pytest.fixture
def gw(gateway_factory, upstream, tmp_path):
    return gateway_factory(token_config(str(tmp_path), upstream.port), env=ENV)


def make_gw(gateway_factory, upstream, tmp_path, **kw):
    return gateway_factory(token_config(str(tmp_path), upstream.port, **kw), env=ENV)


def forge(claims=None, headers=None, key=SECRET, alg="HS256", drop=()):
    now = int(time.time())
    c = {"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "iat": now, "nbf": now, "exp": now + 300,
         "jti": "j-%d" % now, "scope": "read write"}
    c.update(claims or {})
    for k in drop:
        c.pop(k, None)
    h = {"typ": "at+jwt", "kid": "hs1"}
    h.update(headers or {})
    return jwt.encode(c, key, algorithm=alg, headers=h)


def challenge(r):
    return r.headers.get("WWW-Authenticate", "")


# ---------------------------------------------------------------- protected routes (§3)

def test_no_credentials_gets_challenge_without_error(gw):
    r = call(gw, "/api/echo")
    assert r.status_code == 401
    assert challenge(r) == 'Bearer realm="test"'
    assert r.json()["error"] == "unauthorized" and r.json()["error_description"]


@pytest.mark.parametrize("value", ["Basic YWxpY2U6cHc=", "Digest username=x", "BearerX abc"])
def test_other_scheme_counts_as_no_credentials(gw, value):
    r = call(gw, "/api/echo", headers={"Authorization": value})
    assert r.status_code == 401 and challenge(r) == 'Bearer realm="test"'


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer a b", "Bearer a\tb", "Bearer ab==c", "bearer <tok>"])
def test_malformed_authorization_is_400_invalid_request(gw, value):
    r = call(gw, "/api/echo", headers={"Authorization": value})
    assert r.status_code == 400, value
    assert 'error="invalid_request"' in challenge(r)
    assert r.json()["error"] == "invalid_request"


def test_two_authorization_fields_are_400(gw):
    t = tokens_for(gw)["access_token"]
    req = ("GET /api/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nAuthorization: Bearer %s\r\n"
           "Connection: close\r\n\r\n" % (t, t)).encode()
    assert status_of(raw_exchange(gw.port, req)) == 400


def test_valid_token_forwards_with_identity_headers(gw):
    t = tokens_for(gw)
    r = call(gw, "/api/echo", t["access_token"])
    assert r.status_code == 200
    h = upstream_headers(r)
    claims = jwt.decode(t["access_token"], SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert h["x-auth-subject"] == ["alice"]
    assert h["x-auth-scopes"] == ["read write"]
    assert h["x-auth-roles"] == ["admin"]
    assert h["x-auth-session"] == [claims["sid"]]
    assert h["x-auth-email"] == ["alice@example.com"]
    # The route does not forward Authorization unless configured.
    assert "authorization" not in h


def test_access_token_shape_rfc9068(gw):
    t = tokens_for(gw)
    header = jwt.get_unverified_header(t["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "HS256" and header["kid"] == "hs1"
    c = jwt.decode(t["access_token"], SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
    for k in ("iss", "sub", "aud", "exp", "iat", "nbf", "jti", "sid", "scope", "roles"):
        assert k in c
    assert c["exp"] - c["iat"] == 900 and t["expires_in"] == 900
    assert t["token_type"] == "Bearer" and t["refresh_expires_in"] == 14 * 86400
    # Refresh token: opaque, >= 256 bits of randomness.
    assert len(base64.urlsafe_b64decode(t["refresh_token"] + "==")) >= 32
    assert t["refresh_token"].count(".") == 0


def test_expired_token(gw):
    now = int(time.time())
    r = call(gw, "/api/echo", forge({"iat": now - 600, "nbf": now - 600, "exp": now - 120}))
    assert r.status_code == 401
    assert 'error="invalid_token"' in challenge(r)
    assert 'error_description="The access token expired"' in challenge(r)
    assert r.json() == {"error": "invalid_token", "error_description": "The access token expired"}


def test_leeway_accepts_just_expired(gw):
    now = int(time.time())
    assert call(gw, "/api/echo", forge({"exp": now - 5})).status_code == 200


@pytest.mark.parametrize("case", ["signature", "issuer", "audience", "typ", "none", "nbf", "alg_not_allowed",
                                  "unknown_kid", "no_exp", "garbage", "iat_future"])
def test_bad_tokens_are_invalid_token(gw, case):
    now = int(time.time())
    if case == "signature":
        t = forge(key=SECRET + "x")
    elif case == "issuer":
        t = forge({"iss": "https://evil"})
    elif case == "audience":
        t = forge({"aud": "other"})
    elif case == "typ":
        t = forge(headers={"typ": "JWT"})
    elif case == "none":
        head = base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').rstrip(b"=").decode()
        body = base64.urlsafe_b64encode(json.dumps({"iss": ISSUER, "aud": AUDIENCE, "sub": "x",
                                                    "exp": now + 60}).encode()).rstrip(b"=").decode()
        t = head + "." + body + "."
    elif case == "nbf":
        t = forge({"nbf": now + 600})
    elif case == "alg_not_allowed":
        t = forge(alg="HS512", key=SECRET * 2)
    elif case == "unknown_kid":
        t = forge(headers={"kid": "nope"})
    elif case == "no_exp":
        t = forge(drop=("exp",))
    elif case == "garbage":
        t = "abc.def.ghi"
    else:
        t = forge({"iat": now + 600})
    r = call(gw, "/api/echo", t)
    assert r.status_code == 401, (case, r.text)
    assert 'error="invalid_token"' in challenge(r)
    assert r.json()["error"] == "invalid_token"


def test_oversized_token_refused(gw):
    t = forge({"pad": "x" * 20000})
    r = call(gw, "/api/echo", t)
    assert r.status_code in (401, 431)


def test_refresh_token_as_bearer_is_refused(gw):
    t = tokens_for(gw)
    r = call(gw, "/api/echo", t["refresh_token"])
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


def test_insufficient_scope_and_role(gw):
    bob = tokens_for(gw, "bob")["access_token"]
    r = call(gw, "/write/echo", bob)
    assert r.status_code == 403
    assert 'error="insufficient_scope"' in challenge(r) and 'scope="write"' in challenge(r)
    assert r.json()["error"] == "insufficient_scope"
    r = call(gw, "/admin/echo", bob)
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
    alice = tokens_for(gw)["access_token"]
    assert call(gw, "/write/echo", alice).status_code == 200
    assert call(gw, "/admin/echo", alice).status_code == 200


def test_optional_route(gw):
    r = call(gw, "/opt/echo", headers={"X-Auth-Subject": "forged"})
    assert r.status_code == 200
    assert not any(k.startswith("x-auth-") for k in upstream_headers(r))
    t = tokens_for(gw)["access_token"]
    r = call(gw, "/opt/echo", t)
    assert r.status_code == 200 and upstream_headers(r)["x-auth-subject"] == ["alice"]
    # An invalid token is never downgraded to anonymous.
    r = call(gw, "/opt/echo", forge(key="wrong" * 10))
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


@pytest.mark.parametrize("path", ["/api/echo", "/opt/echo", "/pub/echo"])
def test_forged_identity_headers_removed(gw, path):
    t = tokens_for(gw, "bob")["access_token"]
    forged = ("X-Auth-Subject: admin\r\nx-auth-subject: root\r\nX-AUTH-ROLES: admin\r\nX-Auth-Scopes: write\r\n"
              "X-Auth-Session: s\r\nX-Auth-Email: ceo@example.com\r\n")
    req = ("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%sConnection: close\r\n\r\n"
           % (path, t, forged)).encode()
    resp = raw_exchange(gw.port, req)
    assert status_of(resp) == 200
    body = json.loads(resp.split(b"\r\n\r\n", 1)[1].split(b"\r\n", 1)[-1] if b"chunked" in resp.split(b"\r\n\r\n")[0].lower() else resp.split(b"\r\n\r\n", 1)[1])
    seen = {}
    for name, value in body["headers"]:
        seen.setdefault(name.lower(), []).append(value)
    if path == "/pub/echo":
        assert not any(k.startswith("x-auth-") for k in seen)
    else:
        assert seen["x-auth-subject"] == ["bob"]
        assert seen["x-auth-roles"] == ["viewer"]
        assert seen["x-auth-scopes"] == ["read"]
        assert "x-auth-email" not in seen
        assert len(seen["x-auth-session"]) == 1 and seen["x-auth-session"] != ["s"]


def test_claim_with_crlf_is_refused(gw):
    eve = tokens_for(gw, "eve")["access_token"]
    r = call(gw, "/api/echo", eve)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    # A forged token carrying a control character in sub is refused the same way.
    r = call(gw, "/api/echo", forge({"sub": "a\nb"}))
    assert r.status_code == 401


# ---------------------------------------------------------------- login (§3)

def test_login_form_and_json(gw):
    r = requests.post(gw.url + "/auth/login", data={"username": "alice", "password": PASSWORD}, timeout=10)
    assert r.status_code == 200 and r.json()["scope"] == "read write"
    assert r.headers["Cache-Control"] == "no-store"
    r = login(gw)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"


def test_login_bad_credentials(gw):
    r = login(gw, password="wrong")
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"
    r = login(gw, username="nobody")
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"


def test_unknown_user_costs_like_a_known_one(gw):
    def timed(user):
        t0 = time.monotonic()
        assert login(gw, username=user, password="wrong").status_code == 401
        return time.monotonic() - t0
    known = sorted(timed("alice") for _ in range(3))[1]
    unknown = sorted(timed("nobody%d" % i) for i in range(3))[1]
    # Both pay one scrypt (~100 ms+); an unknown user must not answer in a fraction of it.
    assert unknown > known * 0.5, (known, unknown)


@pytest.mark.parametrize("body,ctype,status", [
    (b'{"username":"alice"}', "application/json", 400),
    (b'{"username":', "application/json", 400),
    (b'username=alice&password=a&password=b', "application/x-www-form-urlencoded", 400),
    (b'<xml/>', "text/xml", 415),
])
def test_login_bad_input(gw, body, ctype, status):
    r = requests.post(gw.url + "/auth/login", data=body, headers={"Content-Type": ctype}, timeout=10)
    assert r.status_code == status and r.json()["error"] == "invalid_request"


def test_login_method(gw):
    r = requests.get(gw.url + "/auth/login", timeout=10)
    assert r.status_code == 405 and "POST" in r.headers["Allow"]


def test_login_throttled(gateway_factory, upstream, tmp_path):
    g = make_gw(gateway_factory, upstream, tmp_path, auth={"throttle": {"max_failures_per_user": 3}})
    codes = [login(g, password="wrong").status_code for _ in range(3)]
    assert codes[:2] == [401, 401] and codes[2] in (401, 429)
    r = login(g)  # even the right password waits out the window
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # Other users are not affected.
    assert login(g, "bob").status_code == 200


def test_login_throttled_per_address(gateway_factory, upstream, tmp_path):
    g = make_gw(gateway_factory, upstream, tmp_path, auth={"throttle": {"max_failures_per_address": 2}})
    assert login(g, "u1", "x").status_code == 401
    assert login(g, "u2", "x").status_code in (401, 429)
    r = login(g, "bob")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


# ---------------------------------------------------------------- refresh and reuse (§2)

def test_rotation_old_token_refused(gateway_factory, upstream, tmp_path):
    g = make_gw(gateway_factory, upstream, tmp_path, tokens={"refresh_reuse_grace": "0s"})
    t = tokens_for(g)
    r = refresh(g, t["refresh_token"])
    assert r.status_code == 200
    n = r.json()
    assert n["refresh_token"] != t["refresh_token"] and n["access_token"] != t["access_token"]
    assert r.headers["X-Access-Token"] == n["access_token"]
    assert r.headers["Cache-Control"] == "no-store"
    assert call(g, "/api/echo", n["access_token"]).status_code == 200
    # Reuse of the rotated token: refused, the whole family revoked.
    r = refresh(g, t["refresh_token"])
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"
    r = call(g, "/api/echo", n["access_token"])
    assert r.status_code == 401 and 'error="invalid_token"' in challenge(r)
    assert refresh(g, n["refresh_token"]).status_code == 401
    # Another session of the same user is untouched.
    other = tokens_for(g)
    assert call(g, "/api/echo", other["access_token"]).status_code == 200


def test_reuse_inside_grace_gets_the_same_pair_family(gw):
    t = tokens_for(gw)
    a = refresh(gw, t["refresh_token"])
    b = refresh(gw, t["refresh_token"])
    assert a.status_code == 200 and b.status_code == 200
    assert a.json()["refresh_token"] == b.json()["refresh_token"]
    ca = jwt.decode(a.json()["access_token"], SECRET, algorithms=["HS256"], audience=AUDIENCE)
    cb = jwt.decode(b.json()["access_token"], SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert ca["sid"] == cb["sid"] and ca["jti"] == cb["jti"]
    # No revocation: both access tokens and the newest refresh token work.
    assert call(gw, "/api/echo", a.json()["access_token"]).status_code == 200
    assert call(gw, "/api/echo", t["access_token"]).status_code == 200
    assert refresh(gw, a.json()["refresh_token"]).status_code == 200


def test_reuse_after_grace_revokes(gateway_factory, upstream, tmp_path):
    g = make_gw(gateway_factory, upstream, tmp_path, tokens={"refresh_reuse_grace": "1s"})
    t = tokens_for(g)
    n = refresh(g, t["refresh_token"]).json()
    time.sleep(1.3)
    assert refresh(g, t["refresh_token"]).status_code == 401
    assert call(g, "/api/echo", n["access_token"]).status_code == 401


def test_unknown_and_malformed_refresh_tokens(gw):
    r = refresh(gw, "A" * 64)
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"
    r = refresh(gw, "not-a-token")
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"
    r = requests.post(gw.url + "/auth/refresh", json={}, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_refresh_with_form_body(gw):
    t = tokens_for(gw)
    r = requests.post(gw.url + "/auth/refresh", data={"refresh_token": t["refresh_token"]}, timeout=10)
    assert r.status_code == 200


def test_expired_refresh_token(gateway_factory, upstream, tmp_path):
    g = make_gw(gateway_factory, upstream, tmp_path, tokens={"access_ttl": "1s", "refresh_ttl": "2s"})
    t = tokens_for(g)
    time.sleep(2.3)
    r = refresh(g, t["refresh_token"])
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"


def test_binding_same_subject_other_token_revokes(gw):
    a = tokens_for(gw)
    b = tokens_for(gw)
    r = refresh(gw, a["refresh_token"], access_token=b["access_token"])
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"
    assert call(gw, "/api/echo", a["access_token"]).status_code == 401
    assert refresh(gw, a["refresh_token"], access_token=a["access_token"]).status_code == 401
    # The other family is not affected.
    assert call(gw, "/api/echo", b["access_token"]).status_code == 200


def test_binding_other_subject_refused_without_revoking(gw):
    a = tokens_for(gw)
    bob = tokens_for(gw, "bob")
    r = refresh(gw, a["refresh_token"], access_token=bob["access_token"])
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"
    assert call(gw, "/api/echo", a["access_token"]).status_code == 200
    assert refresh(gw, a["refresh_token"], access_token=a["access_token"]).status_code == 200


def test_binding_with_matching_expired_token(gateway_factory, upstream, tmp_path):
    g = make_gw(gateway_factory, upstream, tmp_path, tokens={"access_ttl": "1s", "leeway": "0s"})
    t = tokens_for(g)
    time.sleep(1.2)
    assert call(g, "/api/echo", t["access_token"]).status_code == 401
    r = refresh(g, t["refresh_token"], access_token=t["access_token"])
    assert r.status_code == 200


def test_binding_forged_access_token_refused(gw):
    a = tokens_for(gw)
    r = refresh(gw, a["refresh_token"], access_token=forge({"sub": "alice"}, key="k" * 40))
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"
    assert call(gw, "/api/echo", a["access_token"]).status_code == 200


def test_binding_mandatory(gateway_factory, upstream, tmp_path):
    g = make_gw(gateway_factory, upstream, tmp_path, tokens={"require_bound_access_token": True})
    t = tokens_for(g)
    r = refresh(g, t["refresh_token"])
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"
    assert refresh(g, t["refresh_token"], access_token=t["access_token"]).status_code == 200


# ---------------------------------------------------------------- logout (§8)

def test_logout_with_access_token(gw):
    t = tokens_for(gw)
    other = tokens_for(gw)
    r = requests.post(gw.url + "/auth/logout", headers={"Authorization": "Bearer " + t["access_token"]}, timeout=10)
    assert r.status_code == 204
    assert call(gw, "/api/echo", t["access_token"]).status_code == 401
    assert refresh(gw, t["refresh_token"]).status_code == 401
    assert call(gw, "/api/echo", other["access_token"]).status_code == 200


def test_logout_with_refresh_token(gw):
    t = tokens_for(gw)
    r = requests.post(gw.url + "/auth/logout", json={"refresh_token": t["refresh_token"]}, timeout=10)
    assert r.status_code == 204
    assert call(gw, "/api/echo", t["access_token"]).status_code == 401
    assert refresh(gw, t["refresh_token"]).status_code == 401


@pytest.mark.parametrize("style", ["query", "body"])
def test_logout_everywhere(gw, style):
    a, b = tokens_for(gw), tokens_for(gw)
    bob = tokens_for(gw, "bob")
    h = {"Authorization": "Bearer " + a["access_token"]}
    if style == "query":
        r = requests.post(gw.url + "/auth/logout?all=true", headers=h, timeout=10)
    else:
        r = requests.post(gw.url + "/auth/logout", json={"all": True}, headers=h, timeout=10)
    assert r.status_code == 204
    for t in (a, b):
        assert call(gw, "/api/echo", t["access_token"]).status_code == 401
        assert refresh(gw, t["refresh_token"]).status_code == 401
    assert call(gw, "/api/echo", bob["access_token"]).status_code == 200


def test_revocation_reaches_every_worker(gateway_factory, upstream, tmp_path):
    g = make_gw(gateway_factory, upstream, tmp_path, workers=2)
    t = tokens_for(g)
    assert requests.post(g.url + "/auth/logout", headers={"Authorization": "Bearer " + t["access_token"]},
                         timeout=10).status_code == 204
    # New connections spread over both workers (SO_REUSEPORT): all must refuse at once.
    for _ in range(40):
        with requests.Session() as s:
            assert s.get(g.url + "/api/echo", headers={"Authorization": "Bearer " + t["access_token"]},
                         timeout=10).status_code == 401


# ---------------------------------------------------------------- cookie mode (§8)

def test_cookie_mode(gateway_factory, upstream, tmp_path):
    g = make_gw(gateway_factory, upstream, tmp_path, auth={"refresh_cookie": {"name": "rt"}})
    r = login(g)
    assert r.status_code == 200
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("rt=")
    for attr in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/auth/refresh"):
        assert attr in cookie
    assert "refresh_token" not in r.json()
    value = cookie.split(";")[0].split("=", 1)[1]
    r2 = requests.post(g.url + "/auth/refresh", headers={"Cookie": "other=1; rt=" + value}, timeout=10)
    assert r2.status_code == 200 and "rt=" in r2.headers["Set-Cookie"]
    new_value = r2.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert new_value != value
    r3 = requests.post(g.url + "/auth/logout", headers={"Authorization": "Bearer " + r2.json()["access_token"]},
                       timeout=10)
    assert r3.status_code == 204 and "Max-Age=0" in r3.headers["Set-Cookie"]


# ---------------------------------------------------------------- OAuth token endpoint (§8)

def test_token_endpoint_password_and_refresh(gw):
    r = requests.post(gw.url + "/oauth/token", data={"grant_type": "password", "username": "alice",
                                                      "password": PASSWORD, "client_id": "cli"}, timeout=10)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    t = r.json()
    r = requests.post(gw.url + "/oauth/token", data={"grant_type": "refresh_token",
                                                      "refresh_token": t["refresh_token"]}, timeout=10)
    assert r.status_code == 200 and r.json()["refresh_token"] != t["refresh_token"]


@pytest.mark.parametrize("data,status,error", [
    ({"grant_type": "password", "username": "alice", "password": "bad"}, 400, "invalid_grant"),
    ({"grant_type": "refresh_token", "refresh_token": "B" * 64}, 400, "invalid_grant"),
    ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
    ({"username": "alice"}, 400, "invalid_request"),
    ({"grant_type": "password", "username": "alice", "password": PASSWORD, "client_id": "c",
      "client_secret": "s"}, 401, "invalid_client"),
])
def test_token_endpoint_errors(gw, data, status, error):
    r = requests.post(gw.url + "/oauth/token", data=data, timeout=10)
    assert r.status_code == status and r.json()["error"] == error


def test_token_endpoint_wants_a_form(gw):
    r = requests.post(gw.url + "/oauth/token", json={"grant_type": "password"}, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


# ---------------------------------------------------------------- JWKS, CORS

def test_jwks_lists_no_secret(gw):
    r = requests.get(gw.url + "/.well-known/jwks.json", timeout=10)
    assert r.status_code == 200 and r.json() == {"keys": []}


def test_cors(gateway_factory, upstream, tmp_path):
    g = make_gw(gateway_factory, upstream, tmp_path,
                cors={"origins": ["https://app.example"], "allow_credentials": True})
    pre = requests.options(g.url + "/api/echo", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"}, timeout=10)
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert pre.headers["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "Origin" in pre.headers["Vary"]
    bad = requests.options(g.url + "/api/echo", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}, timeout=10)
    assert bad.status_code == 403 and "Access-Control-Allow-Origin" not in bad.headers
    t = tokens_for(g)["access_token"]
    r = call(g, "/api/echo", t, headers={"Origin": "https://app.example"})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Origin" in r.headers["Vary"]
    # Auth errors carry CORS headers too, so the browser app can read the 401.
    r = call(g, "/api/echo", headers={"Origin": "https://app.example"})
    assert r.status_code == 401 and r.headers["Access-Control-Allow-Origin"] == "https://app.example"
    r = call(g, "/api/echo", t, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers
    # The upstream's own CORS fields never reach the browser next to (or instead of) the gateway's.
    r = requests.get(g.url + "/pub/cors", headers={"Origin": "https://evil.example"}, timeout=10)
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    assert "Access-Control-Allow-Credentials" not in r.headers
    r = requests.get(g.url + "/pub/cors", headers={"Origin": "https://app.example"}, timeout=10)
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example"


def test_logout_everywhere_with_the_refresh_token_only(gw):
    a, b = tokens_for(gw), tokens_for(gw)
    bob = tokens_for(gw, "bob")
    r = requests.post(gw.url + "/auth/logout", json={"refresh_token": a["refresh_token"], "all": True}, timeout=10)
    assert r.status_code == 204
    for t in (a, b):
        assert call(gw, "/api/echo", t["access_token"]).status_code == 401
        assert refresh(gw, t["refresh_token"]).status_code == 401
    assert call(gw, "/api/echo", bob["access_token"]).status_code == 200
