"""Hardening of what reaches upstreams: identity headers forged with `_` spellings, `_`
header names in general, the host (canonical, never truncated, validated), the gateway's
own cookies, and URL/method override headers. Every test reads what the recording
upstream really received."""
import json
import time

import subprocess

import jwt
import pytest

from authkit import AUDIENCE, ENV, ISSUER, SECRET, login, token_config
from conftest import BINARY, raw_exchange, status_of


def fold(name):
    """How CGI/WSGI/PHP/Rack read a header name: case-insensitive, `_` and `-` alike."""
    return name.lower().replace("_", "-")


def token(sub="mallory", **claims):
    now = int(time.time())
    c = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "nbf": now, "exp": now + 300,
         "jti": "j-%d-%s" % (now, sub), "scope": "read"}
    c.update(claims)
    return jwt.encode(c, SECRET, algorithm="HS256", headers={"typ": "at+jwt", "kid": "hs1"})


def send(gw, path, headers, host="h", method="GET", target=None):
    """One raw request (header lines exactly as given), Connection: close; returns the bytes."""
    lines = ["%s %s HTTP/1.1" % (method, target or path)]
    if host is not None:
        lines.append("Host: " + host)
    lines += ["%s: %s" % (k, v) for k, v in headers]
    lines += ["Connection: close", "", ""]
    data = "\r\n".join(lines).encode("utf-8")
    return raw_exchange(gw.port, data)


def check(gw):
    """`gateway check` on the (not started) gateway's configuration."""
    gw.write_config()
    return subprocess.run([BINARY, "check", "--config", gw.config_path], env=gw.env, capture_output=True,
                          timeout=30)


