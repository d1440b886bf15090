"""Issue 14: discovery metadata, clients, client_credentials, RFC 7009 revocation and RFC 7662
introspection, with stock clients (authlib, requests-oauthlib, PyJWT)."""
import base64
import time

import jwt
import pytest
import requests
from flask import Flask
from authlib.integrations.flask_client import OAuth
from authlib.integrations.requests_client import OAuth2Session
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session as OAuthlibSession

from authkit import AUDIENCE, ENV, PASSWORD, login, upstream_headers
from tokensvc import cc_token, client_secret, introspect, service_config, start_service

META = "/.well-known/oauth-authorization-server"


@pytest.fixture
def gw(gateway_factory, upstream, tmp_path):
    return start_service(gateway_factory, service_config(str(tmp_path), upstream.port), env=ENV)


def metadata(gw):
    r = requests.get(gw.url + META, timeout=10)
    assert r.status_code == 200, r.text
    return r


def bearer(token):
    return {"Authorization": "Bearer " + token}


# --- done means 1: stock clients -------------------------------------------------------

def test_authlib_registry_uses_server_metadata_url(gw):
    """authlib's registry loads the metadata from server_metadata_url and takes the token
    endpoint from it; the revocation goes to the revocation_endpoint it found."""
    app = Flask(__name__)
    oauth = OAuth(app)
    oauth.register("gw", client_id="billing", client_secret=client_secret("billing")[0],
                   server_metadata_url=gw.url + META,
                   client_kwargs={"token_endpoint_auth_method": "client_secret_basic", "timeout": 10})
    with app.app_context():
        client = oauth.create_client("gw")
        token = client.fetch_access_token(grant_type="client_credentials")
        found = client.load_server_metadata()
    assert found["token_endpoint"] == gw.url + "/oauth/token"
    assert token["token_type"].lower() == "bearer" and "refresh_token" not in token
    assert requests.get(gw.url + "/api/x", headers=bearer(token["access_token"]), timeout=10).status_code == 200

    session = OAuth2Session(client_id="billing", client_secret=client_secret("billing")[0],
                            revocation_endpoint_auth_method="client_secret_post")
    r = session.revoke_token(found["revocation_endpoint"], token=token["access_token"],
                             token_type_hint="access_token", timeout=10)
    assert r.status_code == 200
    assert requests.get(gw.url + "/api/x", headers=bearer(token["access_token"]), timeout=10).status_code == 401


