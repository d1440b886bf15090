"""Outside identity providers (issue 12): tokens of trusted issuers verified with keys
fetched over HTTPS (test CA) by discovery, claim mapping, key rotation, kid storms, JWKS
outages and issuer restrictions. Fetch counts are taken at the test IdP, not from the
gateway's metrics."""
import json
import random
import string
import threading
import time

import pytest
import requests

from authkit import ENV, call, token_config, upstream_headers
from conftest import free_port
from idpkit import IdP, trusted, wait_for
from tlskit import shared_pki


@pytest.fixture
def idp():
    i = IdP(shared_pki(), names=("kc", "auth0", "entra", "other"))
    yield i
    i.close()


def gateway_with(gateway_factory, tmp_path, upstream, issuers, routes=None, admin=False, **extra):
    up = "http://127.0.0.1:%d" % upstream.port
    cfg = token_config(str(tmp_path), upstream.port, tokens={"trusted_issuers": issuers}, routes=routes or [
        {"path": "/api", "upstream": up},
        {"path": "/read", "upstream": up, "scopes": ["read"]},
        {"path": "/admin", "upstream": up, "roles": ["admin"]},
    ])
    if admin:
        cfg["admin_listen"] = "127.0.0.1:%d" % free_port()
    cfg.update(extra)
    gw = gateway_factory(cfg, env=ENV)
    return gw


def ready(gw, issuer, token=None):
    """Waits until a token of `issuer` is accepted (its first key set arrived)."""
    return wait_for(lambda: call(gw, "/api", token or issuer.mint()).status_code == 200, timeout=10)


def test_authlib_rfc9068_tokens_behind_discovery(gateway_factory, tmp_path, upstream, idp):
    """authlib's RFC 9068 generator mints the tokens; the metadata is authlib's RFC 8414 model."""
    from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
    from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator

    iss = idp["other"]
    meta = AuthorizationServerMetadata({
        "issuer": iss.url, "jwks_uri": iss.url + "/jwks", "authorization_endpoint": iss.url + "/authorize",
        "token_endpoint": iss.url + "/token", "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
    })
    meta.validate()
    idp.metadata["other"] = dict(meta)
    kid = iss.current_kid
    from joserfc.jwk import KeySet, RSAKey  # authlib's own JOSE layer
    private = RSAKey.import_key(iss.private_pem(kid), {"kid": kid, "use": "sig", "alg": "RS256"})

    class Generator(JWTBearerTokenGenerator):
        def get_jwks(self):
            return KeySet([private])

        def get_audiences(self, client, user, scope):
            return ["api"]

        def get_extra_claims(self, client, grant_type, user, scope):
            return {"roles": ["admin"]}

    class Client:
        def get_client_id(self):
            return "client-7"

        def get_allowed_scope(self, scope):
            return scope

    class User:
        def get_user_id(self):
            return "alice@idp"

    gen = Generator(iss.url)
    token = gen.generate("authorization_code", Client(), user=User(), scope="read write")["access_token"]
    token = token.decode() if isinstance(token, bytes) else token
    assert json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[0] + "==")).get("typ") == "at+jwt"

    gw = gateway_with(gateway_factory, tmp_path, upstream, [
        trusted(iss, idp.ca_file, typ="at+jwt", claim_headers={"client_id": "X-Auth-Client"})])
    r = wait_for(lambda: (lambda r: r if r.status_code == 200 else None)(call(gw, "/read", token)))
    assert r is not None and r.status_code == 200
    h = upstream_headers(r)
    assert h["x-auth-subject"] == ["alice@idp"]
    assert h["x-auth-scopes"] == ["read write"]
    assert h["x-auth-roles"] == ["admin"]
    assert h["x-auth-client"] == ["client-7"]
    assert "authorization" not in h
    assert call(gw, "/admin", token).status_code == 200
    # at+jwt is required for this issuer: the same claims with typ JWT are refused.
    assert call(gw, "/api", iss.mint(typ="JWT")).status_code == 401
    assert iss.discovery_fetches >= 1 and iss.fetches() >= 1


