"""Issue 10, found by the review after the hardening pass: a lower-case method skipping a
method-specific route's auth, and validly signed tokens with absurd NumericDates crashing
the process (on the request path and at logout)."""
import time

import jwt
import requests

from authkit import AUDIENCE, ENV, ISSUER, SECRET, token_config
from conftest import raw_exchange, status_of


def token(**claims):
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "iat": now, "exp": now + 600, "sid": "s-1",
            "jti": "j-1"}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, SECRET, algorithm="HS256", headers={"typ": "at+jwt", "kid": "hs1"})


def test_lower_case_methods_are_refused_not_routed_past_a_method_route(gateway_factory, upstream, tmp_path):
    up = "http://127.0.0.1:%d" % upstream.port
    routes = [{"path": "/api", "methods": ["DELETE", "PUT", "POST", "PATCH"], "upstream": up, "roles": ["admin"]},
              {"path": "/api", "upstream": up, "auth": "none"}]
    gw = gateway_factory(token_config(str(tmp_path), upstream.port, routes=routes), env=ENV)
    req = b" /api/item/1 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    assert status_of(raw_exchange(gw.port, b"DELETE" + req)) == 401
    for method in (b"delete", b"Delete", b"dELETE", b"patch", b"post", b"propfind"):
        out = raw_exchange(gw.port, method + req)
        assert status_of(out) == 400, (method, out[:200])
    assert status_of(raw_exchange(gw.port, b"GET" + req)) == 200  # the open route still works


def test_absurd_numeric_dates_are_invalid_claims_not_a_crash(gateway_factory, upstream, tmp_path):
    gw = gateway_factory(token_config(str(tmp_path), upstream.port), env=ENV)
    for claims in ({"exp": 9.3e15}, {"exp": 10 ** 20}, {"exp": 99999999999999999999999999999}, {"nbf": -1e20},
                   {"iat": 1e300}):
        r = requests.get(gw.url + "/api/x", headers={"Authorization": "Bearer " + token(**claims)}, timeout=5)
        assert r.status_code == 401, (claims, r.status_code)
        assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    assert gw.proc.poll() is None, "the gateway died"
    assert requests.get(gw.url + "/pub/x", timeout=5).status_code == 200


def test_logout_with_an_absurd_exp_is_refused_not_a_crash(gateway_factory, upstream, tmp_path):
    gw = gateway_factory(token_config(str(tmp_path), upstream.port), env=ENV)
    for exp in (-1e20, 1e20):
        r = requests.post(gw.url + "/auth/logout", headers={"Authorization": "Bearer " + token(exp=exp, sid=None)},
                          timeout=5)
        assert r.status_code == 401, (exp, r.status_code, r.text)
    assert gw.proc.poll() is None, "the gateway died"
    assert requests.get(gw.url + "/pub/x", timeout=5).status_code == 200
