"""Forward-auth mode (issue 13): nginx `auth_request` and Caddy `forward_auth` in front of
an upstream ask the gateway's `auth.verify_path` about each request. The proxies are
trusted (they reach the gateway from 127.0.0.1); an untrusted peer comes from 127.0.0.3."""
import os
import time

import jwt
import pytest
import requests

from authkit import AUDIENCE, ENV, ISSUER, SECRET, token_config, tokens_for
from conftest import TLS_MODE
from edgekit import CADDY, NGINX, caddy_forward_auth, nginx_auth_request, request

pytestmark = pytest.mark.skipif(TLS_MODE, reason="plaintext listener: the proxies speak http to it")

UNTRUSTED = "127.0.0.3"


def forge(claims=None):
    now = int(time.time())
    c = {"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "iat": now, "nbf": now, "exp": now + 300,
         "jti": "j-%d" % now, "scope": "read write"}
    c.update(claims or {})
    return jwt.encode(c, SECRET, algorithm="HS256", headers={"typ": "at+jwt", "kid": "hs1"})


@pytest.fixture
def gw(gateway_factory, upstream, tmp_path):
    cfg = token_config(str(tmp_path), upstream.port, auth={"verify_path": "/_verify"},
                       trusted_proxies=["127.0.0.1"])
    return gateway_factory(cfg, env=ENV)


@pytest.fixture(params=["nginx", "caddy"])
def front(request, gw, upstream, tmp_path):
    kind = request.param
    if kind == "nginx":
        if not os.path.exists(NGINX):
            pytest.skip("nginx is installed by .ci/run")
        p = nginx_auth_request(str(tmp_path / "nginx"), gw.port, upstream.port)
    else:
        if not os.path.exists(CADDY):
            pytest.skip("caddy is installed by .ci/run")
        p = caddy_forward_auth(str(tmp_path / "caddy"), gw.port, upstream.port)
    p.kind = kind
    yield p
    p.stop()


def bearer(token):
    return {"Authorization": "Bearer " + token}


def upstream_saw(r):
    out = {}
    for k, v in r.json()["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def test_valid_token_passes_with_identity_headers(front, gw, upstream):
    t = tokens_for(gw)
    r = request(front.port, "GET", "/api/items?x=1", headers=bearer(t["access_token"]))
    assert r.status == 200, r.body
    h = upstream_saw(r)
    assert h["x-auth-subject"] == ["alice"]
    assert h["x-auth-scopes"] == ["read write"]
    assert h["x-auth-email"] == ["alice@example.com"]
    assert r.json()["target"] == "/api/items?x=1"


def test_forged_identity_headers_do_not_pass(front, gw, upstream):
    t = tokens_for(gw, "bob")
    r = request(front.port, "GET", "/api/items",
                headers=dict(bearer(t["access_token"]), **{"X-Auth-Subject": "admin", "X-Auth-Email": "x@evil"}))
    assert r.status == 200
    h = upstream_saw(r)
    assert h["x-auth-subject"] == ["bob"]
    # bob has no email claim: nginx sends an empty value, Caddy 2.6 its unfilled placeholder; never the forged one.
    assert "x@evil" not in h.get("x-auth-email", [])


def test_missing_and_expired_tokens_get_the_gateways_401_and_challenge(front, gw, upstream):
    before = len(upstream.hits())
    r = request(front.port, "GET", "/api/items")
    assert r.status == 401
    assert r.header("WWW-Authenticate") == 'Bearer realm="test"'
    now = int(time.time())
    r = request(front.port, "GET", "/api/items", headers=bearer(forge({"iat": now - 600, "nbf": now - 600,
                                                                       "exp": now - 120})))
    assert r.status == 401
    challenge = r.header("WWW-Authenticate")
    assert 'error="invalid_token"' in challenge and 'error_description="The access token expired"' in challenge
    if front.kind == "caddy":
        # Caddy passes the gateway's whole answer on, body included.
        assert r.json() == {"error": "invalid_token", "error_description": "The access token expired"}
    assert len(upstream.hits()) == before


def test_missing_scope_and_role_get_403(front, gw, upstream):
    bob = tokens_for(gw, "bob")
    r = request(front.port, "GET", "/write/x", headers=bearer(bob["access_token"]))
    assert r.status == 403
    r = request(front.port, "POST", "/admin/x", headers=bearer(bob["access_token"]))
    assert r.status == 403
    if front.kind == "caddy":
        assert 'error="insufficient_scope"' in r.header("WWW-Authenticate")
    # Public routes pass without a token; what no route serves is refused (fail closed).
    assert request(front.port, "GET", "/pub/x").status == 200
    assert request(front.port, "GET", "/nowhere", headers=bearer(bob["access_token"])).status == 403


def test_revoked_session_is_refused_at_once(front, gw, upstream):
    t = tokens_for(gw)
    assert request(front.port, "GET", "/api/x", headers=bearer(t["access_token"])).status == 200
    r = requests.post(gw.url + "/auth/logout", headers=bearer(t["access_token"]), timeout=10)
    assert r.status_code == 204
    r = request(front.port, "GET", "/api/x", headers=bearer(t["access_token"]))
    assert r.status == 401


def test_path_normalisation_is_the_proxys(front, gw, upstream):
    bob = tokens_for(gw, "bob")
    # /pub/../admin is /admin to the route table: bob lacks the role.
    r = request(front.port, "GET", "/pub/%2e%2e/admin/x", headers=bearer(bob["access_token"]))
    assert r.status in (400, 403)


def test_spoofed_forwarded_uri_from_the_client_does_not_open_a_route(front, gw, upstream):
    # The client asks for /api but claims /pub. A proxy overwrites the spelling it sets (401:
    # no token for /api) and passes the client's other spellings on, so the gateway sees two
    # URIs that disagree and refuses (400, which nginx turns into 500): never a 200.
    before = len(upstream.hits())
    for hdrs in ({"X-Forwarded-Uri": "/pub/x", "X-Forwarded-Method": "GET"}, {"X-Original-URI": "/pub/x"},
                 {"X-Original-URL": "http://127.0.0.1/pub/x"}):
        r = request(front.port, "GET", "/api/x", headers=hdrs)
        assert r.status in (400, 401, 500), (hdrs, r.status)
    assert len(upstream.hits()) == before


def test_untrusted_peer_is_refused_and_its_forwarded_uri_ignored(gw):
    # Straight to the gateway from an untrusted address: no verdict, whatever it claims.
    r = request(gw.port, "GET", "/_verify", source=UNTRUSTED,
                headers={"X-Forwarded-Uri": "/pub/x", "X-Forwarded-Method": "GET"})
    assert r.status == 403
    assert r.json()["error"] == "forbidden"
    t = tokens_for(gw, "bob")
    r = request(gw.port, "GET", "/_verify", source=UNTRUSTED,
                headers=dict(bearer(t["access_token"]), **{"X-Forwarded-Uri": "/api/x"}))
    assert r.status == 403 and r.header("X-Auth-Subject") is None
    # The same from a trusted peer gets a verdict.
    r = request(gw.port, "GET", "/_verify", headers=dict(bearer(t["access_token"]), **{"X-Forwarded-Uri": "/api/x"}))
    assert r.status == 200 and r.header("X-Auth-Subject") == "bob"
    # Envoy ext_authz style: the original path after the verify path.
    r = request(gw.port, "POST", "/_verify/write/x", headers=bearer(t["access_token"]))
    assert r.status == 403 and 'error="insufficient_scope"' in r.header("WWW-Authenticate")
    r = request(gw.port, "GET", "/_verify", headers=bearer(t["access_token"]))
    assert r.status == 400