def test_keycloak_auth0_entra_shaped_tokens(gateway_factory, tmp_path, upstream, idp):
    kc, a0, en = idp["kc"], idp["auth0"], idp["entra"]
    gw = gateway_with(gateway_factory, tmp_path, upstream, [
        trusted(kc, idp.ca_file, audiences=["api", "account"], roles_claim="realm_access.roles",
                claim_headers={"azp": "X-Auth-Client", "preferred_username": "X-Auth-User"},
                required_claims=["azp"]),
        trusted(a0, idp.ca_file, audiences=["https://api.example.com"], roles_claim="permissions"),
        trusted(en, idp.ca_file, audiences=["api://1111-2222"], scope_claim="scp", roles_claim="roles",
                claim_headers={"oid": "X-Auth-Object-Id"}),
    ])
    kc_token = kc.mint(typ="JWT", aud=["account", "api"], azp="web-app", scope="openid read",
                       preferred_username="alice", realm_access={"roles": ["admin", "offline_access"]},
                       resource_access={"web-app": {"roles": ["x"]}})
    assert ready(gw, kc, kc_token)
    r = call(gw, "/read", kc_token)
    assert r.status_code == 200, r.text
    h = upstream_headers(r)
    assert h["x-auth-subject"] == ["user-1"]
    assert h["x-auth-scopes"] == ["openid read"]
    assert h["x-auth-roles"] == ["admin,offline_access"]
    assert h["x-auth-client"] == ["web-app"]
    assert h["x-auth-user"] == ["alice"]
    assert call(gw, "/admin", kc_token).status_code == 200
    # A required claim missing, an audience not accepted: refused.
    assert call(gw, "/api", kc.mint(aud="api", scope="read")).status_code == 401
    assert call(gw, "/api", kc.mint(aud="someone-else", azp="web-app")).status_code == 401

    a0_token = a0.mint(typ="JWT", aud=["https://api.example.com", a0.url + "/userinfo"], azp="spa",
                       scope="openid read:messages read", permissions=["read:messages"])
    r = wait_for(lambda: (lambda r: r if r.status_code == 200 else None)(call(gw, "/read", a0_token)))
    assert r is not None
    h = upstream_headers(r)
    assert h["x-auth-scopes"] == ["openid read:messages read"]
    assert h["x-auth-roles"] == ["read:messages"]
    assert call(gw, "/admin", a0_token).status_code == 403

    en_token = en.mint(typ="JWT", aud="api://1111-2222", azp="c1", scp="read write", roles=["admin"],
                       oid="00000000-0000-0000-0000-000000000001", ver="2.0")
    r = wait_for(lambda: (lambda r: r if r.status_code == 200 else None)(call(gw, "/read", en_token)))
    assert r is not None
    h = upstream_headers(r)
    assert h["x-auth-scopes"] == ["read write"]
    assert h["x-auth-roles"] == ["admin"]
    assert h["x-auth-object-id"] == ["00000000-0000-0000-0000-000000000001"]
    # The gateway's own tokens keep working beside them.
    from authkit import tokens_for
    own = tokens_for(gw)["access_token"]
    assert call(gw, "/read", own).status_code == 200
    # An incoming copy of a claim header is never passed on.
    r = call(gw, "/api", en_token, headers={"X-Auth-Client": "forged", "X-Auth-Object-Id": "forged"})
    h = upstream_headers(r)
    assert "x-auth-client" not in h
    assert h["x-auth-object-id"] == ["00000000-0000-0000-0000-000000000001"]


def test_rotation_is_seen_after_exactly_one_extra_fetch(gateway_factory, tmp_path, upstream, idp):
    kc = idp["kc"]
    gw = gateway_with(gateway_factory, tmp_path, upstream, [trusted(kc, idp.ca_file)])
    assert ready(gw, kc)
    time.sleep(1.2)  # past the unknown-kid interval of the start-up fetch
    before = kc.fetches()
    assert before == 1
    new_kid = kc.rotate()
    token = kc.mint(kid=new_kid)
    statuses = []

    def accepted():
        s = call(gw, "/api", token).status_code
        statuses.append(s)
        return s == 200
    assert wait_for(accepted, timeout=5, step=0.02), statuses
    assert kc.fetches() == before + 1
    assert set(statuses) <= {200, 401}
    # Nothing more is fetched while the new key serves.
    for _ in range(50):
        assert call(gw, "/api", kc.mint(kid=new_kid)).status_code == 200
    time.sleep(1.2)
    assert kc.fetches() == before + 1