def test_authlib_session_password_grant_and_revocation_from_metadata(gw):
    """A confidential web app: password grant with client_secret_basic at the metadata's
    token endpoint, then revoking the refresh token revokes the family's access token."""
    meta = metadata(gw).json()
    session = OAuth2Session(client_id="webapp", client_secret=client_secret("webapp")[0],
                            token_endpoint_auth_method="client_secret_basic",
                            revocation_endpoint_auth_method="client_secret_basic",
                            token_endpoint=meta["token_endpoint"])
    token = session.fetch_token(meta["token_endpoint"], username="alice", password=PASSWORD, timeout=10)
    assert requests.get(gw.url + "/api/x", headers=bearer(token["access_token"]), timeout=10).status_code == 200
    r = session.revoke_token(meta["revocation_endpoint"], token=token["refresh_token"],
                             token_type_hint="refresh_token", timeout=10)
    assert r.status_code == 200
    # The very next request with the family's access token fails.
    r = requests.get(gw.url + "/api/x", headers=bearer(token["access_token"]), timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    # And the refresh token is dead.
    r = requests.post(meta["token_endpoint"], data={"grant_type": "refresh_token",
                                                    "refresh_token": token["refresh_token"]},
                      auth=("webapp", client_secret("webapp")[0]), timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_requests_oauthlib_backend_application_client(gw, upstream, monkeypatch):
    # oauthlib refuses http:// unless told (the TLS run, GATEWAY_TEST_TLS=1, needs no override).
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    meta = metadata(gw).json()
    session = OAuthlibSession(client=BackendApplicationClient(client_id="billing"))
    token = session.fetch_token(token_url=meta["token_endpoint"], client_id="billing",
                                client_secret=client_secret("billing")[0], timeout=10)
    assert token["expires_in"] == 60 and token["scope"] == ["read", "invoices:write"]
    r = session.get(gw.url + "/api/echo", timeout=10)
    assert r.status_code == 200, r.text
    seen = upstream_headers(r)
    assert seen["x-auth-subject"] == ["billing"]
    assert seen["x-auth-scopes"] == ["read invoices:write"]


def test_pyjwt_finds_the_keys_through_jwks_uri(gw):
    meta = metadata(gw).json()
    token = cc_token(gw).json()["access_token"]
    key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["ES256"], audience=AUDIENCE, issuer=meta["issuer"])
    # RFC 9068 §2.2: sub and client_id are the client; no session.
    assert claims["sub"] == "billing" and claims["client_id"] == "billing" and "sid" not in claims
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"


def test_wrong_client_secret_is_throttled(gw):
    throttle_limit = 5   # auth.throttle.max_failures_per_user default
    codes = []
    for _ in range(throttle_limit + 2):
        r = requests.post(gw.url + "/oauth/token", data={"grant_type": "client_credentials"},
                          auth=("billing", "wrong-secret"), timeout=30)
        codes.append(r.status_code)
        if r.status_code == 401:
            assert r.json()["error"] == "invalid_client"
            assert r.headers["WWW-Authenticate"].startswith("Basic")
    assert codes[:throttle_limit] == [401] * throttle_limit, codes
    assert codes[-1] == 429, codes
    r = requests.post(gw.url + "/oauth/token", data={"grant_type": "client_credentials"},
                      auth=("billing", "wrong-secret"), timeout=30)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    # An unknown client id is throttled too (and costs a hash, like an unknown user).
    for _ in range(throttle_limit):
        assert requests.post(gw.url + "/oauth/token", data={"grant_type": "client_credentials"},
                             auth=("nobody", "x"), timeout=30).status_code == 401
    assert requests.post(gw.url + "/oauth/token", data={"grant_type": "client_credentials"},
                         auth=("nobody", "x"), timeout=30).status_code == 429


# --- done means 2: every metadata field is true ----------------------------------------

def test_every_metadata_field_is_true(gw):
    r = metadata(gw)
    assert "max-age" in r.headers["Cache-Control"] and "public" in r.headers["Cache-Control"]
    meta = r.json()
    oidc = requests.get(gw.url + "/.well-known/openid-configuration", timeout=10)
    assert oidc.status_code == 200 and oidc.json() == meta
    checked = set()

    # issuer: exactly the iss of issued tokens (client credentials and password grant).
    cc = cc_token(gw).json()["access_token"]
    user = login(gw).json()["access_token"]
    for t in (cc, user):
        assert jwt.decode(t, options={"verify_signature": False})["iss"] == meta["issuer"] == gw.url
    checked.add("issuer")

    # token_endpoint + grant types: each listed grant works there.
    assert meta["token_endpoint"] == gw.url + "/oauth/token"
    grants = meta["grant_types_supported"]
    assert sorted(grants) == ["client_credentials", "password", "refresh_token"]
    pw = requests.post(meta["token_endpoint"], data={"grant_type": "password", "username": "alice",
                                                     "password": PASSWORD, "client_id": "public-app"},
                       timeout=30)
    assert pw.status_code == 200, pw.text
    rt = requests.post(meta["token_endpoint"], data={"grant_type": "refresh_token",
                                                     "refresh_token": pw.json()["refresh_token"]}, timeout=10)
    assert rt.status_code == 200, rt.text
    assert cc_token(gw).status_code == 200
    checked |= {"token_endpoint", "grant_types_supported"}

    # token endpoint auth methods: none (a public client above), basic and post.
    methods = meta["token_endpoint_auth_methods_supported"]
    assert sorted(methods) == ["client_secret_basic", "client_secret_post", "none"]
    assert cc_token(gw, method="basic").status_code == 200
    assert cc_token(gw, method="post").status_code == 200
    checked.add("token_endpoint_auth_methods_supported")

    # jwks_uri: serves the key that verifies the tokens.
    jwks = requests.get(meta["jwks_uri"], timeout=10).json()
    assert [k["kid"] for k in jwks["keys"]] == ["ec1"]
    jwt.decode(cc, jwt.PyJWK(jwks["keys"][0]).key, algorithms=["ES256"], audience=AUDIENCE)
    checked.add("jwks_uri")

    # revocation endpoint with each listed method.
    assert sorted(meta["revocation_endpoint_auth_methods_supported"]) == sorted(methods)
    for m in meta["revocation_endpoint_auth_methods_supported"]:
        t = cc_token(gw).json()["access_token"]
        data = {"token": t}
        kw = {}
        if m == "client_secret_basic":
            kw["auth"] = ("billing", client_secret("billing")[0])
        elif m == "client_secret_post":
            data.update(client_id="billing", client_secret=client_secret("billing")[0])
        r = requests.post(meta["revocation_endpoint"], data=data, timeout=10, **kw)
        assert r.status_code == 200, (m, r.text)
        assert requests.get(gw.url + "/api/x", headers=bearer(t), timeout=10).status_code == 401, m
    checked |= {"revocation_endpoint", "revocation_endpoint_auth_methods_supported"}

    # introspection endpoint with each listed method.
    assert sorted(meta["introspection_endpoint_auth_methods_supported"]) == [
        "client_secret_basic", "client_secret_post"]
    live = cc_token(gw).json()["access_token"]
    for m in meta["introspection_endpoint_auth_methods_supported"]:
        if m == "client_secret_basic":
            r = introspect(gw, live, url=meta["introspection_endpoint"])
        else:
            r = requests.post(meta["introspection_endpoint"],
                              data={"token": live, "client_id": "inspector",
                                    "client_secret": client_secret("inspector")[0]}, timeout=10)
        assert r.status_code == 200 and r.json()["active"] is True, (m, r.text)
    checked |= {"introspection_endpoint", "introspection_endpoint_auth_methods_supported"}

    assert checked == set(meta), set(meta) - checked   # no field left unproven


def test_metadata_lists_only_what_the_config_serves(gateway_factory, upstream, tmp_path):
    cfg = service_config(str(tmp_path), upstream.port,
                         token_service={"clients_file": None, "introspection_path": None, "revocation_path": None},
                         tokens={"keys": [{"kid": "hs1", "alg": "HS256", "secret_env": "GW_SECRET"}]})
    del cfg["auth"]["token_service"]["clients_file"]
    g = start_service(gateway_factory, cfg, env=ENV)
    meta = metadata(g).json()
    # HS256 only: nothing to publish; no clients: no secret methods, no client_credentials,
    # no introspection; revocation turned off.
    assert set(meta) == {"issuer", "token_endpoint", "grant_types_supported",
                         "token_endpoint_auth_methods_supported"}
    assert meta["grant_types_supported"] == ["password", "refresh_token"]
    assert meta["token_endpoint_auth_methods_supported"] == ["none"]


# --- client credentials: down-scoping, machine routes ----------------------------------

def test_scope_and_audience_are_only_narrowed(gw):
    r = cc_token(gw, scope="read")
    assert r.status_code == 200 and r.json()["scope"] == "read"
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "read" and claims["aud"] == AUDIENCE
    r = cc_token(gw, scope="read admin")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    r = cc_token(gw, audience="reports")
    assert r.status_code == 200
    assert jwt.decode(r.json()["access_token"], options={"verify_signature": False})["aud"] == "reports"
    # A token for another audience is not accepted by this gateway's routes.
    assert requests.get(gw.url + "/api/x", headers=bearer(r.json()["access_token"]),
                        timeout=10).status_code == 401
    r = cc_token(gw, audience="elsewhere")
    assert r.status_code == 400 and r.json()["error"] == "invalid_target"


def test_grants_are_per_client(gw):
    # webapp may not use client_credentials; billing may not use the password grant.
    r = cc_token(gw, client="webapp")
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"
    r = requests.post(gw.url + "/oauth/token", data={"grant_type": "password", "username": "alice",
                                                      "password": PASSWORD},
                      auth=("billing", client_secret("billing")[0]), timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"
    # client_credentials without client authentication.
    r = requests.post(gw.url + "/oauth/token", data={"grant_type": "client_credentials", "client_id": "billing"},
                      timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_bad_client_credentials_encodings(gw):
    post = lambda **kw: requests.post(gw.url + "/oauth/token", data={"grant_type": "client_credentials"},
                                      timeout=10, **kw)
    for header in ["Basic !!!notbase64", "Basic " + base64.b64encode(b"no-colon").decode(),
                   "Basic " + base64.b64encode(b"billing:%zz").decode()]:
        r = post(headers={"Authorization": header})
        assert r.status_code == 401 and r.json()["error"] == "invalid_client", header
    # Two methods at once (RFC 6749 §2.3).
    r = requests.post(gw.url + "/oauth/token",
                      data={"grant_type": "client_credentials", "client_secret": client_secret("billing")[0]},
                      auth=("billing", client_secret("billing")[0]), timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_routes_require_or_refuse_machine_tokens(gw):
    machine = cc_token(gw).json()["access_token"]
    user = login(gw).json()["access_token"]
    assert requests.get(gw.url + "/machine/x", headers=bearer(machine), timeout=10).status_code == 200
    r = requests.get(gw.url + "/machine/x", headers=bearer(user), timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
    assert requests.get(gw.url + "/human/x", headers=bearer(user), timeout=10).status_code == 200
    r = requests.get(gw.url + "/human/x", headers=bearer(machine), timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"


# --- revocation and introspection ------------------------------------------------------

def test_revocation_answers_200_for_unknown_tokens(gw):
    for t in ["nonsense", "a" * 64, "eyJhbGciOiJub25lIn0.e30."]:
        assert requests.post(gw.url + "/oauth/revoke", data={"token": t}, timeout=10).status_code == 200
    r = requests.post(gw.url + "/oauth/revoke", data={}, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = requests.post(gw.url + "/oauth/revoke", data={"token": "x"}, auth=("billing", "wrong"), timeout=30)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_a_client_token_is_revoked_only_by_its_client(gw):
    t = cc_token(gw).json()["access_token"]
    r = requests.post(gw.url + "/oauth/revoke", data={"token": t},
                      auth=("inspector", client_secret("inspector")[0]), timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"
    assert requests.get(gw.url + "/api/x", headers=bearer(t), timeout=10).status_code == 200


def test_introspection(gw):
    t = cc_token(gw).json()["access_token"]
    for _ in range(2):   # cold, then from the cache
        r = introspect(gw, t)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
        body = r.json()
        assert body["active"] is True and body["client_id"] == "billing" and body["sub"] == "billing"
        assert body["scope"] == "read invoices:write" and body["token_type"] == "Bearer"
        assert body["iss"] == gw.url and body["roles"] == ["service"]
    user = login(gw).json()
    body = introspect(gw, user["access_token"]).json()
    assert body["active"] is True and body["sub"] == "alice" and body["email"] == "alice@example.com"
    # Refresh tokens, garbage, another issuer's token: inactive.
    assert introspect(gw, user["refresh_token"]).json() == {"active": False}
    assert introspect(gw, "garbage").json() == {"active": False}
    foreign = jwt.encode({"iss": "https://other", "sub": "x", "aud": AUDIENCE, "exp": time.time() + 60},
                         "k" * 32, algorithm="HS256", headers={"typ": "at+jwt"})
    assert introspect(gw, foreign).json() == {"active": False}
    # Revoked: inactive at once, also when it was cached.
    assert requests.post(gw.url + "/oauth/revoke", data={"token": t},
                         auth=("billing", client_secret("billing")[0]), timeout=10).status_code == 200
    assert introspect(gw, t).json() == {"active": False}


def test_introspection_needs_an_allowed_client(gw):
    t = cc_token(gw).json()["access_token"]
    r = requests.post(gw.url + "/oauth/introspect", data={"token": t}, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = introspect(gw, t, client="billing")
    assert r.status_code == 403 and r.json()["error"] == "unauthorized_client"
    r = requests.post(gw.url + "/oauth/introspect", data={"token": t}, auth=("inspector", "wrong"), timeout=30)
    assert r.status_code == 401


def test_expired_token_is_inactive(gateway_factory, upstream, tmp_path):
    # A client's access_ttl above tokens.access_ttl is refused at start (revocations are kept
    # only that long), so billing's 60 s would not start: drop it.
    clients = {"billing": {"scope": "read"}, "inspector": {"introspect": True}}
    cfg = service_config(str(tmp_path), upstream.port, tokens={"access_ttl": "2s"}, clients=clients)
    g = start_service(gateway_factory, cfg, env=ENV)
    # Both clients' first authentication is a slow hash: do them before the 2 s start.
    assert introspect(g, "warm-up").json() == {"active": False}
    cc_token(g)
    t = cc_token(g).json()["access_token"]
    assert introspect(g, t).json()["active"] is True
    exp = jwt.decode(t, options={"verify_signature": False})["exp"]
    time.sleep(max(0, exp + 1.05 - time.time()))
    assert introspect(g, t).json() == {"active": False}


def test_client_ttl_above_the_access_ttl_is_a_startup_error(gateway_factory, upstream, tmp_path):
    cfg = service_config(str(tmp_path), upstream.port, tokens={"access_ttl": "30s"})
    g = gateway_factory(cfg, env=ENV, start=False)
    g.config["tokens"]["issuer"] = g.url
    with pytest.raises(RuntimeError):
        g.start()
    assert "access_ttl" in g.stderr()


def test_no_secret_in_the_logs(gw):
    secret = client_secret("billing")[0]
    t = cc_token(gw).json()["access_token"]
    user = login(gw).json()
    introspect(gw, t)
    introspect(gw, user["refresh_token"])
    requests.post(gw.url + "/oauth/revoke", data={"token": user["refresh_token"]}, timeout=10)
    logs = gw.stdout() + gw.stderr()
    for s in (secret, t, user["refresh_token"], client_secret("inspector")[0]):
        assert s not in logs


def test_clients_file_is_reloaded_on_sighup(gw, tmp_path):
    """A client added to the file works after SIGHUP, a removed one stops working; a broken
    file is refused and the running clients stay."""
    import json
    import signal

    from tokensvc import CLIENTS, write_clients

    assert cc_token(gw, client="billing").status_code == 200
    clients = {k: v for k, v in CLIENTS.items() if k != "billing"}
    clients["newjob"] = {"scope": "read"}
    write_clients(str(tmp_path), clients)
    gw.signal(signal.SIGHUP)
    deadline = time.time() + 10
    while time.time() < deadline and cc_token(gw, client="newjob").status_code != 200:
        time.sleep(0.1)
    assert cc_token(gw, client="newjob").status_code == 200
    r = cc_token(gw, client="billing")   # its remembered secret went with the old generation
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"

    with open(str(tmp_path / "clients.json"), "w") as f:
        json.dump({"clients": [{"client_id": "x"}]}, f)
    gw.signal(signal.SIGHUP)
    deadline = time.time() + 10
    while time.time() < deadline and "reload refused" not in gw.stderr():
        time.sleep(0.05)
    assert "reload refused" in gw.stderr() and "secret_hash" in gw.stderr()
    assert cc_token(gw, client="newjob").status_code == 200