def last_hit(upstream, path=None, timeout=3.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        hits = [h for h in upstream.hits() if path is None or h.path == path]
        if hits:
            return hits[-1]
        time.sleep(0.02)
    raise AssertionError("the upstream received no request for %s" % path)


def folded_values(req, name):
    """Every value the upstream got under `name` in any `_`/`-` and case spelling."""
    return [v for k, v in req.headers if fold(k) == fold(name)]


IDENTITY = ["X-Auth-Subject", "X-Auth-Scopes", "X-Auth-Roles", "X-Auth-Session", "X-Auth-Email"]

FORGED = [("X_Auth_Subject", "alice"), ("x_auth_roles", "admin"), ("X_AUTH_Scopes", "admin write"),
          ("X-Auth_Session", "s-1"), ("x_Auth-Email", "alice@example.com")]


@pytest.fixture
def auth_gw(gateway_factory, upstream, tmp_path):
    return gateway_factory(token_config(str(tmp_path), upstream.port), env=ENV)


# ---------------------------------------------------------------- 1. `_` identity forgery

def test_underscore_identity_forgery_on_required_route(auth_gw, upstream):
    out = send(auth_gw, "/api/x", [("Authorization", "Bearer " + token())] + FORGED)
    assert status_of(out) == 200, out[:200]
    req = last_hit(upstream, "/api/x")
    assert folded_values(req, "X-Auth-Subject") == ["mallory"], req.headers
    assert folded_values(req, "X-Auth-Scopes") == ["read"], req.headers
    for name in ("X-Auth-Roles", "X-Auth-Session", "X-Auth-Email"):
        assert folded_values(req, name) == [], (name, req.headers)


def test_underscore_identity_forgery_on_optional_route(auth_gw, upstream):
    out = send(auth_gw, "/opt/x", FORGED)
    assert status_of(out) == 200, out[:200]
    req = last_hit(upstream, "/opt/x")
    for name in IDENTITY:
        assert folded_values(req, name) == [], (name, req.headers)


# ---------------------------------------------------------------- 1. `_` names in general

def _two_routes(gateway_factory, upstream, loose_extra=None, top=None):
    up = "http://127.0.0.1:%d" % upstream.port
    loose = {"path": "/loose", "upstream": up, "auth": "none", "allow_underscores_in_headers": True,
             "request_headers": {"remove": ["X-Internal-Token"], "set": {"X-Tenant": "t1"}}}
    loose.update(loose_extra or {})
    cfg = {"identity_headers": {"claims": {"email": "X-Auth-Email"}}, "routes": [
        {"path": "/strict", "upstream": up, "auth": "none",
         "request_headers": {"remove": ["X-Internal-Token"]}},
        loose,
    ]}
    cfg.update(top or {})
    return gateway_factory(cfg)


def test_underscore_header_dropped_by_default(gateway_factory, upstream):
    up = "http://127.0.0.1:%d" % upstream.port
    gw = gateway_factory({"routes": [{"path": "/", "upstream": up, "auth": "none"}]})
    out = send(gw, "/a", [("X_Custom", "1"), ("X-Custom-Ok", "2"), ("X_Forwarded_For", "6.6.6.6")])
    assert status_of(out) == 200
    req = last_hit(upstream, "/a")
    names = [k for k, _ in req.headers]
    assert "X_Custom" not in names, req.headers
    assert req.header("X-Custom-Ok") == "2"
    assert folded_values(req, "X-Forwarded-For") == ["127.0.0.1"], req.headers


def test_remove_list_matches_underscore_spelling(gateway_factory, upstream):
    up = "http://127.0.0.1:%d" % upstream.port
    gw = gateway_factory({"routes": [{"path": "/", "upstream": up, "auth": "none",
                                      "request_headers": {"remove": ["X-Internal-Token"]}}]})
    out = send(gw, "/r", [("X_Internal_Token", "s3cret"), ("x-internal_token", "s3cret")])
    assert status_of(out) == 200
    req = last_hit(upstream, "/r")
    assert folded_values(req, "X-Internal-Token") == [], req.headers


def test_underscores_allowed_by_setting_but_never_for_identity_removed_or_set(gateway_factory, upstream):
    gw = _two_routes(gateway_factory, upstream)
    headers = [("X_Custom", "1"), ("X_Internal_Token", "s3cret"), ("x_tenant", "evil"),
               ("X_Forwarded_Host", "evil.example"), ("Content_Length", "99")] + FORGED
    assert status_of(send(gw, "/strict/a", headers)) == 200
    strict = last_hit(upstream, "/strict/a")
    assert [k for k, _ in strict.headers if "_" in k] == [], strict.headers

    assert status_of(send(gw, "/loose/a", headers)) == 200
    loose = last_hit(upstream, "/loose/a")
    assert loose.header("X_Custom") == "1", loose.headers
    assert folded_values(loose, "X-Internal-Token") == [], loose.headers
    assert folded_values(loose, "X-Tenant") == ["t1"], loose.headers
    assert folded_values(loose, "X-Forwarded-Host") == ["h"], loose.headers
    assert folded_values(loose, "Content-Length") == [], loose.headers
    for name in IDENTITY:
        assert folded_values(loose, name) == [], (name, loose.headers)


def test_underscores_allowed_at_top_level_and_refused_per_route(gateway_factory, upstream):
    gw = _two_routes(gateway_factory, upstream, loose_extra={"allow_underscores_in_headers": False},
                     top={"allow_underscores_in_headers": True})
    assert status_of(send(gw, "/strict/b", [("X_Custom", "1")])) == 200
    assert last_hit(upstream, "/strict/b").header("X_Custom") == "1"
    assert status_of(send(gw, "/loose/b", [("X_Custom", "1")])) == 200
    assert last_hit(upstream, "/loose/b").header("X_Custom") is None


def test_set_name_colliding_with_identity_after_folding_is_a_config_error(gateway_factory, upstream, tmp_path):
    cfg = token_config(str(tmp_path), upstream.port, routes=[
        {"path": "/", "upstream": "http://127.0.0.1:%d" % upstream.port, "auth": "none",
         "request_headers": {"set": {"X_Auth_Subject": "alice"}}}])
    out = check(gateway_factory(cfg, env=ENV, start=False))
    assert out.returncode != 0, out.stdout
    assert b"routes[0].request_headers.set" in out.stderr + out.stdout, out.stderr
    assert b"identity header" in out.stderr + out.stdout, out.stderr


# ---------------------------------------------------------------- 2. host canonical (trailing dot)

@pytest.fixture
def host_gw(gateway_factory, upstream, upstream2):
    """`admin` (host admin.example.com) and `ops` (host written `Ops.Example.COM.`) go to
    `upstream`; the public catch-all and `*.public.example.com` go to `upstream2`."""
    a = "http://127.0.0.1:%d" % upstream.port
    p = "http://127.0.0.1:%d" % upstream2.port
    return gateway_factory({"routes": [
        {"name": "admin", "path": "/", "host": "admin.example.com", "upstream": a, "auth": "none"},
        {"name": "ops", "path": "/", "host": "Ops.Example.COM.", "upstream": a, "auth": "none"},
        {"name": "public-wild", "path": "/", "host": "*.public.example.com", "upstream": p, "auth": "none"},
        {"name": "public", "path": "/", "upstream": p, "auth": "none"},
    ]})


def test_trailing_dot_host_reaches_host_route_and_is_forwarded_canonical(host_gw, upstream, upstream2):
    assert status_of(send(host_gw, "/t1", [], host="admin.example.com.")) == 200
    req = last_hit(upstream, "/t1")
    assert req.header("Host") == "admin.example.com"
    assert req.header("X-Forwarded-Host") == "admin.example.com"

    assert status_of(send(host_gw, "/t2", [], host="ADMIN.Example.com.:8080")) == 200
    req = last_hit(upstream, "/t2")
    assert req.header("Host") == "admin.example.com:8080"
    assert req.header("X-Forwarded-Host") == "admin.example.com:8080"

    # A configured host with upper case and a trailing dot is canonicalised the same way.
    assert status_of(send(host_gw, "/t3", [], host="ops.example.com")) == 200
    assert last_hit(upstream, "/t3").header("Host") == "ops.example.com"

    # The absolute-form target's authority wins over Host (RFC 9112 §3.2.2), canonicalised too.
    out = send(host_gw, "/t4", [], host="www.public.example.com", target="http://Admin.Example.com./t4")
    assert status_of(out) == 200
    req = last_hit(upstream, "/t4")
    assert req.header("Host") == "admin.example.com"
    assert not [h for h in upstream2.hits() if h.path.startswith("/t")]


# ---------------------------------------------------------------- 3. long host never truncated

def test_long_host_is_400_not_matched_on_a_truncated_prefix(host_gw, upstream, upstream2):
    prefix = "x." * 119 + "public.example.com"
    assert len(prefix) == 256
    host = prefix + ".admin.example.com"
    out = send(host_gw, "/long", [], host=host)
    assert status_of(out) == 400, out[:200]
    body = json.loads(out.split(b"\r\n\r\n", 1)[1])
    assert body["error"] == "invalid_request"
    assert not [h for h in upstream.hits() + upstream2.hits() if h.path == "/long"]
    # 253 bytes is still a host name: it routes normally.
    ok = ("a" * 63 + ".") * 3 + "b" * 42 + ".public.example.com"
    assert len(ok) == 253
    assert status_of(send(host_gw, "/ok253", [], host=ok)) == 200
    assert last_hit(upstream2, "/ok253").header("Host") == ok


@pytest.mark.parametrize("host", [
    "a b", "exa mple", "[::1", "host:99999", "host:", "host:0", "bücher.example", "a..b", "example.com..",
    "127.1", "0x7f.0.0.1", "[fe80::1%25eth0]", "[1::2::3]", "-a.example", "a%2eb",
])
def test_invalid_host_is_400(host_gw, upstream, upstream2, host):
    out = send(host_gw, "/bad", [], host=host)
    assert status_of(out) == 400, out[:200]
    assert json.loads(out.split(b"\r\n\r\n", 1)[1])["error"] == "invalid_request"
    assert not [h for h in upstream.hits() + upstream2.hits() if h.path == "/bad"]


def test_invalid_host_is_400_even_behind_an_absolute_target(host_gw, upstream, upstream2):
    out = send(host_gw, "/bad2", [], host="host:99999", target="http://admin.example.com/bad2")
    assert status_of(out) == 400, out[:200]
    assert not [h for h in upstream.hits() + upstream2.hits() if h.path == "/bad2"]


def test_invalid_route_host_is_a_config_error(gateway_factory, upstream):
    gw = gateway_factory({"routes": [{"path": "/", "host": "adm in.example.com", "auth": "none",
                                      "upstream": "http://127.0.0.1:%d" % upstream.port}]}, start=False)
    out = check(gw)
    assert out.returncode != 0, out.stdout
    assert b"routes[0].host" in out.stderr + out.stdout, out.stderr


# ---------------------------------------------------------------- 6. gateway cookies stripped

def test_refresh_cookie_never_reaches_upstreams(gateway_factory, upstream, tmp_path):
    up = "http://127.0.0.1:%d" % upstream.port
    cfg = token_config(str(tmp_path), upstream.port, auth={"refresh_cookie": {"name": "rt"}},
                       routes=[{"path": "/", "upstream": up, "auth": "none"}])
    gw = gateway_factory(cfg, env=ENV)
    r = login(gw)
    assert r.status_code == 200, r.text
    value = r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert len(value) > 10
    headers = [("Cookie", 'a=1; rt=%s; b="x y"' % value), ("Cookie", "rt=" + value), ("cookie", "c=3;rtx=4")]
    for path in ("/auth/refresh/x", "/app"):
        assert status_of(send(gw, path, headers)) == 200
        req = last_hit(upstream, path)
        # Fields without a gateway cookie pass byte for byte; the emptied one is dropped.
        assert req.all("Cookie") == ['a=1; b="x y"', "c=3;rtx=4"], req.headers
        assert all(value not in v for _, v in req.headers), req.headers


# ---------------------------------------------------------------- override headers dropped

OVERRIDES = [("X-Original-URL", "/admin"), ("X-Rewrite-URL", "/admin"), ("X-HTTP-Method-Override", "DELETE"),
             ("X-HTTP-Method", "DELETE"), ("X-Method-Override", "DELETE"), ("X-Original-Method", "DELETE")]


def test_url_and_method_override_headers_dropped_by_default(gateway_factory, upstream):
    up = "http://127.0.0.1:%d" % upstream.port
    gw = gateway_factory({"routes": [{"path": "/", "upstream": up, "auth": "none"}]})
    out = send(gw, "/o", OVERRIDES + [("X_Original_URL", "/admin")], method="POST")
    assert status_of(out) == 200
    req = last_hit(upstream, "/o")
    for name, _ in OVERRIDES:
        assert folded_values(req, name) == [], (name, req.headers)


def test_override_header_forwarded_when_the_route_lists_it(gateway_factory, upstream):
    up = "http://127.0.0.1:%d" % upstream.port
    gw = gateway_factory({"routes": [{"path": "/", "upstream": up, "auth": "none",
                                      "request_headers": {"forward": ["X-HTTP-Method-Override"]}}]})
    assert status_of(send(gw, "/f", OVERRIDES, method="POST")) == 200
    req = last_hit(upstream, "/f")
    assert req.header("X-HTTP-Method-Override") == "DELETE"
    assert folded_values(req, "X-Original-URL") == [], req.headers