def test_random_kid_storm_costs_at_most_one_fetch_per_interval(gateway_factory, tmp_path, upstream, idp):
    kc = idp["kc"]
    gw = gateway_with(gateway_factory, tmp_path, upstream, [trusted(kc, idp.ca_file, unknown_kid_interval="2s")])
    assert ready(gw, kc)
    key = kc.keys[kc.current_kid]
    tokens = [kc.mint(kid="rnd-" + "".join(random.choices(string.ascii_lowercase, k=12)), key=key)
              for _ in range(1000)]
    # The start-up fetch counts for its interval: let it pass, so that the first unknown kid
    # may (and must) cause a fetch however fast the storm is over.
    time.sleep(2.2)
    before = kc.fetches()
    start = time.monotonic()
    codes = []
    lock = threading.Lock()

    def worker(chunk):
        s = requests.Session()
        for t in chunk:
            c = s.get(gw.url + "/api", headers={"Authorization": "Bearer " + t}, timeout=10).status_code
            with lock:
                codes.append(c)
    threads = [threading.Thread(target=worker, args=(tokens[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    elapsed = time.monotonic() - start
    deadline = time.monotonic() + 5  # the refetch runs in the background
    while kc.fetches() == before and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    extra = kc.fetches() - before
    assert codes.count(401) == 1000
    # One per started 2 s interval, at most (plus the one the interval boundary may start).
    assert extra <= int(elapsed / 2) + 1, (extra, elapsed)
    assert extra >= 1


def test_jwks_down_keeps_cached_keys_until_staleness_then_fails_closed(gateway_factory, tmp_path, upstream, idp):
    kc = idp["kc"]
    kc.max_age = 1
    gw = gateway_with(gateway_factory, tmp_path, upstream, [
        trusted(kc, idp.ca_file, min_refresh="1s", max_staleness="4s")])
    assert ready(gw, kc)
    kc.down = True
    down_at = time.monotonic()
    fetches_at_down = kc.fetches()
    served = []
    while time.monotonic() - down_at < 2.5:
        served.append(call(gw, "/api", kc.mint()).status_code)  # a new token each time: no cache hit
        time.sleep(0.1)
    assert set(served) == {200}, served
    assert kc.fetches() > fetches_at_down  # it kept trying
    # Past max_staleness (4 s after the last good fetch): fail closed, with a clear log line.
    assert wait_for(lambda: call(gw, "/api", kc.mint()).status_code == 401, timeout=5)
    r = call(gw, "/api", kc.mint())
    assert r.status_code == 401
    assert "invalid_token" in r.headers.get("WWW-Authenticate", "")
    assert wait_for(lambda: "max_staleness" in gw.stderr(), timeout=2)
    line = [l for l in gw.stderr().splitlines() if "max_staleness" in l][0]
    assert kc.url in line and "refused" in line
    # The IdP comes back: tokens are accepted again.
    kc.down = False
    assert wait_for(lambda: call(gw, "/api", kc.mint()).status_code == 200, timeout=5)


def test_issuer_a_token_signed_with_issuer_b_key_is_refused(gateway_factory, tmp_path, upstream, idp):
    kc, en = idp["kc"], idp["entra"]
    gw = gateway_with(gateway_factory, tmp_path, upstream, [
        trusted(kc, idp.ca_file), trusted(en, idp.ca_file)])
    assert ready(gw, kc) and ready(gw, en)
    b_kid = en.current_kid
    # iss A, B's kid and key.
    forged = kc.mint(kid=b_kid, key=en.keys[b_kid])
    assert call(gw, "/api", forged).status_code == 401
    # iss A, A's kid, B's key.
    forged = kc.mint(kid=kc.current_kid, key=en.keys[b_kid])
    assert call(gw, "/api", forged).status_code == 401
    # iss B with B's key is fine, iss A with A's key too.
    assert call(gw, "/api", en.mint()).status_code == 200
    assert call(gw, "/api", kc.mint()).status_code == 200


def test_route_limited_to_issuer_a_refuses_issuer_b(gateway_factory, tmp_path, upstream, idp):
    kc, en = idp["kc"], idp["entra"]
    up = "http://127.0.0.1:%d" % upstream.port
    gw = gateway_with(gateway_factory, tmp_path, upstream, [trusted(kc, idp.ca_file), trusted(en, idp.ca_file)],
                      routes=[{"path": "/a", "upstream": up, "issuers": [kc.url]},
                              {"path": "/api", "upstream": up}])
    assert ready(gw, kc) and ready(gw, en)
    b_token = en.mint()
    assert call(gw, "/api", b_token).status_code == 200
    r = call(gw, "/a", b_token)
    assert r.status_code == 401
    assert call(gw, "/a", kc.mint()).status_code == 200
    # The gateway's own tokens are another issuer: refused there too.
    from authkit import tokens_for
    assert call(gw, "/a", tokens_for(gw)["access_token"]).status_code == 401


def test_readiness_names_the_issuer_without_keys(gateway_factory, tmp_path, upstream, idp):
    kc, en = idp["kc"], idp["entra"]
    en.down = True
    gw = gateway_with(gateway_factory, tmp_path, upstream, [trusted(kc, idp.ca_file), trusted(en, idp.ca_file)],
                      admin=True)
    admin = "http://" + gw.config["admin_listen"]

    def not_ready_reason():
        r = requests.get(admin + "/readyz", timeout=5)
        return r.status_code == 503 and r.json()["reason"]
    reason = wait_for(lambda: (lambda x: x if x and en.url in x else None)(not_ready_reason()), timeout=5)
    assert reason and en.url in reason and kc.url not in reason
    assert call(gw, "/api", en.mint()).status_code == 401
    metrics = requests.get(admin + "/metrics", timeout=5).text
    assert 'gateway_issuer_ready{issuer="%s"} 0' % en.url in metrics
    assert wait_for(lambda: 'gateway_issuer_ready{issuer="%s"} 1' % kc.url in
                    requests.get(admin + "/metrics", timeout=5).text)
    en.down = False
    assert wait_for(lambda: requests.get(admin + "/readyz", timeout=5).status_code == 200, timeout=15)


def test_bad_issuer_configuration_is_a_clear_startup_error(tmp_path, upstream, idp):
    import subprocess
    from conftest import BINARY
    kc = idp["kc"]
    cases = [
        ({"issuer": kc.url, "audiences": ["api"]}, "needs exactly one of jwks_uri"),
        ({"issuer": kc.url, "jwks_uri": "http://idp.example.com/jwks", "audiences": ["api"]}, "https://"),
        ({"issuer": kc.url, "discovery": True}, "audiences"),
        ({"issuer": kc.url, "discovery": True, "audiences": ["api"], "algorithms": ["HS256"]}, "asymmetric"),
    ]
    for entry, message in cases:
        cfg = token_config(str(tmp_path), upstream.port, tokens={"trusted_issuers": [entry]})
        path = tmp_path / "gateway.json"
        path.write_text(json.dumps(cfg))
        out = subprocess.run([BINARY, "check", "--config", str(path)], capture_output=True, text=True, timeout=30,
                             env=dict(ENV))
        assert out.returncode != 0 and message in out.stderr + out.stdout, (entry, out.stderr)
    cfg = token_config(str(tmp_path), upstream.port, routes=[
        {"path": "/x", "upstream": "http://127.0.0.1:%d" % upstream.port, "issuers": ["https://nobody"]}])
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps(cfg))
    out = subprocess.run([BINARY, "check", "--config", str(path)], capture_output=True, text=True, timeout=30)
    assert out.returncode != 0 and "routes[0].issuers" in out.stderr + out.stdout


def test_reload_keeps_issuer_keys_and_applies_new_issuer_settings(gateway_factory, tmp_path, upstream, idp):
    """SIGHUP: every worker swaps to the new runtime; an unchanged issuer keeps its keys (the
    IdP is down during the reload), a changed policy applies at once."""
    import signal
    kc, en = idp["kc"], idp["entra"]
    gw = gateway_with(gateway_factory, tmp_path, upstream, [trusted(kc, idp.ca_file)], admin=True, workers=2)
    assert ready(gw, kc)
    fetches = kc.fetches()
    kc.down = True
    cfg = dict(gw.config)
    cfg["tokens"] = dict(cfg["tokens"], trusted_issuers=[trusted(kc, idp.ca_file), trusted(en, idp.ca_file)])
    gw.write_config(cfg)
    gw.signal(signal.SIGHUP)
    assert wait_for(lambda: call(gw, "/api", en.mint()).status_code == 200, timeout=10)  # the new issuer
    for _ in range(40):  # both workers, over new connections: the carried-over keys serve
        assert requests.get(gw.url + "/api", headers={"Authorization": "Bearer " + kc.mint(),
                                                     "Connection": "close"}, timeout=5).status_code == 200
    admin = "http://" + gw.config["admin_listen"]
    assert requests.get(admin + "/readyz", timeout=5).status_code == 200
    assert kc.fetches() > fetches  # the new generation tried to fetch, and failed: keys kept
    # Dropping the issuer: its tokens are refused after the next reload.
    cfg["tokens"] = dict(cfg["tokens"], trusted_issuers=[trusted(en, idp.ca_file)])
    gw.write_config(cfg)
    gw.signal(signal.SIGHUP)
    assert wait_for(lambda: call(gw, "/api", kc.mint()).status_code == 401, timeout=10)
    assert call(gw, "/api", en.mint()).status_code == 200


def test_key_fetch_redirects_and_timeouts(gateway_factory, tmp_path, upstream, idp):
    """The HTTP client: a same-origin redirect is followed, one to another origin is refused,
    a server that does not answer in fetch_timeout is a failed fetch (and the loop goes on)."""
    kc, a0, en = idp["kc"], idp["auth0"], idp["entra"]
    idp.redirects["auth0"] = "https://localhost:%d/auth0/jwks" % idp.port  # same server, other origin
    gw = gateway_with(gateway_factory, tmp_path, upstream, [
        dict(trusted(kc, idp.ca_file), discovery=False, jwks_uri=kc.url + "/moved-jwks"),
        dict(trusted(a0, idp.ca_file), discovery=False, jwks_uri=a0.url + "/moved-jwks"),
        dict(trusted(en, idp.ca_file), discovery=False, jwks_uri=en.url + "/slow-jwks", fetch_timeout="500ms"),
    ])
    assert ready(gw, kc)
    assert wait_for(lambda: "redirect refused" in gw.stderr() and "no complete answer in time" in gw.stderr(),
                    timeout=5), gw.stderr()[-2000:]
    assert call(gw, "/api", a0.mint()).status_code == 401
    assert call(gw, "/api", en.mint()).status_code == 401
    # The loop is not stuck behind the slow server: the redirected issuer keeps serving.
    assert call(gw, "/api", kc.mint()).status_code == 200


def test_logout_revokes_an_outside_token_by_its_jti_only(gateway_factory, tmp_path, upstream, idp):
    """Outside tokens are verified statelessly; logout with one revokes exactly that token (its
    jti), never a session or subject of the gateway's own that its sid or sub might spell."""
    kc = idp["kc"]
    gw = gateway_with(gateway_factory, tmp_path, upstream, [trusted(kc, idp.ca_file)])
    assert ready(gw, kc)
    token, other = kc.mint(), kc.mint()
    assert call(gw, "/api", token).status_code == 200
    r = requests.post(gw.url + "/auth/logout", headers={"Authorization": "Bearer " + token}, timeout=10)
    assert r.status_code == 204, r.text
    refused = call(gw, "/api", token)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    # Another token of the same user and issuer (another jti) is untouched.
    assert call(gw, "/api", other).status_code == 200
    # "Everywhere" would name a subject of another issuer: refused, nothing revoked.
    r = requests.post(gw.url + "/auth/logout?all=true", headers={"Authorization": "Bearer " + other}, timeout=10)
    assert r.status_code == 400, r.text
    assert call(gw, "/api", other).status_code == 200
    # A forged outside token (signed with another key) is no credential for logout either.
    forged = kc.mint(key=idp["entra"].keys[idp["entra"].current_kid])
    r = requests.post(gw.url + "/auth/logout", headers={"Authorization": "Bearer " + forged}, timeout=10)
    assert r.status_code == 401
    assert call(gw, "/api", other).status_code == 200
